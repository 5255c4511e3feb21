// Drive a REAL n8n headlessly: fresh user folder, community package installed
// from an `npm pack` tarball, CLI import/execute/export, `n8n start` on
// 127.0.0.1 with REST helpers (owner, login, activation, webhooks,
// executions). See README.md in this folder for the findings behind it.
//
// Plain Node >= 20 ESM, no dependencies.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { CACHE_DIR, ensureN8n, withLock } from '../../../scripts/n8n/install.mjs';
import { parseFlatted } from './flatted.mjs';
import { registerTempDir, removeTempDir, runTracked, spawnTracked, startReaper, stopGroup } from './processes.mjs';
import { RestClient, RestError } from './rest.mjs';

export { ensureN8n, parseFlatted, RestClient, RestError };

export const OWNER = Object.freeze({
  email: 'owner@e2e.test',
  firstName: 'E2E',
  lastName: 'Owner',
  password: 'E2e-harness-Passw0rd',
});

const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * Encryption key of every harness instance unless one is passed. Fixed so a
 * pre-migrated template database (see ensureTemplateDb) can be reused: n8n
 * refuses to boot on data written under another key.
 */
export const DEFAULT_ENCRYPTION_KEY = 'n8n-nodes-amocrm-kommo-e2e-harness-key';
const DB_FILES = ['database.sqlite', 'database.sqlite-wal', 'database.sqlite-shm'];
const TEMPLATE_FORMAT = 1;

/** A free TCP port on 127.0.0.1 (bound then released). */
export function getFreePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * n8n-style 16-char alphanumeric id. Always contains a digit: `n8n
 * execute-batch --ids` silently drops ids that don't match /\d+/.
 */
export function newId(len = 16) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (;;) {
    let s = '';
    for (const b of randomBytes(len)) s += abc[b % abc.length];
    if (/\d/.test(s)) return s;
  }
}

/**
 * Settings that keep n8n offline, quiet and deterministic. Everything that
 * would reach the internet (telemetry, version check, templates, banners,
 * license renewal, the vetted-community-nodes list) is switched off.
 */
export function baseEnv({ userFolder, encryptionKey, logLevel }) {
  return {
    N8N_USER_FOLDER: userFolder,
    N8N_ENCRYPTION_KEY: encryptionKey,
    N8N_LOG_LEVEL: logLevel,
    N8N_LOG_OUTPUT: 'console',
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    N8N_HIRING_BANNER_ENABLED: 'false',
    N8N_DYNAMIC_BANNERS_ENABLED: 'false',
    N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
    N8N_AI_ENABLED: 'false',
    N8N_VERIFIED_PACKAGES_ENABLED: 'false',
    N8N_REINSTALL_MISSING_PACKAGES: 'false',
    N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
    N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
    N8N_RUNNERS_MODE: 'internal',
    // Set explicitly only to silence 2.40.7's "default will change" notices
    // (values are the current defaults; 2.8.4 ignores them).
    N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
    N8N_RUNNERS_TASK_TIMEOUT: '300',
    N8N_COMPRESSION_NODE_MAX_DECOMPRESSED_SIZE_BYTES: String(2 * 1024 ** 3),
    N8N_COMPRESSION_NODE_MAX_ZIP_ENTRIES: '5000',
    N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
    N8N_SECURE_COOKIE: 'false',
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_HOST: '127.0.0.1',
    N8N_PROTOCOL: 'http',
    N8N_METRICS: 'false',
    EXTERNAL_FRONTEND_HOOKS_URLS: '',
    N8N_SENTRY_DSN: '',
    DB_TYPE: 'sqlite',
    GENERIC_TIMEZONE: 'UTC',
    TZ: 'UTC',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  };
}

/** process.env without anything that configures n8n from outside. */
function hostEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(N8N_|DB_|QUEUE_|EXECUTIONS_|WEBHOOK_URL$|NODE_OPTIONS$|NODE_PATH$)/.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/**
 * The JSON object printed by `n8n execute --rawOutput` (pretty-printed,
 * preceded by task-runner/log lines; on failure wrapped in log lines too).
 * Returns the first parsable `{ ... }` block that starts at a line beginning.
 */
