// What the end-to-end tests share: the packed package, an emulator and an n8n
// instance per n8n version, credentials pointing at the emulator, and
// workflow builders. The tests assert on what a user sees (items, errors,
// stored credentials) and on what amoCRM sees (the emulator's log and stats).

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { after, before } from 'node:test';

import { RunResult, createN8nInstance, newId, npmPack } from './harness/index.mjs';
import { startEmulator } from '../emulator/server.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PKG = 'n8n-nodes-amocrm-kommo';
export const LEAD_NODE = `${PKG}.amoCrmLead`;
export const CONTACT_NODE = `${PKG}.amoCrmContact`;
export const COMPANY_NODE = `${PKG}.amoCrmCompany`;
export const TASK_NODE = `${PKG}.amoCrmTask`;
export const CUSTOMER_NODE = `${PKG}.amoCrmCustomer`;
export const INCOMING_LEAD_NODE = `${PKG}.amoCrmIncomingLead`;
export const CATALOG_NODE = `${PKG}.amoCrmCatalog`;
export const TRIGGER_NODE = `${PKG}.amoCrmTrigger`;
export const EVENTS_TRIGGER_NODE = `${PKG}.amoCrmEventsTrigger`;
export const ACCOUNT_NODE = `${PKG}.amoCrmAccount`;

export const VERSIONS = (process.env.N8N_E2E_VERSIONS || '2.40.7,2.8.4')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

let packed;
/** `npm pack` of the built package, once per test process. */
export async function packageTarball() {
  if (!packed) {
    if (!fs.existsSync(path.join(ROOT, 'dist', 'shared', 'wasm', 'amocrm_core.js'))) {
      throw new Error('dist/ is not built: run `npm run build` (npm test does it first)');
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'amocrm-e2e-pack-'));
    packed = npmPack(ROOT, dir);
  }
  return packed;
}

/** The emulator's admin API over HTTP, as n8n runs in another process. */
export class Amo {
  constructor(emu) {
    this.emu = emu;
    this.url = emu.url;
  }

