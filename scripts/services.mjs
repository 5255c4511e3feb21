#!/usr/bin/env node
// PostgreSQL and Redis binaries for the queue-mode e2e cluster
// (tests/e2e/harness/cluster.mjs). Only the BINARIES: no system service is
// configured, started or used — the cluster runs its own throwaway postgres
// and redis-server in a temp folder.
//
//   node scripts/services.mjs          install what is missing, print the paths (JSON)
//   import { ensureServices } from './scripts/services.mjs'
//   const s = await ensureServices();  // { pgBinDir, pgVersion, initdb, pgCtl, postgres, redisServer }
//
// Missing binaries are installed with Debian's packages `postgresql` and
// `redis-server` (apt-get update once, then apt-get install -y), which needs
// root. While apt-get runs, a temporary /usr/sbin/policy-rc.d (exit 101) —
// Debian's standard switch — stops the packages' postinst scripts from
// starting the system services (only when no policy-rc.d exists already; it
// is removed afterwards). Debian puts PostgreSQL's server binaries under
// /usr/lib/postgresql/<major>/bin, not on PATH. When everything is present
// this is a few stat() calls.
//
// Plain Node >= 20 ESM, no dependencies.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const log = (...a) => console.error('[services]', ...a);
const isExec = (f) => {
  try {
    fs.accessSync(f, fs.constants.X_OK);
    return fs.statSync(f).isFile();
  } catch {
    return false;
  }
};

function which(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && isExec(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

/** Newest PostgreSQL server install: {dir, major} or null. */
function findPostgres() {
  const candidates = [];
  const base = '/usr/lib/postgresql';
  try {
    for (const v of fs.readdirSync(base)) {
      const dir = path.join(base, v, 'bin');
      if (isExec(path.join(dir, 'initdb')) && isExec(path.join(dir, 'postgres'))) candidates.push(dir);
    }
  } catch {}
  // Other layouts (PGDG tarballs, Homebrew, a source build): initdb on PATH.
  const onPath = which('initdb');
  if (onPath) {
    const dir = path.dirname(fs.realpathSync(onPath));
    if (isExec(path.join(dir, 'postgres')) && !candidates.includes(dir)) candidates.push(dir);
  }
  const withVersion = candidates
    .map((dir) => {
      // Debian: the major is in the path; otherwise ask the binary.
      const fromPath = /\/postgresql\/(\d+)\/bin$/.exec(dir);
      if (fromPath) return { dir, major: Number(fromPath[1]), version: fromPath[1] };
      const r = spawnSync(path.join(dir, 'postgres'), ['--version'], { encoding: 'utf8' });
      const m = /(\d+)(?:\.(\d+))?/.exec(r.stdout || '');
      return m ? { dir, major: Number(m[1]), version: m[0] } : null;
    })
    .filter(Boolean)
    .sort((a, b) => b.major - a.major);
  return withVersion[0] ?? null;
}

function findRedis() {
  const file = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(isExec) ?? which('redis-server');
  return file ? { file } : null;
}

/** `redis-server --version` → e.g. "7.0.15" (a spawn: only when asked). */
export function redisVersion(file = findRedis()?.file) {
  if (!file) return null;
  const r = spawnSync(file, ['--version'], { encoding: 'utf8' });
  return /v=(\S+)/.exec(r.stdout || '')?.[1] ?? 'unknown';
}

/** Where the binaries are, without installing anything (null when missing). */
export function findServices() {
  const pg = findPostgres();
  const redis = findRedis();
  return {
    pgBinDir: pg?.dir ?? null,
    pgVersion: pg?.version ?? null,
    initdb: pg ? path.join(pg.dir, 'initdb') : null,
    pgCtl: pg && isExec(path.join(pg.dir, 'pg_ctl')) ? path.join(pg.dir, 'pg_ctl') : null,
    postgres: pg ? path.join(pg.dir, 'postgres') : null,
    redisServer: redis?.file ?? null,
  };
}

function run(cmd, args, env) {
  log(`$ ${cmd} ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${signal || `exit ${code}`})`)),
    );
  });
}

let aptUpdated = false;
let pending = null;

async function aptInstall(packages) {
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing ${packages.join(', ')} and not root: run \`sudo apt-get install -y ${packages.join(' ')}\` first`,
    );
  }
  if (!which('apt-get')) throw new Error(`missing ${packages.join(', ')} and no apt-get: install them by hand`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for another apt/dpkg (e.g. a parallel test process) instead of failing.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=600'];
  const policy = '/usr/sbin/policy-rc.d';
  let ownPolicy = false;
  if (!fs.existsSync(policy)) {
    log(`writing a temporary ${policy} (exit 101) so that apt does not start the system services`);
    fs.writeFileSync(policy, '#!/bin/sh\n# temporary, written by scripts/services.mjs\nexit 101\n', { mode: 0o755 });
    ownPolicy = true;
  }
  try {
    if (!aptUpdated) {
      await run('apt-get', [...lockWait, 'update'], env);
      aptUpdated = true;
    }
    await run('apt-get', [...lockWait, 'install', '-y', '--no-install-recommends', ...packages], env);
  } finally {
    if (ownPolicy) fs.rmSync(policy, { force: true });
  }
}

/**
 * Installs `postgresql` / `redis-server` when their binaries are missing and
 * returns where the binaries are. Concurrent calls in one process share the
 * work; apt's own lock (waited on) serialises separate processes.
 */
export async function ensureServices() {
  const found = findServices();
  if (found.postgres && found.redisServer) return found;
  pending ??= (async () => {
    const t0 = Date.now();
    const again = findServices();
    const missing = [];
    if (!again.postgres) missing.push('postgresql');
    if (!again.redisServer) missing.push('redis-server');
    if (missing.length) {
      log(`missing: ${missing.join(', ')}; installing with apt-get`);
      await aptInstall(missing);
    }
    const now = findServices();
    if (!now.postgres) throw new Error('PostgreSQL server binaries not found after installing `postgresql`');
    if (!now.redisServer) throw new Error('redis-server not found after installing `redis-server`');
    log(
      `PostgreSQL ${now.pgVersion} in ${now.pgBinDir}, redis-server ${redisVersion(now.redisServer)} (${Date.now() - t0} ms)`,
    );
    return now;
  })().finally(() => {
    pending = null;
  });
  return pending;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    const t0 = Date.now();
    const s = await ensureServices();
    const ms = Date.now() - t0;
    console.log(JSON.stringify({ ...s, redisVersion: redisVersion(s.redisServer), ms }, null, 2));
  } catch (e) {
    log(String(e?.message || e));
    process.exit(1);
  }
}