export function extractJson(text) {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('{')) continue;
    if (lines[i].trim() !== '{') {
      try {
        return JSON.parse(lines[i]);
      } catch {}
      continue;
    }
    for (let j = i + 1; j < lines.length; j++) {
      if (!lines[j].startsWith('}')) continue;
      try {
        return JSON.parse(lines.slice(i, j + 1).join('\n'));
      } catch {}
    }
  }
  const first = text.indexOf('{');
  if (first >= 0) {
    const last = text.lastIndexOf('}');
    try {
      return JSON.parse(text.slice(first, last + 1));
    } catch {}
  }
  return null;
}

/** Reads the error message of an n8n error object as serialised in run data. */
function errorMessage(err) {
  if (!err) return null;
  const parts = [err.message];
  if (err.description && err.description !== err.message) parts.push(err.description);
  return parts.filter(Boolean).join(' — ');
}

/**
 * Wraps an IRun (what `n8n execute` prints, or execution data from REST)
 * with accessors used by tests.
 */
export class RunResult {
  constructor(run, extra = {}) {
    this.run = run;
    Object.assign(this, extra);
    const rd = run?.data?.resultData ?? {};
    this.runData = rd.runData ?? {};
    this.lastNodeExecuted = rd.lastNodeExecuted;
    this.error = rd.error ?? null;
    this.status = run?.status ?? (this.error ? 'error' : 'success');
    this.ok = !!run && !this.error && this.status !== 'error' && this.status !== 'crashed';
  }

  /** Names of the nodes that ran, in run data order. */
  get nodeNames() {
    return Object.keys(this.runData);
  }

  /** The task data of one run of a node (default: its last run). */
  task(nodeName, runIndex = -1) {
    const runs = this.runData[nodeName];
    if (!runs?.length) return undefined;
    return runs.at(runIndex);
  }

  /** Full items (json, binary, pairedItem) of one output of a node. */
  items(nodeName, { output = 0, run = -1, connection = 'main' } = {}) {
    const t = this.task(nodeName, run);
    if (!t)
      throw new Error(
        `node "${nodeName}" did not run; ran: ${this.nodeNames.join(', ') || '(none)'}${this.error ? `; error: ${errorMessage(this.error)}` : ''}`,
      );
    return t.data?.[connection]?.[output] ?? [];
  }

  /** `json` of the items of one output of a node. */
  json(nodeName, opts) {
    return this.items(nodeName, opts).map((i) => i.json);
  }

  /** Error message of a node (its last run), or null. */
  nodeError(nodeName, runIndex = -1) {
    return errorMessage(this.task(nodeName, runIndex)?.error);
  }

  /** {nodeName: message} for every node whose last run failed. */
  get nodeErrors() {
    const out = {};
    for (const n of this.nodeNames) {
      const m = this.nodeError(n);
      if (m) out[n] = m;
    }
    return out;
  }

  get errorMessage() {
    return errorMessage(this.error);
  }

  /** One-paragraph description for assertion messages. */
  describe() {
    const head = `status=${this.status} lastNode=${this.lastNodeExecuted ?? '-'} error=${this.errorMessage ?? '-'}`;
    const errs = Object.entries(this.nodeErrors)
      .map(([n, m]) => `  ${n}: ${m}`)
      .join('\n');
    const tail =
      this.stdout !== undefined
        ? `\n--- stdout (tail) ---\n${tail40(this.stdout)}\n--- stderr (tail) ---\n${tail40(this.stderr)}`
        : '';
    return `${head}${errs ? '\n' + errs : ''}${tail}`;
  }
}

const tail40 = (s = '') => s.split('\n').slice(-40).join('\n');

/**
 * Extracts an `npm pack` tarball into `<userFolder>/.n8n/nodes/node_modules/<name>`
 * (where both 2.8.4 and 2.40.7 scan for community packages). Returns the
 * package name.
 */
