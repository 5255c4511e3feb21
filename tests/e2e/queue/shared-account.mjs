// One amoCRM account, two n8n queue-mode workers spending on it at once: the
// scenario of issue 6/6, shared by the queue-mode suite (which asserts) and
// `npm run bench` (which prints).
//
// Each worker runs one execution: Create N leads (the node's defaults: 50
// per request, each batch read back), then Get Many with Return All of the
// M seeded leads (250 per page). The emulator allows 7 requests a second per
// token, as amoCRM does, and bans the token after repeated 429s, as amoCRM
// bans an IP: a banned run is a failed run.

import { randomUUID } from 'node:crypto';

import { createQueueCluster } from '../harness/cluster.mjs';
import { LEAD_NODE, emulator, longLivedCredential, packageTarball } from '../support.mjs';

export const PER_SECOND = 7;

/**
 * A queue-mode cluster (Postgres, Redis, main, `workers` workers that each
 * run one execution at a time) with the package installed and an owner
 * signed in. `stop()` it.
 */
export async function sharedAccountCluster({ version = '2.40.7', workers = 2, quiet = true } = {}) {
  const cluster = await createQueueCluster({
    version,
    workers,
    // One execution per worker at a time, so that two executions are two
    // processes spending on the account, not two calls in one process.
    workerConcurrency: 1,
    packageTarball: await packageTarball(),
    quiet,
  });
  try {
    await cluster.setupOwner();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

function workflow(name, credentialId, { creates, seededBefore, path }) {
  const node = (n) => ({ id: randomUUID(), typeVersion: 1, ...n });
  const amo = (n) =>
    node({ type: LEAD_NODE, credentials: { amoCrmKommoApi: { id: credentialId, name: 'amoCRM' } }, ...n });
  const nodes = [
    node({
      name: 'Webhook',
      type: 'n8n-nodes-base.webhook',
      typeVersion: 2,
      position: [0, 0],
      webhookId: randomUUID(),
      parameters: { httpMethod: 'POST', path, responseMode: 'onReceived', options: {} },
    }),
    node({
      name: 'Leads to create',
      type: 'n8n-nodes-base.set',
      typeVersion: 3.4,
      position: [200, 0],
      parameters: {
        mode: 'raw',
        jsonOutput: JSON.stringify({ leads: Array.from({ length: creates }, (_, i) => ({ name: `Queue lead ${i}`, price: i })) }),
        options: {},
      },
    }),
    node({
      name: 'One item per lead',
      type: 'n8n-nodes-base.splitOut',
      position: [400, 0],
      parameters: { fieldToSplitOut: 'leads', options: {} },
    }),
    amo({
      name: 'Create leads',
      position: [600, 0],
      parameters: {
        authentication: 'amoCrmKommoApi',
        operation: 'create',
        mapping: 'manual',
        name: '={{ $json.name }}',
        additionalFields: { price: '={{ $json.price }}' },
        options: {},
      },
    }),
    amo({
      name: 'Read the seeded leads',
      position: [800, 0],
      executeOnce: true,
      parameters: {
        authentication: 'amoCrmKommoApi',
        operation: 'getMany',
        returnAll: true,
        filters: { createdAtTo: seededBefore },
        options: {},
      },
    }),
    node({
      name: 'Count',
      type: 'n8n-nodes-base.summarize',
      typeVersion: 1.1,
      position: [1000, 0],
      parameters: { fieldsToSummarize: { values: [{ aggregation: 'count', field: 'id' }] }, options: {} },
    }),
  ];
  const connections = {};
  for (let i = 0; i < nodes.length - 1; i++) connections[nodes[i].name] = { main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]] };
  return { name, nodes, connections, settings: { executionOrder: 'v1' } };
}

/**
 * Runs the scenario once on `cluster` against a fresh emulator: each of the
 * cluster's workers runs Create `creates` + Return All `reads`. `processes`
 * is the credential's static divisor (1: the adaptive share alone).
 * Returns the figures; throws only when the set-up itself fails.
 */
