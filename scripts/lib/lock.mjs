// An inter-process lock: a directory made atomically with mkdir, holding the
// owner's pid. A lock whose owner died is taken over. Used where two runs in
// one checkout (npm test beside npm run demo, say) must not interleave.

import fs from 'node:fs';
import path from 'node:path';

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

export async function withDirLock(lockDir, fn, { onWait } = {}) {
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
      if (owner && owner !== process.pid && alive(owner)) {
        if (!announced) onWait?.(owner);
        announced = true;
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      fs.rmSync(lockDir, { recursive: true, force: true });
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}