export async function installPackageTarball(userFolder, tarball, { stateDir } = {}) {
  const staging = fs.mkdtempSync(path.join(userFolder, '.pkg-'));
  try {
    const r = await runTracked('tar', ['-xzf', path.resolve(tarball), '-C', staging], { stateDir, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`tar -xzf ${tarball} failed: ${r.stderr}`);
    // npm pack puts everything under package/.
    const root = fs.existsSync(path.join(staging, 'package', 'package.json')) ? path.join(staging, 'package') : staging;
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    if (!pkg.name) throw new Error(`${tarball}: package.json has no name`);
    const dest = path.join(userFolder, '.n8n', 'nodes', 'node_modules', ...pkg.name.split('/'));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.rmSync(dest, { recursive: true, force: true });
    fs.renameSync(root, dest);
    return { name: pkg.name, version: pkg.version, dir: dest };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Creates an isolated n8n instance (not running yet: CLI commands boot n8n
 * each time; start() runs the server).
 *
 * @param {object} o
 * @param {'2.40.7'|'2.8.4'} o.version
 * @param {string} [o.packageTarball]  `npm pack` output to install as a community package
 * @param {Record<string,string>} [o.env] extra environment for every n8n process
 * @param {'info'|'debug'} [o.logLevel='info']  n8n's logger carries `execute`'s JSON, the import
 *                                      success lines and the start-up line: nothing above info works
 * @param {string} [o.encryptionKey]   default DEFAULT_ENCRYPTION_KEY (another key disables the template)
 * @param {boolean} [o.template=true]  start from the cached pre-migrated DB (ensureTemplateDb)
 */
export async function createN8nInstance({
  version,
  packageTarball,
  env = {},
  logLevel = 'info',
  encryptionKey = DEFAULT_ENCRYPTION_KEY,
  template = true,
} = {}) {
  if (!version) throw new Error('createN8nInstance: version is required');
  // import:* success lines, `execute`'s JSON and the "Editor is now
  // accessible" line all go through n8n's logger at info level.
  if (!['info', 'debug'].includes(logLevel))
    throw new Error(`createN8nInstance: logLevel must be info or debug, not ${logLevel}`);
  const n8n = await ensureN8n(version);
  const templateDir = template && encryptionKey === DEFAULT_ENCRYPTION_KEY ? await ensureTemplateDb(n8n) : null;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `n8n-e2e-${version}-`));
  registerTempDir(root);
  startReaper(root, root);
  const userFolder = path.join(root, 'home');
  fs.mkdirSync(path.join(userFolder, '.n8n'), { recursive: true });
  if (templateDir) {
    for (const f of DB_FILES) {
      if (fs.existsSync(path.join(templateDir, f)))
        fs.copyFileSync(path.join(templateDir, f), path.join(userFolder, '.n8n', f));
    }
  }
  const inst = new N8nInstance({ n8n, root, userFolder, env, logLevel, encryptionKey });
  inst.fromTemplate = !!templateDir;
  if (packageTarball)
    inst.installedPackage = await installPackageTarball(userFolder, packageTarball, { stateDir: root });
  return inst;
}

/**
 * A freshly migrated, empty SQLite database for this n8n install, cached
 * next to the install (`<cache>/templates/<version>/`). The first command on
 * a new user folder otherwise spends seconds on migrations (measured: ~3.5 s
 * on 2.8.4, ~11-14 s on 2.40.7). Built once under a lock by booting n8n
 * (`list:workflow`) with DEFAULT_ENCRYPTION_KEY; rebuilt when the install's
 * marker changes. Returns the template folder.
 */
export async function ensureTemplateDb(n8n) {
  const n8nDir = path.resolve(path.dirname(n8n.n8nBin), '..', '..', '..');
  let stamp = '';
  try {
    stamp = JSON.parse(fs.readFileSync(path.join(n8nDir, '.installed.json'), 'utf8')).installedAt ?? '';
  } catch {}
  const dir = path.join(CACHE_DIR, 'templates', n8n.version);
  const markerFile = path.join(dir, 'template.json');
  const wanted = { format: TEMPLATE_FORMAT, version: n8n.version, installStamp: stamp };
  const isValid = () => {
    try {
      const m = JSON.parse(fs.readFileSync(markerFile, 'utf8'));
      return m.format === wanted.format && m.installStamp === wanted.installStamp;
    } catch {
      return false;
    }
  };
  if (isValid()) return dir;
  return withLock(`template-${n8n.version}`, async () => {
    if (isValid()) return dir;
    const t0 = Date.now();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `n8n-e2e-template-${n8n.version}-`));
    registerTempDir(work);
    try {
      const env = {
        ...hostEnv(),
        ...n8n.env,
        ...baseEnv({ userFolder: work, encryptionKey: DEFAULT_ENCRYPTION_KEY, logLevel: 'warn' }),
        N8N_RUNNERS_BROKER_PORT: String(await getFreePort()),
      };
      const r = await runTracked(n8n.nodeBin, [n8n.n8nBin, 'list:workflow'], { cwd: work, env, timeoutMs: 300_000 });
      if (r.code !== 0)
        throw new Error(`building the template DB failed (exit ${r.code}):\n${tail40(r.stdout)}\n${tail40(r.stderr)}`);
      const partial = `${dir}.partial-${process.pid}`;
      fs.rmSync(partial, { recursive: true, force: true });
      fs.mkdirSync(partial, { recursive: true });
      for (const f of DB_FILES) {
        const src = path.join(work, '.n8n', f);
        if (fs.existsSync(src)) fs.copyFileSync(src, path.join(partial, f));
      }
      if (!fs.existsSync(path.join(partial, 'database.sqlite'))) throw new Error(`no database.sqlite in ${work}/.n8n`);
      fs.writeFileSync(
        path.join(partial, 'template.json'),
        JSON.stringify({ ...wanted, ms: Date.now() - t0 }, null, 2),
      );
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(path.dirname(dir), { recursive: true });
      fs.renameSync(partial, dir);
      return dir;
    } finally {
      removeTempDir(work);
    }
  });
}

