// A real n8n QUEUE-MODE deployment for tests: a throwaway PostgreSQL, a
// redis-server without persistence, `n8n start` (main) and N `n8n worker`s,
// all on 127.0.0.1 on free ports, all sharing one user folder (with the
// community package installed), one N8N_ENCRYPTION_KEY and one database.
// Production executions (webhooks, triggers) — and with
// OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS (on by default here) manual ones too —
// are put on the Bull queue in Redis by main and run by the workers.
//
//   const cluster = await createQueueCluster({ version: '2.40.7', workers: 2, packageTarball });
//   try { ... } finally { await cluster.stop(); }
//
// See the "Queue mode" section of README.md in this folder. Plain Node >= 20
// ESM, no dependencies. Everything is killed and removed by stop(), on
// failure during start, on exit / SIGINT / SIGTERM / SIGHUP (processes.mjs)
// and by a detached reaper if the test process is killed (reaper.mjs).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { ensureServices } from '../../../scripts/services.mjs';
import { CACHE_DIR, ensureN8n, withLock } from '../../../scripts/n8n/install.mjs';
import { DEFAULT_ENCRYPTION_KEY, N8nInstance, OWNER, getFreePort, installPackageTarball } from './index.mjs';
import { registerTempDir, removeTempDir, runTracked, spawnTracked, startReaper, stopGroup } from './processes.mjs';
import { RestError } from './rest.mjs';

const PG_DB = 'n8n';
const PG_USER = 'postgres';
const TEMPLATE_FORMAT = 1;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;
const tail40 = (s = '') => s.split('\n').slice(-40).join('\n');
const readText = (f) => {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};

// ---------------------------------------------------------------- helpers --

/** uid/gid of the `postgres` system user (initdb/postgres refuse to run as root). */
function postgresUser() {
  if (process.getuid?.() !== 0) return null; // not root: run them as ourselves
  const line = readText('/etc/passwd')
    .split('\n')
    .find((l) => l.startsWith(`${PG_USER}:`));
  if (!line)
    throw new Error("running as root but there is no `postgres` user (it comes with Debian's postgresql package)");
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function chownR(dir, user) {
  if (!user) return;
  const r = spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`chown -R ${dir} failed: ${r.stderr}`);
}

