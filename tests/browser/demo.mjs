// `npm run demo` as the browser tests use it: scripts/demo.mjs itself (the
// emulator with demo data, a real n8n with the package, the owner, three
// credentials and the example workflows), started as a child process the way
// tests/e2e/demo.test.mjs starts it, and stopped with Ctrl-C (SIGINT), which
// makes the demo stop n8n and the emulator.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ROOT } from '../e2e/support.mjs';

/**
 * Starts the demo with n8n `version` (no build: the package must be built)
 * and resolves once it is ready with what its --ready-file holds:
 * {url, email, password, emulator, workflows}, plus stop() and output().
 */
export async function startDemo({ version = '2.40.7', timeoutMs = 600_000 } = {}) {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'shared', 'wasm', 'amocrm_core.js'))) {
    throw new Error('dist/ is not built: run `npm run build` first (npm test builds before it runs the suites)');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'amocrm-browser-demo-'));
  const readyFile = path.join(dir, 'ready.json');
  const t0 = Date.now();
  const child = spawn(process.execPath, ['scripts/demo.mjs', '--no-build', '--n8n', version, '--ready-file', readyFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // If this test process ends without stop(), the demo must not outlive it.
  const killOnExit = () => child.exitCode === null && child.kill('SIGINT');
  process.once('exit', killOnExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  for (;;) {
    if (fs.existsSync(readyFile)) {
      try {
        const ready = JSON.parse(fs.readFileSync(readyFile, 'utf8'));
        return { ...ready, version, startMs: Date.now() - t0, stop, output: () => output };
      } catch {
        // Being written: read it again.
      }
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`the demo exited before it was ready:\n${output.slice(-4000)}`);
    }
    if (Date.now() - t0 > timeoutMs) {
      await stop();
      throw new Error(`the demo was not ready after ${timeoutMs / 1000} s:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