export async function runSharedAccount(cluster, { creates = 5000, reads = 10000, processes = 1, banAfter429s = 10, timeoutMs = 900_000, keepLog = false } = {}) {
  const workers = cluster.workers.length;
  const amo = await emulator({ seed: { leads: reads }, rateLimit: PER_SECOND, banAfter429s, ban429WindowMs: 60_000, requestLogLimit: 100_000 });
  try {
    const token = await amo.longLivedToken();
    const seededBefore = new Date(Date.now() + 1000).toISOString();
    const cred = longLivedCredential(amo, token, { sharingProcesses: processes });
    const [credentialId] = await cluster.createCredentials([{ ...cred, name: `shared account ×${processes}` }]);
    const path = `shared-account-${randomUUID()}`;
    const workflowId = await cluster.createWorkflow(workflow(`Shared account (${processes})`, credentialId, { creates, seededBefore, path }));
    await cluster.activate(workflowId);
    await amo.resetStats();
    const started = Date.now();
    const calls = await Promise.all(Array.from({ length: workers }, () => cluster.webhook(path, { method: 'POST', body: {} })));
    for (const c of calls) if (c.status !== 200) throw new Error(`webhook answered ${c.status}: ${JSON.stringify(c.body)}`);
    const done = await cluster.waitForExecutions({ workflowId }, { count: workers, timeoutMs });
    const wallMs = Date.now() - started;
    await cluster.deactivate(workflowId);

    const stats = await amo.stats();
    const log = (await amo.requests({ limit: 100_000 })).filter((r) => r.path.startsWith('/api/v4/'));
    const times = log.map((r) => Date.parse(r.time));
    const ends = log.map((r) => Date.parse(r.time) + (r.durationMs ?? 0));
    const spanMs = Math.max(...ends) - Math.min(...times);
    const refused = log.filter((r) => r.status === 429).length;
    const banned = log.filter((r) => r.status === 403).length;
    const answered = log.length - refused - banned;
    const runs = await Promise.all(done.map((e) => cluster.getExecution(e.id)));
    const counts = runs.map((r) => (r.ok ? r.json('Count')?.[0]?.count_id ?? 0 : 0));
    return {
      workers,
      processes,
      creates,
      reads,
      executions: done.map((e, i) => ({ id: e.id, status: e.status, worker: e.worker, read: counts[i], error: runs[i].ok ? null : runs[i].describe() })),
      requests: log.length,
      refused,
      refusedShare: refused / log.length,
      banned,
      bannedAt: stats.bannedAt,
      leadsCreated: stats.leadsCreated,
      spanMs,
      wallMs,
      // Requests answered per second against the account's 7: the bound of
      // 7 requests/s × the batch or page size of each request.
      shareOfBound: answered / (spanMs / 1000) / PER_SECOND,
      itemsPerSecond: (workers * (creates + reads)) / (spanMs / 1000),
      ...(keepLog ? { log } : {}),
    };
  } finally {
    await amo.close();
  }
}

export function describeRun(r) {
  const pct = (x) => `${(100 * x).toFixed(1)} %`;
  return (
    `${r.workers} workers (static divisor ${r.processes}), each Create ${r.creates} + Return All ${r.reads}: ` +
    `${r.requests} requests, ${r.refused} × 429 (${pct(r.refusedShare)}), ${r.banned} refused by a ban, ` +
    `${r.leadsCreated} leads created, read ${r.executions.map((e) => e.read).join(' + ')}, ` +
    `${(r.spanMs / 1000).toFixed(1)} s, ${Math.round(r.itemsPerSecond)} items/s = ${pct(r.shareOfBound)} of the bound (7 requests/s), ` +
    `executions ${r.executions.map((e) => `${e.status} on worker ${e.worker}`).join(', ')}`
  );
}