/** Polls `check()` every 100 ms until it resolves truthy; throws (with the log tail) if the process exits or on timeout. */
async function waitFor(label, check, { timeoutMs, exited, logFile }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = exited();
    if (e) throw new Error(`${label} exited (${e.code ?? e.signal}) before ready\n${tail40(readText(logFile))}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`${label} not ready after ${timeoutMs} ms\n${tail40(readText(logFile))}`);
    await sleep(100);
  }
}

function redisPing(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d;
      if (buf.includes('\r\n')) {
        s.destroy();
        resolve(buf.startsWith('+PONG'));
      }
    });
  });
}

async function httpOk(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.text();
  return res.status === 200;
}

/** Watches a child's exit: returns a getter for {code, signal} (null while running). */
function exitWatch(child) {
  let exited =
    child.exitCode !== null || child.signalCode !== null ? { code: child.exitCode, signal: child.signalCode } : null;
  child.once('exit', (code, signal) => (exited = { code, signal }));
  return () => exited;
}

/** Sends `signal` to the leader only, waits, then SIGKILLs the whole group. */
async function stopLeader(child, signal, graceMs) {
  if (!child?.pid) return;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(child.pid, signal);
    } catch {}
    if ((await Promise.race([exited, sleep(graceMs).then(() => 'timeout')])) === 'timeout') {
      await stopGroup(child, 1000);
      return;
    }
  }
  await stopGroup(child, 1000); // leftovers of the group, if any
}

// ------------------------------------------- PostgreSQL shared memory --
// A postmaster keeps a small (56-byte) SysV shared memory segment as an
// interlock against a second postmaster on the same data dir, and removes it
// on a clean shutdown. When it is SIGKILLed (the emergency paths of
// processes.mjs / reaper.mjs) the segment would stay in the kernel forever.
// A throwaway cluster is never restarted on its data dir, so the segment is
// marked for removal (IPC_RMID) as soon as postgres is up: the kernel then
// frees it when the last postgres process detaches, however they die.
// (Checked: SIGKILL of the whole cluster leaves no segment.)

function releaseShmOnExit(dataDir) {
  // postmaster.pid line 7: "<key> <shmid>"
  const line = readText(path.join(dataDir, 'postmaster.pid')).split('\n')[6] ?? '';
  const shmid = Number(line.trim().split(/\s+/)[1]);
  if (!Number.isInteger(shmid) || shmid < 0) return null;
  const r = spawnSync('ipcrm', ['-m', String(shmid)], { encoding: 'utf8' });
  if (r.status !== 0) console.error(`[cluster] warning: ipcrm -m ${shmid} failed: ${r.stderr || r.error}`);
  return shmid;
}

// ------------------------------------------------------------- postgres --

/**
 * Starts `postgres` on 127.0.0.1:<port> with `dataDir` (owned by the
 * postgres user when we are root), unix socket in `sockDir`. Settings for a
 * throwaway test database: no fsync, no full page writes, DSM in the data
 * dir (nothing in /dev/shm).
 */
export async function startPostgres({ services, user, dataDir, sockDir, port, logFile, stateDir, timeoutMs = 60_000 }) {
  const out = fs.openSync(logFile, 'a');
  const settings = {
    listen_addresses: '127.0.0.1',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    dynamic_shared_memory_type: 'mmap',
    shared_buffers: '64MB',
    max_connections: '200',
  };
  const child = spawnTracked(
    services.postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-k',
      sockDir,
      ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ],
    {
      cwd: path.dirname(dataDir),
      env: { PATH: process.env.PATH, LANG: 'C', LC_ALL: 'C', TZ: 'UTC' },
      stdio: ['ignore', out, out],
      stateDir,
      ...(user ?? {}),
    },
  );
  fs.closeSync(out);
  const exited = exitWatch(child);
  // Ready = postmaster.pid's status line (8th) says "ready" and the port answers.
  await waitFor(
    'postgres',
    async () => {
      const status = readText(path.join(dataDir, 'postmaster.pid')).split('\n')[7]?.trim();
      if (status !== 'ready') return false;
      return await new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
    },
    { timeoutMs, exited, logFile },
  );
  const shmid = releaseShmOnExit(dataDir);
  return {
    child,
    port,
    shmid,
    // SIGINT = "fast" shutdown: disconnects clients, checkpoint, exit.
    stop: () => stopLeader(child, 'SIGINT', 15_000),
  };
}

export async function initPostgresData({ services, user, dataDir, stateDir }) {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chownR(path.dirname(dataDir), user);
  const r = await runTracked(
    services.initdb,
    ['-D', dataDir, '-U', PG_USER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    {
      env: { PATH: process.env.PATH, LANG: 'C', LC_ALL: 'C', TZ: 'UTC' },
      cwd: path.dirname(dataDir),
      stateDir,
      timeoutMs: 120_000,
      ...(user ?? {}),
    },
  );
  if (r.code !== 0) throw new Error(`initdb failed (exit ${r.code}):\n${tail40(r.stdout)}\n${tail40(r.stderr)}`);
  // n8n's database (DB_POSTGRESDB_DATABASE), created in single-user mode:
  // no server, no client binaries needed. Takes ~0.2 s.
  const s = spawnSync(services.postgres, ['--single', '-D', dataDir, '-j', 'postgres'], {
    input: `CREATE DATABASE ${PG_DB};\n`,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, LANG: 'C', LC_ALL: 'C' },
    cwd: path.dirname(dataDir),
    timeout: 60_000,
    ...(user ?? {}),
  });
  if (s.status !== 0 || /ERROR/.test(s.stdout + s.stderr))
    throw new Error(`CREATE DATABASE ${PG_DB} failed (exit ${s.status}): ${s.stdout}${s.stderr}`);
}

// ---------------------------------------------------------------- redis --

export async function startRedis({ services, dir, port, logFile, stateDir, timeoutMs = 30_000 }) {
  const out = fs.openSync(logFile, 'a');
  const settings = {
    port: String(port),
    bind: '127.0.0.1',
    save: '', // no RDB snapshots
    appendonly: 'no', // no AOF
    dir,
    daemonize: 'no',
    'protected-mode': 'yes',
    loglevel: 'warning',
  };
  const child = spawnTracked(
    services.redisServer,
    Object.entries(settings).flatMap(([k, v]) => [`--${k}`, v]),
    { cwd: dir, env: { PATH: process.env.PATH }, stdio: ['ignore', out, out], stateDir },
  );
  fs.closeSync(out);
  const exited = exitWatch(child);
  await waitFor('redis-server', () => redisPing(port), { timeoutMs, exited, logFile });
  return { child, port, stop: () => stopGroup(child, 5000) };
}

// ------------------------------------------------ pre-migrated template --

/**
 * A PostgreSQL data directory with n8n's schema already migrated, cached per
 * PostgreSQL major × n8n install (`<cache>/templates/pg<major>-n8n-<version>/data`).
 * n8n 2.40.7 otherwise spends most of its first start on migrations. Built
 * once under a lock (initdb, postgres, `n8n list:workflow` in regular mode —
 * every n8n command migrates first —, clean shutdown), then copied with
 * `cp -a` into each cluster. Built with DEFAULT_ENCRYPTION_KEY; n8n seeds its
 * instance id and signing secret at the cluster's first start, not here.
 */
export async function ensurePgTemplate({ services, n8n, log = () => {} }) {
  const user = postgresUser();
  const major = String(services.pgVersion).split('.')[0];
  const n8nDir = path.resolve(path.dirname(n8n.n8nBin), '..', '..', '..');
  let stamp = '';
  try {
    stamp = JSON.parse(fs.readFileSync(path.join(n8nDir, '.installed.json'), 'utf8')).installedAt ?? '';
  } catch {}
  const dir = path.join(CACHE_DIR, 'templates', `pg${major}-n8n-${n8n.version}`);
  const markerFile = path.join(dir, 'template.json');
  const wanted = {
    format: TEMPLATE_FORMAT,
    pg: major,
    version: n8n.version,
    installStamp: stamp,
    owner: user?.uid ?? process.getuid?.(),
  };
  const isValid = () => {
    try {
      const m = JSON.parse(fs.readFileSync(markerFile, 'utf8'));
      return (
        ['format', 'pg', 'version', 'installStamp', 'owner'].every((k) => m[k] === wanted[k]) &&
        fs.existsSync(path.join(dir, 'data', 'PG_VERSION'))
      );
    } catch {
      return false;
    }
  };
  if (isValid()) return dir;
  return withLock(`pg-template-${n8n.version}`, async () => {
    if (isValid()) return dir;
    const t0 = Date.now();
    log(`building the pre-migrated PostgreSQL template (once per n8n install) in ${dir}`);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `n8n-e2e-pgtemplate-${n8n.version}-`));
    registerTempDir(work);
    startReaper(work, work);
    let pg;
    try {
      fs.chmodSync(work, 0o711);
      const pgDir = path.join(work, 'pg');
      const dataDir = path.join(pgDir, 'data');
      await initPostgresData({ services, user, dataDir, stateDir: work });
      const port = await getFreePort();
      pg = await startPostgres({
        services,
        user,
        dataDir,
        sockDir: pgDir,
        port,
        logFile: path.join(work, 'postgres.log'),
        stateDir: work,
      });
      const home = path.join(work, 'home');
      fs.mkdirSync(path.join(home, '.n8n'), { recursive: true });
      const inst = new N8nInstance({
        n8n,
        root: work,
        userFolder: home,
        env: { ...pgEnv(port), EXECUTIONS_MODE: 'regular' },
        logLevel: 'info',
      });
      const tmpDir = path.join(work, 'tmp');
      fs.mkdirSync(tmpDir);
      await inst.cli(['list:workflow'], { timeoutMs: 600_000, env: { TMPDIR: tmpDir } });
      await pg.stop();
      pg = null;
      if (fs.existsSync(path.join(dataDir, 'postmaster.pid'))) throw new Error('postgres did not shut down cleanly');
      // Under the lock: partial copies of interrupted builds can go.
      fs.mkdirSync(path.dirname(dir), { recursive: true });
      for (const f of fs.readdirSync(path.dirname(dir)))
        if (f.startsWith(`${path.basename(dir)}.partial-`))
          fs.rmSync(path.join(path.dirname(dir), f), { recursive: true, force: true });
      const partial = `${dir}.partial-${process.pid}`;
      fs.mkdirSync(partial, { recursive: true });
      const cp = spawnSync('cp', ['-a', dataDir, path.join(partial, 'data')], { encoding: 'utf8' });
      if (cp.status !== 0) throw new Error(`cp -a ${dataDir} failed: ${cp.stderr}`);
      fs.writeFileSync(markerFile.replace(dir, partial), JSON.stringify({ ...wanted, ms: Date.now() - t0 }, null, 2));
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(partial, dir);
      log(`template built in ${secs(Date.now() - t0)}`);
      return dir;
    } finally {
      if (pg) await pg.stop();
      removeTempDir(work);
    }
  });
}

// ------------------------------------------------------------- the env --

/** What points an n8n process at the cluster's PostgreSQL. */
function pgEnv(port) {
  return {
    DB_TYPE: 'postgresdb',
    DB_POSTGRESDB_HOST: '127.0.0.1',
    DB_POSTGRESDB_PORT: String(port),
    DB_POSTGRESDB_DATABASE: PG_DB,
    DB_POSTGRESDB_USER: PG_USER,
    DB_POSTGRESDB_PASSWORD: '', // initdb -A trust, listening on 127.0.0.1 only
    DB_POSTGRESDB_SCHEMA: 'public',
  };
}

/** Environment shared by main, the workers and every CLI command of a cluster. */
export function queueEnv({ pgPort, redisPort, offloadManual = true }) {
  return {
    ...pgEnv(pgPort),
    EXECUTIONS_MODE: 'queue',
    QUEUE_BULL_REDIS_HOST: '127.0.0.1',
    QUEUE_BULL_REDIS_PORT: String(redisPort),
    QUEUE_BULL_REDIS_DB: '0',
    // Manual executions (editor "Execute workflow", /rest/workflows/:id/run)
    // go to the workers too — and main needs no task runner then.
    OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: offloadManual ? 'true' : 'false',
  };
}

// ------------------------------------------------------------ the cluster --

/**
 * Starts PostgreSQL + Redis + `n8n start` + `workers` × `n8n worker`.
 *
 * @param {object} o
 * @param {string} [o.version='2.40.7']
 * @param {number} [o.workers=2]
 * @param {number} [o.workerConcurrency=10]  `n8n worker --concurrency` (n8n warns below 5)
 * @param {string} [o.packageTarball]        `npm pack` output, installed once in the shared user folder
 * @param {Record<string,string>} [o.env]    extra env for every n8n process (main, workers, CLI)
 * @param {Record<string,string>} [o.mainEnv]   extra env for main only
 * @param {Record<string,string>} [o.workerEnv] extra env for the workers only
 * @param {boolean} [o.offloadManual=true]   OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS
 * @param {boolean} [o.template=true]        start from the cached pre-migrated PostgreSQL data dir
 * @param {boolean} [o.ui=false]             serve the editor UI (N8N_DISABLE_UI=false): main then
 *                                           rewrites the 35 MB editor bundle at every start (~4 s CPU)
 * @param {boolean} [o.compileCache=true]    NODE_COMPILE_CACHE in the cache folder (~15% less CPU per boot)
 * @param {'info'|'debug'} [o.logLevel='info']  worker logs at info carry "Worker started execution N"
 * @param {boolean} [o.quiet=false]          no "[cluster] …" phase lines on stderr
 * @param {number} [o.timeoutMs=180000]
 */
export async function createQueueCluster({
  version = '2.40.7',
  workers = 2,
  workerConcurrency = 10,
  packageTarball,
  env = {},
  mainEnv = {},
  workerEnv = {},
  offloadManual = true,
  template = true,
  ui = false,
  compileCache = true,
  logLevel = 'info',
  encryptionKey = DEFAULT_ENCRYPTION_KEY,
  quiet = false,
  timeoutMs = 180_000,
} = {}) {
  if (!['info', 'debug'].includes(logLevel)) throw new Error(`createQueueCluster: logLevel must be info or debug`);
  const cluster = new QueueCluster({ version, workerConcurrency, quiet, mainEnv, workerEnv, timeoutMs });
  try {
    await cluster._start({
      workers,
      packageTarball,
      env,
      offloadManual,
      template,
      ui,
      compileCache,
      logLevel,
      encryptionKey,
    });
    return cluster;
  } catch (e) {
    await cluster.stop().catch(() => {});
    throw e;
  }
}

export class QueueCluster {
  constructor({ version, workerConcurrency, quiet, mainEnv, workerEnv, timeoutMs }) {
    this.version = version;
    this.workerConcurrency = workerConcurrency;
    this.quiet = quiet;
    this.mainEnv = mainEnv;
    this.workerEnv = workerEnv;
    this.timeoutMs = timeoutMs;
    /** [{phase, ms}] in order. */
    this.timings = [];
    /** @type {WorkerProcess[]} */
    this.workers = [];
    this.root = null;
    this.instance = null; // N8nInstance: CLI commands against the cluster's Postgres
    this.main = null; // N8nServer of `n8n start`
    this.postgres = null;
    this.redis = null;
    this.stopped = false;
    this._nextWorker = 1;
  }

  log(msg) {
    if (!this.quiet) console.error(`[cluster] ${msg}`);
  }

  async phase(name, fn) {
    const t0 = Date.now();
    const r = await fn();
    const ms = Date.now() - t0;
    this.timings.push({ phase: name, ms });
    this.log(`${name} in ${secs(ms)}`);
    return r;
  }

  async _start({ workers, packageTarball, env, offloadManual, template, ui, compileCache, logLevel, encryptionKey }) {
    const t0 = Date.now();
    const [services, n8n] = await this.phase('binaries ready (postgres, redis-server, n8n)', () =>
      Promise.all([ensureServices(), ensureN8n(this.version)]),
    );
    this.services = services;
    const user = postgresUser();
    const templateDir =
      template && encryptionKey === DEFAULT_ENCRYPTION_KEY
        ? await this.phase('postgres template ready', () =>
            ensurePgTemplate({ services, n8n, log: (m) => this.log(m) }),
          )
        : null;

    // One temp root for everything; traversable (not listable) by the postgres user.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `n8n-e2e-queue-${this.version}-`));
    this.root = root;
    registerTempDir(root);
    startReaper(root, root);
    fs.chmodSync(root, 0o711);
    const pgDir = path.join(root, 'pg');
    const dataDir = path.join(pgDir, 'data');
    const userFolder = path.join(root, 'home');
    fs.mkdirSync(path.join(userFolder, '.n8n'), { recursive: true });
    // n8n writes this file on first boot if missing; main and the workers
    // booting at once would race on it, so it is written here, as n8n does.
    fs.writeFileSync(path.join(userFolder, '.n8n', 'config'), JSON.stringify({ encryptionKey }, null, '\t'), {
      mode: 0o600,
    });

    const [pgPort, redisPort, mainPort] = await Promise.all([getFreePort(), getFreePort(), getFreePort()]);
    // os.tmpdir() of every n8n process → inside the root (n8n 2.40.7 creates
    // $TMPDIR/n8nDataTableUploads at boot, which would outlive the cluster).
    const tmpDir = path.join(root, 'tmp');
    fs.mkdirSync(tmpDir);
    const sharedEnv = {
      ...queueEnv({ pgPort, redisPort, offloadManual }),
      TMPDIR: tmpDir,
      N8N_DISABLE_UI: ui ? 'false' : 'true',
      // Node's on-disk cache of compiled modules: main + workers + CLI load the
      // same ~thousands of files; measured 8.3 → 6.8 s CPU (main), 5.8 → 5.0 s (worker).
      ...(compileCache ? { NODE_COMPILE_CACHE: path.join(CACHE_DIR, 'compile-cache', this.version) } : {}),
      ...env,
    };
    this.instance = new N8nInstance({ n8n, root, userFolder, env: sharedEnv, logLevel, encryptionKey });

    const pgReady = this.phase('postgres ready', async () => {
      if (templateDir) {
        fs.mkdirSync(pgDir, { recursive: true });
        const cp = spawnSync('cp', ['-a', path.join(templateDir, 'data'), dataDir], { encoding: 'utf8' });
        if (cp.status !== 0) throw new Error(`copying the postgres template failed: ${cp.stderr}`);
        chownR(pgDir, user);
      } else {
        await initPostgresData({ services, user, dataDir, stateDir: root });
      }
      this.postgres = await startPostgres({
        services,
        user,
        dataDir,
        sockDir: pgDir,
        port: pgPort,
        logFile: path.join(root, 'postgres.log'),
        stateDir: root,
      });
      this.postgres.dataDir = dataDir;
    });
    const redisReady = this.phase('redis ready', async () => {
      const dir = path.join(root, 'redis');
      fs.mkdirSync(dir);
      this.redis = await startRedis({
        services,
        dir,
        port: redisPort,
        logFile: path.join(root, 'redis.log'),
        stateDir: root,
      });
    });
    const pkgReady = packageTarball
      ? this.phase('package installed', async () => {
          this.instance.installedPackage = await installPackageTarball(userFolder, packageTarball, { stateDir: root });
        })
      : null;
    await Promise.all([pgReady, redisReady, pkgReady]);

    // Main and the workers boot side by side: n8n serialises migrations with
    // a PostgreSQL advisory lock, and instance id / signing secret seeding is
    // insert-or-ignore, so parallel first boots are safe.
    const mainReady = this.phase('main ready (n8n start)', async () => {
      this.main = await this.instance.start({
        port: mainPort,
        env: this.mainEnv,
        timeoutMs: this.timeoutMs,
        waitForPublished: false,
      });
    });
    const workersReady = this.phase(`${workers} worker(s) ready (n8n worker)`, () =>
      Promise.all(Array.from({ length: workers }, () => this.startWorker())),
    );
    await Promise.all([mainReady, workersReady]);
    this.url = this.main.url;
    this.rest = this.main.rest;
    this.startMs = Date.now() - t0;
    this.timings.push({ phase: 'cluster start (total)', ms: this.startMs });
    this.log(
      `up in ${secs(this.startMs)}: main ${this.url}, ${this.workers.length} worker(s), postgres :${pgPort}, redis :${redisPort}, root ${root}`,
    );
  }

  /** Starts one more `n8n worker` (also used at start). Resolves when its /healthz/readiness is 200. */
  async startWorker({ concurrency = this.workerConcurrency, env } = {}) {
    if (this.stopped) throw new Error('cluster stopped');
    const index = this._nextWorker++;
    const port = await getFreePort();
    const logFile = path.join(this.root, `worker-${index}.log`);
    const out = fs.openSync(logFile, 'a');
    const t0 = Date.now();
    const child = spawnTracked(
      this.instance.n8n.nodeBin,
      [this.instance.n8n.n8nBin, 'worker', `--concurrency=${concurrency}`],
      {
        cwd: this.root,
        env: await this.instance.env({
          // The worker's HTTP server (/healthz, /healthz/readiness: DB + Redis
          // connected and the queue consumer set up) on 127.0.0.1 and a free
          // port (the default 5678 would collide with main and other workers).
          QUEUE_HEALTH_CHECK_ACTIVE: 'true',
          QUEUE_HEALTH_CHECK_PORT: String(port),
          N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
          ...this.workerEnv,
          ...env,
        }),
        stateDir: this.root,
        stdio: ['ignore', out, out],
      },
    );
    fs.closeSync(out);
    const worker = new WorkerProcess({ cluster: this, index, child, port, logFile, concurrency });
    this.workers.push(worker);
    await waitFor(`n8n worker ${index}`, () => httpOk(`${worker.healthUrl}/healthz/readiness`), {
      timeoutMs: this.timeoutMs,
      exited: exitWatch(child),
      logFile,
    });
    worker.startMs = Date.now() - t0;
    return worker;
  }

  // --------------------------------------------------------- conveniences --
  // Same names as N8nInstance (CLI, against the cluster's Postgres; each call
  // boots n8n, ~4-8 s) and N8nServer (REST on main).

  cli(args, opts) {
    return this.instance.cli(args, opts);
  }
  importCredentials(list) {
    return this.instance.importCredentials(list);
  }
  importWorkflow(wf) {
    return this.instance.importWorkflow(wf);
  }
  exportCredentials(id) {
    return this.instance.exportCredentials(id);
  }
  exportWorkflow(id) {
    return this.instance.exportWorkflow(id);
  }
  setupOwner(owner = OWNER) {
    return this.main.setupOwner(owner);
  }
  login(owner = OWNER) {
    return this.main.login(owner);
  }
  getWorkflow(id) {
    return this.main.getWorkflow(id);
  }
  activate(id, opts) {
    return this.main.activate(id, opts);
  }
  deactivate(id) {
    return this.main.deactivate(id);
  }
  waitPublished(id, opts) {
    return this.main.waitPublished(id, opts);
  }
  webhook(p, opts) {
    return this.main.webhook(p, opts);
  }
  oauth2AuthUrl(id) {
    return this.main.oauth2AuthUrl(id);
  }
  oauth2Callback(q) {
    return this.main.oauth2Callback(q);
  }
  mainLogs() {
    return this.main?.logs() ?? '';
  }

  /**
   * REST alternative to importWorkflow (no CLI boot: ~50 ms instead of ~5 s).
   * Needs a session (setupOwner/login). One object → id, array → ids.
   */
  async createWorkflow(workflow) {
    const many = Array.isArray(workflow);
    const ids = [];
    for (const w of many ? workflow : [workflow]) {
      const body = { name: 'e2e workflow', connections: {}, settings: {}, ...w };
      delete body.active;
      const created = await this.rest.post('/rest/workflows', body);
      ids.push(created.id);
    }
    return many ? ids : ids[0];
  }

  /** REST alternative to importCredentials: [{name, type, data}] → ids. Needs a session. */
  async createCredentials(list) {
    const ids = [];
    for (const c of list)
      ids.push((await this.rest.post('/rest/credentials', { name: c.name, type: c.type, data: c.data })).id);
    return ids;
  }

  /**
   * The editor's "Execute workflow" (POST /rest/workflows/:id/run from
   * `trigger`, 2.40.7's body). With OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS
   * (default) a worker runs it. Waits for the end; returns the RunResult
   * with `executionId` and `worker`. Needs a session.
   */
  async runManually(workflowId, { trigger = 'Manual', timeoutMs = 60_000 } = {}) {
    const { executionId } = await this.rest.post(`/rest/workflows/${workflowId}/run`, {
      triggerToStartFrom: { name: trigger },
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ex = (await this.listExecutions({ workflowId })).find((e) => String(e.id) === String(executionId));
      if (ex && !['new', 'running', 'waiting'].includes(ex.status)) {
        const run = await this.getExecution(executionId);
        return Object.assign(run, { executionId: String(executionId), worker: ex.worker });
      }
      if (Date.now() > deadline) throw new Error(`manual execution ${executionId} not finished after ${timeoutMs} ms`);
      await sleep(200);
    }
  }

  /**
   * Executions (newest first), each with `worker` = index of the worker
   * that ran it (from its log), or null. Filter e.g. {workflowId, status}.
   */
  async listExecutions(filter = {}, { limit = 250 } = {}) {
    const qs = new URLSearchParams({ filter: JSON.stringify(filter), limit: String(limit) });
    const data = await this.rest.get(`/rest/executions?${qs}`);
    const list = data.results ?? data;
    const ran = this.executionWorkers();
    return list.map((e) => ({ ...e, worker: ran.get(String(e.id)) ?? null }));
  }

  getExecution(id) {
    return this.main.getExecution(id);
  }

  /** Polls until `count` executions matching `filter` have finished; returns them. */
  async waitForExecutions(filter = {}, { count = 1, timeoutMs = 60_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = await this.listExecutions(filter);
      const done = list.filter((e) => e.status && !['new', 'running', 'waiting'].includes(e.status));
      if (done.length >= count) return done;
      if (Date.now() > deadline)
        throw new Error(
          `${done.length}/${count} executions finished after ${timeoutMs} ms: ${JSON.stringify(list.map((e) => [e.id, e.status]))}`,
        );
      await sleep(250);
    }
  }

  /** Polls until one execution matching `filter` finished (as N8nServer.waitForExecution). */
  async waitForExecution(filter = {}, opts = {}) {
    return (await this.waitForExecutions(filter, { ...opts, count: 1 }))[0];
  }

  /**
   * executionId → worker index, from the workers' logs ("Worker started
   * execution <id> (job <job>)", logged at info by n8n's JobProcessor).
   * n8n stores no worker in the execution record; main only logs the
   * worker's hostId, which is the same for every worker in a container
   * (`worker-<hostname>` when /.dockerenv exists).
   */
  executionWorkers() {
    const map = new Map();
    for (const w of this.workers) for (const id of w.startedExecutions()) map.set(id, w.index);
    return map;
  }

  /** {workerIndex: [executionIds started]} for every worker (also those with none). */
  executionsByWorker() {
    const out = {};
    for (const w of this.workers) out[w.index] = w.startedExecutions();
    return out;
  }

  /** Execution ids main put on the queue ("Enqueued execution <id> (job <job>)"). */
  enqueuedExecutions() {
    return [...this.mainLogs().matchAll(/Enqueued execution (\d+) \(job (\d+)\)/g)].map((m) => m[1]);
  }

  /** Stops everything (workers and main, then postgres and redis) and removes the temp folder. Idempotent. */
  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    const t0 = Date.now();
    const timed = async (label, p) => {
      const t = Date.now();
      await p;
      this.log(`  ${label} stopped in ${secs(Date.now() - t)}`);
    };
    await Promise.all([
      ...this.workers.map((w) => timed(`worker ${w.index}`, w.stop())),
      this.main && timed('main', this.main.stop()),
    ]);
    await Promise.all([
      this.postgres && timed('postgres', this.postgres.stop()),
      this.redis && timed('redis', this.redis.stop()),
    ]);
    if (this.instance) await this.instance.cleanup();
    if (this.root) removeTempDir(this.root);
    const ms = Date.now() - t0;
    this.timings.push({ phase: 'stop', ms });
    this.log(`stopped and removed in ${secs(ms)}`);
  }
}

export class WorkerProcess {
  constructor({ cluster, index, child, port, logFile, concurrency }) {
    this.cluster = cluster;
    this.index = index;
    this.child = child;
    this.pid = child.pid;
    this.port = port;
    this.healthUrl = `http://127.0.0.1:${port}`;
    this.logFile = logFile;
    this.concurrency = concurrency;
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  }

  logs() {
    return readText(this.logFile);
  }

  /** Execution ids this worker started, in log order. */
  startedExecutions() {
    return [...this.logs().matchAll(/Worker started execution (\d+) \(job/g)].map((m) => m[1]);
  }

  /** Execution ids this worker finished. */
  finishedExecutions() {
    return [...this.logs().matchAll(/Worker finished execution (\d+) \(job/g)].map((m) => m[1]);
  }

  /** SIGTERM (n8n drains running jobs), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000) {
    await stopGroup(this.child, graceMs);
  }

  /** SIGKILL the worker's group at once (e.g. to test a crashed worker). */
  kill() {
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {}
    return this.exited;
  }
}

export { RestError };
