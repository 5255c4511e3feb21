#!/usr/bin/env node
// Installs whatever the build and the tests need and is missing, and nothing
// else: quick (well under a second) when everything is present.
//
//   - the wasm32-unknown-unknown Rust target (rustup)
//   - wasm-pack, and wasm-bindgen-cli at exactly the version of the
//     wasm-bindgen crate in Cargo.lock (the CLI refuses any other)
//   - npm dev dependencies, with --ignore-scripts: @n8n/node-cli pulls in
//     eslint-plugin-n8n-nodes-base, whose preinstall runs `npx only-allow pnpm`
//   - Debian's chromium for the browser tests (playwright-core drives it; no
//     browser is ever downloaded)
//
// `npm test`, `npm run build` and `npm run demo` call this first.
// Usage: node scripts/setup.mjs [--toolchain-only|--npm-only]

import fs from 'node:fs';
import path from 'node:path';
import { ensureChromium } from './browser.mjs';
import { ROOT, capture, run } from './lib/proc.mjs';

const WASM_TARGET = 'wasm32-unknown-unknown';
const WASM_PACK_VERSION = '0.15.1';

export function wasmBindgenVersion() {
  const lock = fs.readFileSync(path.join(ROOT, 'Cargo.lock'), 'utf8');
  const m = lock.match(/name = "wasm-bindgen"\nversion = "([^"]+)"/);
  if (!m) throw new Error('Cargo.lock names no wasm-bindgen version');
  return m[1];
}

async function ensureToolchain() {
  const targets = capture('rustup', ['target', 'list', '--installed']);
  if (targets === null) throw new Error('rustup is not available; install Rust with rustup first (https://rustup.rs)');
  if (!targets.split('\n').includes(WASM_TARGET)) {
    console.log(`[setup] adding Rust target ${WASM_TARGET}`);
    await run('rustup', ['target', 'add', WASM_TARGET]);
  }
  const installs = [];
  const packVersion = capture('wasm-pack', ['--version']);
  if (packVersion === null) {
    console.log(`[setup] installing wasm-pack ${WASM_PACK_VERSION} (cargo install, a few minutes)`);
    installs.push(['wasm-pack', '--version', WASM_PACK_VERSION, '--locked']);
  }
  const wanted = wasmBindgenVersion();
  const have = capture('wasm-bindgen', ['--version']);
  if (have !== `wasm-bindgen ${wanted}`) {
    console.log(`[setup] installing wasm-bindgen-cli ${wanted} (have: ${have ?? 'none'}; cargo install, a few minutes)`);
    // Not --locked: its lock file pins a webpki-roots release the registry no longer serves.
    installs.push(['wasm-bindgen-cli', '--version', wanted, '--force']);
  }
  // One at a time: each build already uses every core.
  for (const args of installs) await run('cargo', ['install', ...args]);
}

function npmStampPath() {
  return path.join(ROOT, 'node_modules', '.amocrm-setup-stamp');
}

function npmInputs() {
  const lock = path.join(ROOT, 'package-lock.json');
  const pkg = fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8');
  const devDeps = JSON.stringify(JSON.parse(pkg).devDependencies);
  return devDeps + (fs.existsSync(lock) ? fs.readFileSync(lock, 'utf8').length : 'nolock');
}

async function ensureNpm() {
  const stamp = npmStampPath();
  const inputs = npmInputs();
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === inputs) return;
  const hasLock = fs.existsSync(path.join(ROOT, 'package-lock.json'));
  console.log(`[setup] installing npm dev dependencies (${hasLock ? 'npm ci' : 'npm install'})`);
  await run('npm', [hasLock ? 'ci' : 'install', '--ignore-scripts', '--no-audit', '--no-fund']);
  fs.writeFileSync(stamp, npmInputs());
}

export async function setup({ toolchain = true, npm = true, browser = false } = {}) {
  if (toolchain) await ensureToolchain();
  if (npm) await ensureNpm();
  // Debian's Chromium for the browser tests (apt-get when missing; never a browser download).
  if (browser) await ensureChromium();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const only = process.argv[2];
  const t0 = Date.now();
  await setup({ toolchain: only !== '--npm-only', npm: only !== '--toolchain-only', browser: !only });
  console.log(`[setup] ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}
