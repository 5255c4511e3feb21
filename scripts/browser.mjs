#!/usr/bin/env node
// The browser the browser tests drive: Debian's Chromium, installed with
// apt-get when it is missing. Nothing here (nor playwright-core, which only
// drives it) downloads a browser build of its own.
//
// CLI:  node scripts/browser.mjs            installs if missing, prints the path
// API:  import { ensureChromium, CHROMIUM_ARGS } from './scripts/browser.mjs'
//       const executablePath = await ensureChromium();
//
// Plain Node ESM, no dependencies (runs before `npm install`).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withDirLock } from './lib/lock.mjs';
import { ROOT, run } from './lib/proc.mjs';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Flags for headless Chromium on a machine whose network is closed: without
 * the background-networking ones Chromium keeps trying Google's hosts.
 * A fresh, empty --user-data-dir is added by the caller (or by playwright's
 * launch(), which makes one).
 */
export const CHROMIUM_ARGS = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]);

function executable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Path of Debian's Chromium, installing the `chromium` package when it is
 * missing (as root: `apt-get update` then `apt-get install chromium`).
 * A quick no-op when it is there. Two callers at once install it once.
 */
export async function ensureChromium({ log = (...a) => console.error('[browser]', ...a) } = {}) {
  if (executable(CHROMIUM)) return CHROMIUM;
  if (process.platform !== 'linux' || !fs.existsSync('/usr/bin/apt-get')) {
    throw new Error(`${CHROMIUM} is missing and this is not a Debian-like Linux: install Chromium and link it there`);
  }
  const asRoot = process.getuid?.() === 0;
  const sudo = asRoot ? [] : ['sudo', '-n'];
  const apt = (args) => {
    const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
    return run(cmd, rest, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  const lockDir = path.join(os.tmpdir(), 'n8n-nodes-amocrm-kommo-chromium.lock');
  await withDirLock(
    lockDir,
    async () => {
      if (executable(CHROMIUM)) return;
      const t0 = Date.now();
      log(`${CHROMIUM} is missing: installing Debian's chromium package with apt-get (a minute or two)`);
      await apt(['update']);
      await apt(['install', '-y', '--no-install-recommends', 'chromium']);
      log(`chromium installed in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    },
    { onWait: (pid) => log(`waiting for another chromium install (pid ${pid})`) },
  );
  if (!executable(CHROMIUM)) throw new Error(`apt-get installed chromium, but ${CHROMIUM} is not there`);
  return CHROMIUM;
}

export { ROOT };

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await ensureChromium());
}