  async admin(method, p, body) {
    const res = await fetch(`${this.url}/_admin${p}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`emulator ${method} /_admin${p} → ${res.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  async longLivedToken(expiresInSeconds = 86_400) {
    return (await this.admin('POST', '/long-lived-token', { expiresInSeconds })).token;
  }

  stats() {
    return this.admin('GET', '/stats');
  }

  resetStats() {
    return this.admin('POST', '/stats/reset', {});
  }

  /** Calls of one endpoint ("POST /api/v4/leads") by status. */
  async calls(endpoint) {
    return (await this.stats()).calls?.[endpoint] ?? {};
  }

  async requests(filter = {}) {
    const q = new URLSearchParams(Object.entries(filter).map(([k, v]) => [k, String(v)]));
    const r = await this.admin('GET', `/requests?${q}`);
    return r.requests ?? r;
  }

  /**
   * An API call with a token, as a test would make it by hand. The token's
   * budget is the one the node just spent: a 429 waits for the window.
   */
  async api(token, method, p, body) {
    for (let attempt = 0; ; attempt++) {
      const r = await this.apiOnce(token, method, p, body);
      if (r.status !== 429 || attempt === 5) return r;
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
  }

  async apiOnce(token, method, p, body) {
    const res = await fetch(`${this.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status === 429) return { status: 429, body: text };
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  close() {
    return this.emu.close();
  }
}

/** A fresh emulator (default seed, rate limit as amoCRM unless told). */
export async function emulator(options = {}) {
  return new Amo(await startEmulator({ quiet: true, ...options }));
}

/** A fresh n8n of `version` with the package installed. */
export async function n8nWithPackage(version, env = {}) {
  return await createN8nInstance({ version, packageTarball: await packageTarball(), env });
}

/**
 * An emulator and an n8n of `version` with the package and a long-lived
 * credential, for the tests of one describe: registers its before and after
 * hooks, and returns the object whose `amo`, `n8n`, `token` and `cred` the
 * before hook sets.
 */
export function perVersion(version, emulatorOptions = { seed: 'base', rateLimit: 7 }) {
  const env = {};
  before(async () => {
    env.amo = await emulator(emulatorOptions);
    env.token = await env.amo.longLivedToken();
    env.n8n = await n8nWithPackage(version);
    [env.cred] = await env.n8n.importCredentials([longLivedCredential(env.amo, env.token)]);
  });
  after(async () => {
    await env.n8n?.cleanup();
    await env.amo?.close();
  });
  return env;
}

export function longLivedCredential(amo, token, extra = {}) {
  return {
    name: 'amoCRM (long-lived token)',
    type: 'amoCrmKommoApi',
    data: {
      environment: 'local',
      baseUrl: amo.url,
      connectionType: 'longLivedToken',
      longLivedToken: token,
      requestsPerSecond: 7,
      ...extra,
    },
  };
}

export function oauthCredential(amo, extra = {}) {
  const integration = amo.emu.state.integration;
  return {
    name: 'amoCRM (OAuth managed by the core)',
    type: 'amoCrmKommoApi',
    data: {
      environment: 'local',
      baseUrl: amo.url,
      connectionType: 'oauth',
      clientId: integration.clientId,
      clientSecret: integration.clientSecret,
      redirectUri: integration.redirectUri,
      authorizationCode: '',
      requestsPerSecond: 7,
      ...extra,
    },
  };
}

let y = 0;
/** One node of the package (`type`: LEAD_NODE, CONTACT_NODE, …). */
export function amoNode(type, name, parameters, credentialId, extra = {}) {
  y += 1;
  return {
    id: randomUUID(),
    name,
    type,
    typeVersion: 1,
    position: [400, y * 160],
    parameters: { authentication: 'amoCrmKommoApi', ...parameters },
    credentials: { amoCrmKommoApi: { id: credentialId, name: 'amoCRM' } },
    ...extra,
  };
}

/** One AmoCRM Lead node. */
export function leadNode(name, parameters, credentialId, extra = {}) {
  return amoNode(LEAD_NODE, name, parameters, credentialId, extra);
}

/** A record locator by ID, as the editor stores it. */
export const byId = (value) => ({ __rl: true, mode: 'id', value: String(value) });

/** Webhook (POST `path`, answers with the last node's output) → one node. */
export function webhookWorkflow(name, path, node) {
  return {
    name,
    nodes: [
      {
        id: randomUUID(),
        name: 'Webhook',
        type: 'n8n-nodes-base.webhook',
        typeVersion: 2,
        position: [0, 0],
        webhookId: randomUUID(),
        parameters: { httpMethod: 'POST', path, responseMode: 'lastNode', options: {} },
      },
      { id: randomUUID(), position: [220, 0], ...node },
    ],
    connections: { Webhook: { main: [[{ node: node.name, type: 'main', index: 0 }]] } },
    settings: { executionOrder: 'v1' },
  };
}

/** An AmoCRM Lead node named "Get" reading lead `leadId` with either credential type. */
export const getLeadNode = (leadId, credentialType, credentialId) => ({
  name: 'Get',
  type: LEAD_NODE,
  typeVersion: 1,
  parameters: { authentication: credentialType, operation: 'get', leadId: byId(leadId), with: [] },
  credentials: { [credentialType]: { id: credentialId, name: 'amoCRM' } },
});

const manual = () => ({
  id: randomUUID(),
  name: 'Manual',
  type: 'n8n-nodes-base.manualTrigger',
  typeVersion: 1,
  position: [0, 0],
  parameters: {},
});

/**
 * Manual trigger → each node in parallel branches. Each branch keeps going
 * on errors (an error becomes the node's output item), so one execution
 * checks several independent cases.
 */
export function branches(name, nodes) {
  return {
    name,
    nodes: [manual(), ...nodes.map((n) => ({ onError: 'continueRegularOutput', ...n }))],
    connections: { Manual: { main: [nodes.map((n) => ({ node: n.name, type: 'main', index: 0 }))] } },
    settings: { executionOrder: 'v1' },
  };
}

/** Manual → nodes one after another, each run once. */
export function chain(name, nodes) {
  const manual = { id: randomUUID(), name: 'Manual', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} };
  const all = [manual, ...nodes.map((n) => ({ executeOnce: true, onError: 'continueRegularOutput', ...n }))];
  const connections = {};
  for (let i = 0; i < all.length - 1; i++) connections[all[i].name] = { main: [[{ node: all[i + 1].name, type: 'main', index: 0 }]] };
  return { name, nodes: all, connections, settings: { executionOrder: 'v1' } };
}

/**
 * Manual trigger → items from `list` (Set in JSON mode, then Split Out) →
 * `chain` of nodes, each feeding the next.
 */
export function pipeline(name, list, chain) {
  const set = {
    id: randomUUID(),
    name: 'Items',
    type: 'n8n-nodes-base.set',
    typeVersion: 3.4,
    position: [200, 0],
    parameters: { mode: 'raw', jsonOutput: JSON.stringify({ items: list }), options: {} },
  };
  const split = {
    id: randomUUID(),
    name: 'Split',
    type: 'n8n-nodes-base.splitOut',
    typeVersion: 1,
    position: [400, 0],
    parameters: { fieldToSplitOut: 'items', options: {} },
  };
  const nodes = [manual(), set, split, ...chain];
  const names = nodes.map((n) => n.name);
  const connections = {};
  for (let i = 0; i < names.length - 1; i++) {
    connections[names[i]] = { main: [[{ node: names[i + 1], type: 'main', index: 0 }]] };
  }
  return { name, nodes, connections, settings: { executionOrder: 'v1' } };
}

/** Fails the test with the run's own description when it did not succeed. */
export function expectOk(run) {
  if (!run.ok) throw new Error(`execution failed: ${run.describe()}`);
  return run;
}

/** Every string in a value, for "no secret anywhere" checks. */
export function textOf(value) {
  return JSON.stringify(value ?? null);
}

/**
 * Imports and runs `workflow`, reading the full run data from a file
 * (`n8n executeBatch --snapshot`) rather than from stdout: `n8n execute`
 * exits before a large output (10,000 leads) is flushed to its pipe. Only
 * successful runs are written; a failed one throws with n8n's summary.
 */
export async function runWorkflow(n8n, workflow, { timeoutMs = 300_000 } = {}) {
  // executeBatch selects IDs with /\d+/: make sure there is a digit.
  const id = `${newId(15)}7`;
  await n8n.importWorkflow({ ...workflow, id });
  const dir = fs.mkdtempSync(path.join(n8n.root, 'snapshot-'));
  const summary = path.join(dir, 'summary.json');
  const r = await n8n.cli(['executeBatch', `--ids=${id}`, `--snapshot=${dir}`, `--output=${summary}`, '--concurrency=1', '--retries=0'], {
    allowFailure: true,
    timeoutMs,
  });
  const snapshot = path.join(dir, `${id}-snapshot.json`);
  if (!fs.existsSync(snapshot)) {
    const detail = fs.existsSync(summary) ? fs.readFileSync(summary, 'utf8') : `${r.stdout}\n${r.stderr}`.slice(-4000);
    throw new Error(`workflow "${workflow.name}" did not succeed (exit ${r.code}):\n${detail}`);
  }
  return new RunResult(JSON.parse(fs.readFileSync(snapshot, 'utf8')), { ms: r.ms });
}
