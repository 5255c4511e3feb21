// An inter-process lock: a directory made atomically with mkdir, holding the
// owner's pid. A lock whose owner died is taken over. Used where two runs
// must not interleave: two builds in one checkout (npm test beside npm run
// demo, say), two installs into the n8n cache (scripts/n8n/install.mjs).

import fs from 'node:fs';
import path from 'node:path';

/** Lock directories this process holds now. */
const held = new Set();

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * Runs `fn(lockDir)` holding the lock. `onWait(ownerPid)` is called once when
 * another owner makes us wait (polling every `pollMs`); `onStale(ownerPid)`
 * right before a dead owner's lock is taken over (0 when its pid is unknown).
 * The lock is removed when `fn` settles, or when the process exits first.
 */
export async function withDirLock(lockDir, fn, { onWait, onStale, pollMs = 500 } = {}) {
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let owner = 0;
      try {
        owner = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'));
      } catch {
        // Between the owner's mkdir and its pid write, or a crash right there.
        const age = Date.now() - (fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? 0);
        if (age < 10_000) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
      }
      // Our own pid in a lock we do not hold is a dead owner's, recycled.
      const live = owner === process.pid ? held.has(lockDir) : owner > 0 && alive(owner);
      if (live) {
        if (!announced) onWait?.(owner);
        announced = true;
        await new Promise((r) => setTimeout(r, pollMs));
        continue;
      }
      onStale?.(owner);
      fs.rmSync(lockDir, { recursive: true, force: true });
    }
  }
  held.add(lockDir);
  const release = () => fs.rmSync(lockDir, { recursive: true, force: true });
  process.once('exit', release);
  try {
    return await fn(lockDir);
  } finally {
    process.removeListener('exit', release);
    held.delete(lockDir);
    release();
  }
}