export class N8nInstance {
  constructor({ n8n, root, userFolder, env, logLevel, encryptionKey = DEFAULT_ENCRYPTION_KEY }) {
    this.version = n8n.version;
    this.n8n = n8n;
    this.root = root;
    this.userFolder = userFolder;
    this.encryptionKey = encryptionKey;
    this.logLevel = logLevel;
    this.extraEnv = env;
    this.servers = new Set();
    this.timings = [];
    this.n8nDir = path.resolve(path.dirname(n8n.n8nBin), '..');
    this.installedPackage = null;
    /** Workflows published through the CLI (see start({waitForPublished})). */
    this.publishedIds = new Set();
  }

  /**
   * Backend modules that reach the internet on their own and that this n8n
   * knows (N8N_DISABLED_MODULES rejects unknown names, and the list of
   * module names differs between versions).
   */
  disabledModules() {
    if (this._disabledModules) return this._disabledModules;
    const wanted = ['mcp-registry'];
    let known = '';
    try {
      const f = path.join(this.n8nDir, '..', '@n8n', 'backend-common', 'dist', 'modules', 'modules.config.js');
      known = fs.readFileSync(f, 'utf8');
    } catch {}
    this._disabledModules = wanted.filter((m) => known.includes(`'${m}'`));
    return this._disabledModules;
  }

  /** Environment for one n8n process (each gets its own task broker port). */
  async env(extra = {}) {
    const disabled = this.disabledModules();
    return {
      ...hostEnv(),
      ...this.n8n.env,
      ...baseEnv({ userFolder: this.userFolder, encryptionKey: this.encryptionKey, logLevel: this.logLevel }),
      ...(disabled.length ? { N8N_DISABLED_MODULES: disabled.join(',') } : {}),
      N8N_RUNNERS_BROKER_PORT: String(await getFreePort()),
      ...this.extraEnv,
      ...extra,
    };
  }

  /** Whether the installed n8n has a CLI command (e.g. 'publish:workflow'). */
  hasCommand(name) {
    const [a, b] = name.split(':');
    const file = b
      ? path.join(this.n8nDir, 'dist', 'commands', a, `${b}.js`)
      : path.join(this.n8nDir, 'dist', 'commands', `${a}.js`);
    return fs.existsSync(file);
  }

  tmpFile(prefix, ext = '.json') {
    return path.join(this.root, `${prefix}-${newId(8)}${ext}`);
  }

  /**
   * Runs `n8n <args>`; resolves {code, stdout, stderr, ms}. Throws when the
   * exit code is non-zero unless `allowFailure`.
   */
  async cli(args, { allowFailure = false, timeoutMs = 180_000, env } = {}) {
    const r = await runTracked(this.n8n.nodeBin, [this.n8n.n8nBin, ...args], {
      cwd: this.root,
      env: await this.env(env),
      stateDir: this.root,
      timeoutMs,
    });
    this.timings.push({ cmd: args[0], ms: r.ms });
    if (r.timedOut)
      throw new Error(
        `n8n ${args.join(' ')} timed out after ${timeoutMs} ms\n${tail40(r.stdout)}\n${tail40(r.stderr)}`,
      );
    if (r.code !== 0 && !allowFailure) {
      throw new Error(
        `n8n ${args.join(' ')} exited ${r.code ?? r.signal}\n--- stdout ---\n${tail40(r.stdout)}\n--- stderr ---\n${tail40(r.stderr)}`,
      );
    }
    return r;
  }

