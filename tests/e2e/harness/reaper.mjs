// Watchdog started by processes.mjs (detached, one per n8n instance):
//   node reaper.mjs <parentPid> <stateDir> <removeDir>
// While <parentPid> lives and <stateDir> exists it sleeps. If the parent dies
// without cleaning up (SIGKILL, crash), it kills every process group listed
// in <stateDir>/pgids (SIGTERM, then SIGKILL) and removes <removeDir>.
import fs from 'node:fs';

const [parentPid, stateDir, removeDir] = [Number(process.argv[2]), process.argv[3], process.argv[4]];

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};

const tick = async () => {
  if (!fs.existsSync(stateDir)) process.exit(0);
  if (alive(parentPid)) return;
  let pgids = [];
  try {
    pgids = fs.readFileSync(`${stateDir}/pgids`, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {}
  for (const g of pgids) {
    try {
      process.kill(-g, 'SIGTERM');
    } catch {}
  }
  await new Promise((r) => setTimeout(r, 3000));
  for (const g of pgids) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {}
  }
  try {
    fs.rmSync(removeDir, { recursive: true, force: true });
  } catch {}
  process.exit(0);
};

setInterval(tick, 1000);
