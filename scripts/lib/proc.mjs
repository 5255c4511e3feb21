// Small helpers shared by the project's scripts: run a command, time a phase.
// Plain Node ESM, no dependencies (these run before `npm install`).

import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function fmtMs(ms) {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

const timings = [];

/** Runs `fn` as a named phase, printing its duration; records it for `printTimings`. */
export async function phase(name, fn) {
  const t0 = Date.now();
  console.log(`\n=== ${name}`);
  try {
    return await fn();
  } finally {
    const ms = Date.now() - t0;
    timings.push([name, ms]);
    console.log(`=== ${name}: ${fmtMs(ms)}`);
  }
}

export function printTimings(title = 'Timings') {
  if (!timings.length) return;
  console.log(`\n${title}`);
  const width = Math.max(...timings.map(([n]) => n.length));
  for (const [name, ms] of timings) console.log(`  ${name.padEnd(width)}  ${fmtMs(ms).padStart(8)}`);
}

/** Runs a command with inherited stdio; rejects with its exit code. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

/** Runs a command and returns its trimmed stdout, or null if it cannot run or fails. */
export function capture(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, ...opts });
  if (r.error || r.status !== 0) return null;
  return r.stdout.trim();
}
