#!/usr/bin/env node
// Manual smoke check of the queue-mode cluster (cluster.mjs):
//   node tests/e2e/harness/cluster.smoke.mjs [--version=2.40.7] [--workers=2] [--calls=20]
// Builds a throwaway community package whose node reports the pid of the
// process that ran it, starts PostgreSQL + Redis + n8n main + workers, and:
//   - imports a credential and a Webhook → node workflow through the CLI
//     (an n8n process pointed at the cluster's Postgres), creates a
//     credential and a second workflow (Webhook → HTTP Request with the
//     CLI-imported credential → node) through REST, activates both;
//   - fires `calls` concurrent webhook calls (+1 on the second workflow) and
//     checks that the WORKERS ran every execution — three independent ways:
//     the pids in the responses, the workers' logs ("Worker started
//     execution N") matched to the execution records, main's log
//     ("Enqueued execution N") — and that every worker got some;
//   - checks that a worker decrypted the CLI-imported credential (a local
//     HTTP server sees its header) and that the CLI decrypts the
//     REST-created one (one encryption key everywhere).
// Prints how many executions each worker ran, stops everything, exits 0
// (1 on any failure). Ctrl-C or kill at any point leaves no process or temp
// folder behind (processes.mjs / reaper.mjs).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { createQueueCluster } from './cluster.mjs';
import { npmPack } from './index.mjs';
import { registerTempDir, removeTempDir, startReaper } from './processes.mjs';

const arg = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const VERSION = arg('version', '2.40.7');
const WORKERS = Number(arg('workers', 2));
const CALLS = Number(arg('calls', 20));
const PKG = 'n8n-nodes-cluster-smoke';
const NODE_TYPE = `${PKG}.whoRanMe`;

/** A package with one node that outputs {pid, input} per item. */
async function buildPackage() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-cluster-smoke-pkg-'));
  registerTempDir(dir); // removed on exit / SIGINT / SIGTERM …
  startReaper(dir, dir); // … and by a watchdog if this process is SIGKILLed
  const nodeDir = path.join(dir, 'dist', 'nodes', 'WhoRanMe');
  fs.mkdirSync(nodeDir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: PKG,
      version: '0.0.1',
      license: 'MIT',
      keywords: ['n8n-community-node-package'],
      files: ['dist'],
      n8n: { n8nNodesApiVersion: 1, strict: true, credentials: [], nodes: ['dist/nodes/WhoRanMe/WhoRanMe.node.js'] },
      peerDependencies: { 'n8n-workflow': '*' },
    }),
  );
  fs.writeFileSync(
    path.join(nodeDir, 'WhoRanMe.node.js'),
    `'use strict';
const { NodeConnectionTypes } = require('n8n-workflow');
class WhoRanMe {
  constructor() {
    this.description = {
      displayName: 'Who Ran Me', name: 'whoRanMe', group: ['transform'], version: 1,
      description: 'Outputs the pid of the n8n process executing it',
      defaults: { name: 'Who Ran Me' },
      inputs: [NodeConnectionTypes.Main], outputs: [NodeConnectionTypes.Main], properties: [],
    };
  }
  async execute() {
    const items = this.getInputData();
    // A little work so that executions overlap.
    await new Promise((r) => setTimeout(r, 200));
    return [items.map((item, i) => ({ json: { pid: process.pid, input: item.json.body ?? null }, pairedItem: { item: i } }))];
  }
}
module.exports = { WhoRanMe };
`,
  );
  return { dir, tarball: await npmPack(dir) };
}

const webhookNode = (webhookPath) => ({
  id: randomUUID(),
  name: 'Webhook',
  type: 'n8n-nodes-base.webhook',
  typeVersion: 2,
  position: [0, 0],
  webhookId: randomUUID(),
  parameters: { httpMethod: 'POST', path: webhookPath, responseMode: 'lastNode', options: {} },
});
const whoNode = () => ({
  id: randomUUID(),
  name: 'Who',
  type: NODE_TYPE,
  typeVersion: 1,
  position: [440, 0],
  parameters: {},
});

/** Webhook → Who Ran Me. */
const webhookWorkflow = (name, webhookPath) => ({
  name,
  nodes: [webhookNode(webhookPath), whoNode()],
  connections: { Webhook: { main: [[{ node: 'Who', type: 'main', index: 0 }]] } },
  settings: { executionOrder: 'v1' },
});

/** Webhook → HTTP Request (header auth credential) → Who Ran Me. */
const credentialWorkflow = (name, webhookPath, url, credentialId) => ({
  name,
  nodes: [
    webhookNode(webhookPath),
    {
      id: randomUUID(),
      name: 'Call',
      type: 'n8n-nodes-base.httpRequest',
      typeVersion: 4.2,
      position: [220, 0],
      parameters: {
        method: 'GET',
        url,
        authentication: 'genericCredentialType',
        genericAuthType: 'httpHeaderAuth',
        options: {},
      },
      credentials: { httpHeaderAuth: { id: credentialId, name: 'smoke header' } },
    },
    whoNode(),
  ],
  connections: {
    Webhook: { main: [[{ node: 'Call', type: 'main', index: 0 }]] },
    Call: { main: [[{ node: 'Who', type: 'main', index: 0 }]] },
  },
  settings: { executionOrder: 'v1' },
});