  /**
   * `n8n import:credentials`. Each credential: {id?, name, type, data} with
   * plain `data` (n8n encrypts on import). Missing ids are generated.
   * One CLI boot for the whole list. Returns the ids, in order.
   */
  async importCredentials(credentials) {
    const list = credentials.map((c) => ({ id: c.id ?? newId(), ...c }));
    const file = this.tmpFile('credentials');
    fs.writeFileSync(file, JSON.stringify(list, null, 2));
    const r = await this.cli(['import:credentials', `--input=${file}`]);
    fs.rmSync(file, { force: true });
    if (!/Successfully imported/i.test(r.stdout + r.stderr)) {
      throw new Error(`import:credentials did not report success\n${tail40(r.stdout)}\n${tail40(r.stderr)}`);
    }
    return list.map((c) => c.id);
  }

  /**
   * `n8n import:workflow` of one workflow (object) or many (array, one CLI
   * boot). Missing ids are generated. Returns the id (or ids for an array).
   */
  async importWorkflow(workflow) {
    const many = Array.isArray(workflow);
    const list = (many ? workflow : [workflow]).map((w) => ({
      active: false,
      settings: {},
      connections: {},
      ...w,
      id: w.id ?? newId(),
      name: w.name ?? 'e2e workflow',
    }));
    const file = this.tmpFile('workflows');
    fs.writeFileSync(file, JSON.stringify(list, null, 2));
    const r = await this.cli(['import:workflow', `--input=${file}`]);
    fs.rmSync(file, { force: true });
    if (!/Successfully imported/i.test(r.stdout + r.stderr)) {
      throw new Error(`import:workflow did not report success\n${tail40(r.stdout)}\n${tail40(r.stderr)}`);
    }
    return many ? list.map((w) => w.id) : list[0].id;
  }

  /**
   * `n8n execute --id=<id> --rawOutput` → RunResult. A workflow that fails
   * still resolves (ok=false, with run data when n8n printed it); throws only
   * when no run data could be found at all. `env`: extra environment for this
   * one run (e.g. N8N_SSRF_PROTECTION_ENABLED).
   */
  async execute(workflowId, { timeoutMs = 180_000, env } = {}) {
    const r = await this.cli(['execute', `--id=${workflowId}`, '--rawOutput'], { allowFailure: true, timeoutMs, env });
    const run = extractJson(r.stdout) ?? extractJson(r.stderr);
    if (!run || !run.data) {
      // Errors raised before the run starts (e.g. "Unrecognized node type:
      // <pkg>.<node>" when the package did not load) come without run data.
      const why = (r.stdout + r.stderr)
        .split('Execution error:')[1]
        ?.split('\n')
        .find((l) => l.trim() && !/^=+$/.test(l.trim()));
      throw new Error(
        `n8n execute --id=${workflowId} printed no run data (exit ${r.code})${why ? `: ${why.trim()}` : ''}\n--- stdout ---\n${tail40(r.stdout)}\n--- stderr ---\n${tail40(r.stderr)}`,
      );
    }
    return new RunResult(run, { exitCode: r.code, stdout: r.stdout, stderr: r.stderr, ms: r.ms });
  }

