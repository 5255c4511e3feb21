#!/usr/bin/env node
// `npm test`: everything, from a clean clone, with its own set-up.
//
//   set-up      Rust target, wasm-pack, wasm-bindgen-cli, npm dev dependencies;
//               both n8n versions install in the background meanwhile (cached
//               outside the repo, see scripts/n8n/install.mjs)
//   lint        n8n's lint rules, the community scanner's rules, strict tsc,
//               cargo fmt --check, cargo clippy -D warnings
//   cargo test  the Rust core natively (unit, golden, property tests)
//   build       the package (wasm + TypeScript)
//   node tests  TypeScript layer, packed tarball, emulator
//   e2e         real n8n 2.40.7 and 2.8.4 against the emulator
//   queue       queue mode: PostgreSQL, Redis, n8n main + 2 workers (QUEUE_FILES)
//   browser     the n8n 2.40.7 editor in headless Chromium, against the demo
//
// Prints how long each phase took and the test counts. Exit code 1 on any
// failure. Usage: node scripts/test.mjs [--skip-e2e] [--only-e2e]
// N8N_E2E_VERSIONS=2.8.4 narrows the e2e run to one version.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, fmtMs, phase, printTimings, run } from './lib/proc.mjs';

const args = new Set(process.argv.slice(2));
const started = Date.now();
const counts = [];

/** Runs a command, echoing its output, and returns everything it printed. */
function runCapture(cmd, argv, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      out += d;
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(Object.assign(new Error(`${cmd} ${argv.join(' ')} failed (exit ${code})`), { out }))));
  });
}

function cargoCounts(out) {
  let passed = 0;
  let failed = 0;
  for (const m of out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
  return { passed, failed };
}

/** node --test with a spec reporter on the console and TAP in a file for the counts. */
async function nodeTests(label, files, { env, concurrency } = {}) {
  const tap = path.join(ROOT, 'target', `node-tests-${label.replace(/\W+/g, '-')}.tap`);
  fs.mkdirSync(path.dirname(tap), { recursive: true });
  const argv = ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`];
  if (concurrency) argv.push(`--test-concurrency=${concurrency}`);
  try {
    await run(process.execPath, [...argv, ...files], { env: { ...process.env, ...env } });
  } finally {
    const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
    const num = (k) => Number(text.match(new RegExp(`^# ${k} (\\d+)`, 'm'))?.[1] ?? 0);
    counts.push({ label, passed: num('pass'), failed: num('fail'), skipped: num('skipped') + num('todo') });
  }
}

/**
 * The queue-mode tests (tests/e2e/harness/cluster.mjs: PostgreSQL, Redis, n8n
 * main + 2 workers), run after e2e in their own phase, one file at a time.
 */
const QUEUE_FILES = ['tests/e2e/queue/tokens.test.mjs', 'tests/e2e/queue/rate-budget.test.mjs'];

const testFiles = (dir, re = /\.test\.mjs$/) =>
  fs
    .readdirSync(path.join(ROOT, dir))
    .filter((f) => re.test(f))
    .sort()
    .map((f) => path.join(dir, f));

let failed = false;
try {
  const { setup } = await import('./setup.mjs');
  const { ensureN8n } = await import('./n8n/install.mjs');
  const versions = (process.env.N8N_E2E_VERSIONS || '2.40.7,2.8.4').split(',').map((v) => v.trim()).filter(Boolean);

  await phase('set-up: toolchain and npm', () => setup({ browser: !args.has('--skip-e2e') }));
  // n8n installs take minutes on a fresh machine: they run while the rest does.
  const n8nReady = args.has('--skip-e2e')
    ? Promise.resolve()
    : (async () => {
        const t0 = Date.now();
        for (const v of versions) await ensureN8n(v);
        console.log(`[test] n8n ${versions.join(' and ')} ready after ${fmtMs(Date.now() - t0)}`);
      })();
  n8nReady.catch(() => {});

  if (!args.has('--only-e2e')) {
    const { lint } = await import('./lint.mjs');
    await phase('lint: n8n rules, scanner rules, tsc, rustfmt, clippy', () => lint());
    await phase('cargo test', async () => {
      const out = await runCapture('cargo', ['test', '--release', '--all-targets']);
      counts.push({ label: 'cargo test', ...cargoCounts(out), skipped: 0 });
    });
  }
  const { build } = await import('./build.mjs');
  await phase('build', () => build({ skipSetup: true }));
  if (!args.has('--only-e2e')) {
    await phase('node tests: TypeScript layer', () => nodeTests('node: TypeScript layer', testFiles('tests/node')));
    await phase('node tests: packed tarball', () => nodeTests('node: packed tarball', testFiles('tests/package')));
    await phase('node tests: emulator', () => nodeTests('node: emulator', testFiles('tests/emulator')));
  }
  if (!args.has('--skip-e2e')) {
    await phase('wait for n8n installs', () => n8nReady);
    let e2eFailure;
    await phase(`e2e: real n8n ${versions.join(', ')}`, () =>
      nodeTests('e2e: real n8n', testFiles('tests/e2e'), { env: { N8N_E2E_VERSIONS: versions.join(',') }, concurrency: 1 }),
    ).catch((e) => (e2eFailure = e));
    await phase(`queue: n8n ${versions.join(', ')} main + 2 workers, PostgreSQL, Redis`, () =>
      nodeTests('queue: n8n cluster', QUEUE_FILES, { env: { N8N_E2E_VERSIONS: versions.join(',') }, concurrency: 1 }),
    ).catch((e) => (e2eFailure ??= e));
    // The editor in headless Chromium, after the e2e suite (and even when it failed).
    if (versions.includes('2.40.7')) {
      await phase('browser: n8n 2.40.7 editor, headless Chromium', () =>
        nodeTests('browser: n8n editor', testFiles('tests/browser'), { concurrency: 1 }),
      ).catch((e) => (e2eFailure ??= e));
    }
    if (e2eFailure) throw e2eFailure;
  }
} catch (error) {
  failed = true;
  console.error(`\n[test] FAILED: ${error.message}`);
} finally {
  printTimings('Phases');
  console.log('\nTests');
  for (const c of counts) {
    console.log(`  ${c.label.padEnd(28)} ${String(c.passed).padStart(5)} passed  ${String(c.failed).padStart(3)} failed${c.skipped ? `  ${c.skipped} skipped` : ''}`);
  }
  const total = counts.reduce((a, c) => a + c.passed, 0);
  const bad = counts.reduce((a, c) => a + c.failed + c.skipped, 0);
  console.log(`  ${'total'.padEnd(28)} ${String(total).padStart(5)} passed  ${String(bad).padStart(3)} failed or skipped`);
  console.log(`\nnpm test ${failed || bad ? 'FAILED' : 'passed'} in ${fmtMs(Date.now() - started)}`);
  process.exitCode = failed || bad ? 1 : 0;
}