/** A local HTTP server recording the X-Smoke header of each request. */
async function headerRecorder() {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers['x-smoke'] ?? null);
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { seen, url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

const fail = (msg) => {
  throw new Error(msg);
};

async function main() {
  const t0 = Date.now();
  const pkg = await buildPackage();
  const recorder = await headerRecorder();
  let cluster;
  try {
    cluster = await createQueueCluster({ version: VERSION, workers: WORKERS, packageTarball: pkg.tarball });
    const workerPids = new Map(cluster.workers.map((w) => [w.pid, w.index]));
    const t1 = Date.now();
    const pathA = `smoke-cli-${randomUUID()}`;
    const pathB = `smoke-rest-${randomUUID()}`;
    // CLI imports (each boots an n8n against the same Postgres) next to REST work.
    const header = (value) => ({ type: 'httpHeaderAuth', data: { name: 'X-Smoke', value } });
    const [[credCli], idA, [credRest]] = await Promise.all([
      cluster.importCredentials([{ name: 'smoke header (CLI)', ...header('from-cli') }]),
      cluster.importWorkflow(webhookWorkflow('cluster smoke: CLI import', pathA)),
      cluster
        .setupOwner()
        .then(() => cluster.createCredentials([{ name: 'smoke header (REST)', ...header('from-rest') }])),
    ]);
    const idB = await cluster.createWorkflow(
      credentialWorkflow('cluster smoke: REST create', pathB, recorder.url, credCli),
    );
    await Promise.all([cluster.activate(idA), cluster.activate(idB)]);
    console.log(
      `[smoke] credentials + workflows imported (CLI + REST) and activated in ${((Date.now() - t1) / 1000).toFixed(1)}s`,
    );

    const t2 = Date.now();
    const responses = await Promise.all([
      ...Array.from({ length: CALLS }, (_, i) => cluster.webhook(pathA, { body: { i } })),
      cluster.webhook(pathB, { body: { rest: true } }),
    ]);
    const callsMs = Date.now() - t2;
    for (const r of responses) {
      if (r.status !== 200 || typeof r.body?.pid !== 'number')
        fail(`webhook answered ${r.status}: ${JSON.stringify(r.body)}`);
    }
    const seen = responses
      .slice(0, CALLS)
      .map((r) => r.body.input?.i)
      .sort((a, b) => a - b);
    if (seen.join() !== Array.from({ length: CALLS }, (_, i) => i).join()) fail(`inputs came back as ${seen}`);

    const execs = await cluster.waitForExecutions({ workflowId: idA }, { count: CALLS, timeoutMs: 60_000 });
    const [execB] = await cluster.waitForExecutions({ workflowId: idB }, { count: 1 });
    const notOk = execs.filter((e) => e.status !== 'success');
    if (notOk.length) fail(`executions not successful: ${JSON.stringify(notOk.map((e) => [e.id, e.status]))}`);

    // 1. pids in the responses (the node ran in that process).
    const byPid = {};
    for (const r of responses.slice(0, CALLS)) {
      const w = workerPids.get(r.body.pid);
      if (w === undefined) fail(`execution ran in pid ${r.body.pid}, not a worker (main is ${cluster.main.child.pid})`);
      byPid[w] = (byPid[w] ?? 0) + 1;
    }
    // 2. the workers' logs, matched to the execution records.
    const missing = execs.filter((e) => e.worker === null).map((e) => e.id);
    if (missing.length) fail(`no worker logged executions ${missing}`);
    if (execB.worker === null) fail(`no worker logged the REST workflow's execution ${execB.id}`);
    const byLog = {};
    for (const e of execs) byLog[e.worker] = (byLog[e.worker] ?? 0) + 1;
    // 3. main enqueued them (and never ran one itself: no worker log line in it).
    const enqueued = new Set(cluster.enqueuedExecutions());
    const notEnqueued = execs.filter((e) => !enqueued.has(String(e.id))).map((e) => e.id);
    if (notEnqueued.length) fail(`main did not log "Enqueued execution" for ${notEnqueued}`);
    if (/Worker started execution/.test(cluster.mainLogs())) fail('main ran an execution itself');
    // 4. full execution data is readable from main (stored by the worker).
    const run = await cluster.getExecution(execs[0].id);
    if (!run.ok || typeof run.json('Who')[0]?.pid !== 'number') fail(`execution ${execs[0].id}: ${run.describe()}`);

    for (const w of cluster.workers) {
      console.log(
        `[smoke] worker ${w.index} (pid ${w.pid}): ${byLog[w.index] ?? 0} of ${CALLS} executions by its log, ${byPid[w.index] ?? 0} by the pid in the response`,
      );
    }
    console.log(
      `[smoke] ${CALLS} concurrent webhook calls answered in ${(callsMs / 1000).toFixed(1)}s; all ${CALLS} enqueued by main`,
    );
    const idle = cluster.workers.filter((w) => !byLog[w.index]);
    if (idle.length) fail(`worker(s) ${idle.map((w) => w.index)} ran nothing: executions did not spread`);
    for (const w of cluster.workers)
      if ((byLog[w.index] ?? 0) !== (byPid[w.index] ?? 0)) fail('logs and pids disagree');

    // 5. one encryption key: a worker decrypted the CLI-imported credential,
    //    the CLI decrypts the REST-created one.
    if (recorder.seen.join() !== 'from-cli') fail(`HTTP Request sent X-Smoke ${JSON.stringify(recorder.seen)}`);
    const exported = await cluster.exportCredentials(credRest);
    if (exported.data?.value !== 'from-rest') fail(`export:credentials gave ${JSON.stringify(exported.data)}`);
    console.log(
      `[smoke] credentials: worker ${execB.worker} sent the CLI-imported header; CLI decrypted the REST-created one`,
    );
  } finally {
    await recorder.close();
    await cluster?.stop();
    removeTempDir(pkg.dir);
  }
  console.log(`[smoke] OK in ${((Date.now() - t0) / 1000).toFixed(1)}s; timings: ${JSON.stringify(cluster.timings)}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`[smoke] FAILED: ${e?.stack || e}`);
    process.exit(1);
  },
);
