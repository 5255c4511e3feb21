// Process bookkeeping for the harness: every child runs in its own process
// group (detached), is tracked, and is killed (whole group) on cleanup, on
// normal exit of the test process, on SIGINT/SIGTERM/SIGHUP and — through a
// small watchdog process (reaper.mjs) — even when the test process is killed
// with SIGKILL.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REAPER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'reaper.mjs');

/** pgid -> ChildProcess, for every group started and not yet reaped. */
const live = new Map();
/** Folders to remove on exit (temp user folders). */
const tempDirs = new Set();

function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

function emergencyCleanup() {
  for (const pgid of live.keys()) killGroup(pgid, 'SIGKILL');
  live.clear();
  for (const d of tempDirs) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {}
  }
  tempDirs.clear();
}

let handlersInstalled = false;
function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', emergencyCleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      emergencyCleanup();
      // Re-raise with the default action so the exit status tells the truth.
      process.kill(process.pid, sig);
    });
  }
}

/**
 * Starts a watchdog that, once `process.pid` is gone, kills every process
 * group listed in `<stateDir>/pgids` and removes `removeDir`. It exits by
 * itself when `stateDir` disappears (normal cleanup).
 */
export function startReaper(stateDir, removeDir) {
  installExitHandlers();
  fs.writeFileSync(path.join(stateDir, 'pgids'), '');
  const child = spawn(process.execPath, [REAPER, String(process.pid), stateDir, removeDir], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child.pid;
}

export function registerTempDir(dir) {
  installExitHandlers();
  tempDirs.add(dir);
}

export function removeTempDir(dir) {
  tempDirs.delete(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * spawn() in a new process group, tracked until it exits.
 * `stateDir` (optional) gets the pgid appended for the reaper.
 */
export function spawnTracked(cmd, args, { stateDir, ...opts } = {}) {
  installExitHandlers();
  const child = spawn(cmd, args, { ...opts, detached: true });
  if (child.pid) {
    live.set(child.pid, child);
    if (stateDir) {
      try {
        fs.appendFileSync(path.join(stateDir, 'pgids'), `${child.pid}\n`);
      } catch {}
    }
    child.once('exit', () => {
      // The leader is gone; its group may still hold children (task runner).
      killGroup(child.pid, 'SIGKILL');
      live.delete(child.pid);
    });
  }
  return child;
}

/** SIGTERM the group, SIGKILL after `graceMs`; resolves when the leader exited. */
export async function stopGroup(child, graceMs = 5000) {
  if (!child?.pid) return;
  const pgid = child.pid;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    killGroup(pgid, 'SIGTERM');
    const timer = new Promise((r) => setTimeout(r, graceMs, 'timeout'));
    if ((await Promise.race([exited, timer])) === 'timeout') {
      killGroup(pgid, 'SIGKILL');
      await exited;
    }
  }
  killGroup(pgid, 'SIGKILL');
  live.delete(pgid);
}

/**
 * Runs a command to completion (in its own group), collecting output.
 * Resolves {code, signal, stdout, stderr, ms}; never rejects on non-zero exit.
 */
export function runTracked(cmd, args, { timeoutMs = 180_000, stateDir, ...opts } = {}) {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawnTracked(cmd, args, { stateDir, ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stopGroup(child, 2000);
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Date.now() - t0,
      });
    });
  });
}

export function liveGroupCount() {
  return live.size;
}