  /**
   * Runs several workflows in ONE n8n boot (`n8n execute-batch`, present in
   * 2.8.4 and 2.40.7) instead of one boot per `execute`. Returns
   * {[workflowId]: RunResult}. Caveat (n8n's behaviour): full run data is
   * only written for successful runs; a failed workflow yields ok=false with
   * only n8n's one-line error ("<message> on node <name>") — use execute()
   * when a test needs a failure's run data. Ids must contain a digit.
   */
  async executeMany(workflowIds, { concurrency = 1, timeoutMs = 600_000 } = {}) {
    for (const id of workflowIds)
      if (!/\d/.test(id)) throw new Error(`execute-batch ignores ids without a digit: ${id}`);
    const snapDir = fs.mkdtempSync(path.join(this.root, 'batch-'));
    const out = path.join(snapDir, 'summary.json');
    try {
      const r = await this.cli(
        [
          'execute-batch',
          `--ids=${workflowIds.join(',')}`,
          `--snapshot=${snapDir}`,
          `--output=${out}`,
          '--retries=0',
          `--concurrency=${concurrency}`,
        ],
        { allowFailure: true, timeoutMs },
      );
      if (!fs.existsSync(out)) {
        throw new Error(`execute-batch wrote no summary (exit ${r.code})\n${tail40(r.stdout)}\n${tail40(r.stderr)}`);
      }
      const summary = JSON.parse(fs.readFileSync(out, 'utf8'));
      const results = {};
      for (const id of workflowIds) {
        const snap = path.join(snapDir, `${id}-snapshot.json`);
        const ex = summary.executions?.find((e) => e.workflowId === id);
        if (fs.existsSync(snap)) {
          results[id] = new RunResult(JSON.parse(fs.readFileSync(snap, 'utf8')), { batch: ex });
        } else {
          const message = ex?.error ?? 'workflow was not run by execute-batch';
          results[id] = new RunResult(
            { status: 'error', data: { resultData: { runData: {}, error: { message } } } },
            { batch: ex, stdout: r.stdout, stderr: r.stderr },
          );
        }
      }
      return results;
    } finally {
      fs.rmSync(snapDir, { recursive: true, force: true });
    }
  }

  /** Decrypted credential as stored (`n8n export:credentials --decrypted`). */
  async exportCredentials(id) {
    const file = this.tmpFile('export');
    await this.cli(['export:credentials', `--id=${id}`, '--decrypted', `--output=${file}`]);
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.rmSync(file, { force: true });
    const list = Array.isArray(data) ? data : [data];
    const found = list.find((c) => c.id === id) ?? list[0];
    if (!found) throw new Error(`credential ${id} not found`);
    return found;
  }

  /** Workflow as stored (`n8n export:workflow --id`). */
  async exportWorkflow(id) {
    const file = this.tmpFile('wf-export');
    await this.cli(['export:workflow', `--id=${id}`, `--output=${file}`]);
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.rmSync(file, { force: true });
    return Array.isArray(data) ? data[0] : data;
  }

  /**
   * Marks a workflow active/published in the DB via the CLI (takes effect at
   * the next `start()`, not in a running server: use server.activate for that).
   * Both 2.8.4 and 2.40.7 have `publish:workflow`; `update:workflow
   * --active=true` is the deprecated fallback.
   */
  async publishWorkflow(id) {
    this.publishedIds.add(id);
    if (this.hasCommand('publish:workflow')) return this.cli(['publish:workflow', `--id=${id}`]);
    return this.cli(['update:workflow', `--id=${id}`, '--active=true']);
  }

  /**
   * 2.40.7 activates workflows through a publication outbox (on by default,
   * N8N_USE_WORKFLOW_PUBLICATION_SERVICE): triggers of workflows published
   * before `start` go live ~1 s AFTER the server says it is ready.
   */
  hasPublicationService() {
    const env = { ...this.extraEnv };
    if (env.N8N_USE_WORKFLOW_PUBLICATION_SERVICE === 'false') return false;
    return fs.existsSync(
      path.join(this.n8nDir, 'dist', 'workflows', 'publication', 'workflow-publication-status.service.js'),
    );
  }

  /**
   * Runs `n8n start` on 127.0.0.1 (free port unless given), waits for
   * /healthz, /healthz/readiness and the "Editor is now accessible" log line.
   * If workflows were published through the CLI and this n8n publishes via
   * its outbox (2.40.7), also waits until they are live — which needs a
   * session, so it sets up the owner (or logs in) on `server.rest`.
   * Pass `waitForPublished: false` to skip that. Returns an N8nServer.
   */
  async start({ port, env, timeoutMs = 180_000, waitForPublished = true } = {}) {
    port = port ?? (await getFreePort());
    const url = `http://127.0.0.1:${port}`;
    const logFile = path.join(this.root, `server-${port}.log`);
    const out = fs.openSync(logFile, 'a');
    const t0 = Date.now();
    const child = spawnTracked(this.n8n.nodeBin, [this.n8n.n8nBin, 'start'], {
      cwd: this.root,
      // Base URL (webhooks, OAuth redirect_uri) = N8N_PROTOCOL://N8N_HOST:N8N_PORT/.
      env: await this.env({ N8N_PORT: String(port), ...env }),
      stateDir: this.root,
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    const server = new N8nServer({ instance: this, child, url, port, logFile });
    this.servers.add(server);
    try {
      await server.waitReady(timeoutMs);
    } catch (e) {
      await server.stop();
      throw e;
    }
    server.startMs = Date.now() - t0;
    if (waitForPublished && this.publishedIds.size && this.hasPublicationService()) {
      // Needs an authenticated session: creates the owner (or logs in).
      await server.setupOwner();
      for (const id of this.publishedIds) await server.waitPublished(id, { timeoutMs: 60_000 });
      server.publishedMs = Date.now() - t0;
    }
    this.timings.push({ cmd: 'start', ms: server.startMs });
    return server;
  }

  /** Stops every server, kills leftover processes, removes the temp folders. */
  async cleanup() {
    for (const s of [...this.servers]) await s.stop();
    removeTempDir(this.root);
  }
}

export class N8nServer {
  constructor({ instance, child, url, port, logFile }) {
    this.instance = instance;
    this.child = child;
    this.url = url;
    this.port = port;
    this.logFile = logFile;
    this.rest = new RestClient(url);
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  }

  logs() {
    try {
      return fs.readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  async waitReady(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    let exited = null;
    this.exited.then((e) => (exited = e));
    for (const p of ['/healthz', '/healthz/readiness']) {
      for (;;) {
        if (exited)
          throw new Error(`n8n start exited (${exited.code ?? exited.signal}) before ready\n${tail40(this.logs())}`);
        if (Date.now() > deadline)
          throw new Error(`n8n start not ready (${p}) after ${timeoutMs} ms\n${tail40(this.logs())}`);
        try {
          const res = await fetch(`${this.url}${p}`);
          await res.text();
          if (res.status === 200) break;
        } catch {}
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    // 2.8.4's readiness only means "DB connected and migrated": REST routes
    // and active workflows come later. Both versions log this line once
    // `n8n start` has registered routes and activated workflows.
    for (;;) {
      if (exited)
        throw new Error(`n8n start exited (${exited.code ?? exited.signal}) before ready\n${tail40(this.logs())}`);
      if (Date.now() > deadline)
        throw new Error(`n8n start: no "Editor is now accessible" after ${timeoutMs} ms\n${tail40(this.logs())}`);
      if (this.logs().includes('Editor is now accessible via')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop() {
    await stopGroup(this.child, 10_000);
    this.instance.servers.delete(this);
  }

  /**
   * Creates the instance owner (first start of a fresh user folder) and keeps
   * the session cookie. If an owner exists already, logs in instead.
   */
  async setupOwner(owner = OWNER) {
    const r = await this.rest.raw('POST', '/rest/owner/setup', { body: owner });
    if (r.status === 200) return r.body?.data ?? r.body;
    // An owner exists (re-used user folder): log in instead.
    if (r.status === 400 && /already setup/i.test(JSON.stringify(r.body))) return this.login(owner);
    throw new RestError('POST', r.url, r.status, r.body);
  }

  async login({ email, password } = OWNER) {
    return this.rest.post('/rest/login', { emailOrLdapLoginId: email, password });
  }

  getWorkflow(id) {
    return this.rest.get(`/rest/workflows/${id}`);
  }

  /**
   * Activates (2.x: "publishes") a workflow in the running server, which
   * registers its production webhooks immediately. Needs a logged-in owner.
   */
  async activate(id, { timeoutMs = 30_000 } = {}) {
    const wf = await this.getWorkflow(id);
    const res = await this.rest.post(`/rest/workflows/${id}/activate`, { versionId: wf.versionId });
    await this.waitPublished(id, { timeoutMs });
    return res;
  }

  /**
   * 2.40.7 publishes through an outbox (N8N_USE_WORKFLOW_PUBLICATION_SERVICE,
   * default on): /activate returns before the triggers/webhooks are live.
   * Polls /rest/workflows/:id/publication-status until "published". On
   * 2.8.4 that endpoint does not exist (404) and activation is synchronous.
   */
  async waitPublished(id, { timeoutMs = 30_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.rest.raw('GET', `/rest/workflows/${id}/publication-status`);
      if (r.status === 404) return { status: 'published', synchronous: true };
      if (r.status >= 400) throw new RestError('GET', r.url, r.status, r.body);
      const st = r.body?.data ?? r.body;
      if (st.status === 'published') return st;
      if (st.status === 'failed' || st.status === 'partial') {
        throw new Error(`workflow ${id} publication ${st.status}: ${JSON.stringify(st.triggers)}`);
      }
      if (Date.now() > deadline)
        throw new Error(`workflow ${id} not published after ${timeoutMs} ms: ${JSON.stringify(st)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  async deactivate(id) {
    return this.rest.post(`/rest/workflows/${id}/deactivate`, {});
  }

  /** Calls a production webhook /webhook/<path>; returns {status, headers, body}. */
  async webhook(webhookPath, { method = 'POST', body, headers, query } = {}) {
    const qs = query ? `?${new URLSearchParams(query)}` : '';
    const res = await fetch(`${this.url}/webhook/${webhookPath.replace(/^\//, '')}${qs}`, {
      method,
      headers: {
        ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, headers: res.headers, body: parsed };
  }

  /**
   * Start of the OAuth2 "Connect" flow for a credential: the authorization
   * URL n8n would open in the popup (with client_id, redirect_uri =
   * <base>/rest/oauth2-credential/callback, state, scope…). Needs a session.
   */
  async oauth2AuthUrl(credentialId) {
    return this.rest.get(`/rest/oauth2-credential/auth?id=${encodeURIComponent(credentialId)}`);
  }

  /**
   * What the provider's redirect does: GET the callback with `code`, `state`
   * (and any extra query, e.g. amoCRM's `referer`). n8n then exchanges the
   * code at accessTokenUrl and stores oauthTokenData. Sent with the session
   * cookie: 2.8.4 requires it (unless N8N_SKIP_AUTH_ON_OAUTH_CALLBACK=true),
   * 2.40.7 allows unauthenticated callbacks. Resolves {status, body, ok}
   * where `ok` reflects n8n's success page; never throws on HTTP errors.
   */
  async oauth2Callback(query) {
    const r = await this.rest.raw('GET', `/rest/oauth2-credential/callback?${new URLSearchParams(query)}`);
    const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? '');
    return { status: r.status, body: r.body, ok: r.status === 200 && !/error|failed|went wrong/i.test(text) };
  }

  /** Executions list (newest first). Filter e.g. {workflowId, status}. */
  async listExecutions(filter = {}) {
    const qs = new URLSearchParams({ filter: JSON.stringify(filter), limit: '50' });
    const data = await this.rest.get(`/rest/executions?${qs}`);
    return data.results ?? data;
  }

  /** One execution with its data unflatted, as a RunResult (plus .execution). */
  async getExecution(id) {
    const ex = await this.rest.get(`/rest/executions/${id}`);
    const data = typeof ex.data === 'string' ? parseFlatted(ex.data) : ex.data;
    return new RunResult({ ...ex, data }, { execution: ex });
  }

  /** Polls until `predicate(executions)` returns truthy (default: any finished one). */
  async waitForExecution(filter = {}, { timeoutMs = 30_000, predicate } = {}) {
    const deadline = Date.now() + timeoutMs;
    const done =
      predicate ?? ((list) => list.find((e) => e.status && !['new', 'running', 'waiting'].includes(e.status)));
    for (;;) {
      const list = await this.listExecutions(filter);
      const hit = done(list);
      if (hit) return hit;
      if (Date.now() > deadline)
        throw new Error(`no matching execution after ${timeoutMs} ms: ${JSON.stringify(list).slice(0, 1000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export const HARNESS_DIR = HERE;

/**
 * `npm pack` a package directory into `destDir`; returns the tarball path.
 * (Scripts are skipped: tests pack what is already built.)
 */
export async function npmPack(packageDir, destDir = packageDir) {
  const r = await runTracked('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destDir], {
    cwd: packageDir,
    timeoutMs: 120_000,
  });
  if (r.code !== 0) throw new Error(`npm pack in ${packageDir} failed:\n${r.stderr}`);
  const info = JSON.parse(r.stdout.slice(r.stdout.indexOf('[')));
  return path.join(destDir, info[0].filename);
}
