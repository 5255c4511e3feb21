// Smoke test of the harness against both n8n versions:
//   node --test tests/e2e/harness/smoke.test.mjs
// For each version: build a throwaway community package (one node emitting
// {hello: 'world'}) in a temp dir, install it into a fresh n8n, run
// Manual Trigger → Hello via `n8n execute`, then under `n8n start` activate a
// Webhook → Hello workflow and call its production webhook.
// n8n missing is a failure, not a skip: ensureN8n installs it (or throws).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { createN8nInstance, ensureN8n, npmPack } from './index.mjs';
import { registerTempDir } from './processes.mjs';

const VERSIONS = (process.env.N8N_E2E_VERSIONS || '2.40.7,2.8.4')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const PKG = 'n8n-nodes-harness-hello';
const NODE_TYPE = `${PKG}.helloWorld`;

/** Writes the throwaway package into a temp dir and packs it. */
async function buildHelloPackage() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-harness-pkg-'));
  registerTempDir(dir); // removed on exit / SIGINT / SIGTERM too
  const nodeDir = path.join(dir, 'dist', 'nodes', 'HelloWorld');
  fs.mkdirSync(nodeDir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify(
      {
        name: PKG,
        version: '0.0.1',
        description: 'throwaway package built by tests/e2e/harness/smoke.test.mjs',
        license: 'MIT',
        keywords: ['n8n-community-node-package'],
        files: ['dist'],
        n8n: {
          n8nNodesApiVersion: 1,
          strict: true,
          credentials: [],
          nodes: ['dist/nodes/HelloWorld/HelloWorld.node.js'],
        },
        peerDependencies: { 'n8n-workflow': '*' },
      },
      null,
      2,
    ),
  );
  // Requires n8n-workflow like a real package does: checks that the peer
  // dependency resolves to n8n's own copy from .n8n/nodes/node_modules.
  fs.writeFileSync(
    path.join(nodeDir, 'HelloWorld.node.js'),
    `'use strict';
const { NodeConnectionTypes } = require('n8n-workflow');
class HelloWorld {
  constructor() {
    this.description = {
      displayName: 'Hello World',
      name: 'helloWorld',
      group: ['transform'],
      version: 1,
      description: 'Outputs {hello: "world"} once per input item',
      defaults: { name: 'Hello World' },
      inputs: [NodeConnectionTypes.Main],
      outputs: [NodeConnectionTypes.Main],
      properties: [],
    };
  }
  async execute() {
    const items = this.getInputData();
    return [items.map((_, i) => ({ json: { hello: 'world' }, pairedItem: { item: i } }))];
  }
}
module.exports = { HelloWorld };
`,
  );
  const tarball = await npmPack(dir);
  return { dir, tarball };
}

const manualWorkflow = () => ({
  name: 'harness smoke: manual',
  nodes: [
    {
      id: randomUUID(),
      name: 'Manual',
      type: 'n8n-nodes-base.manualTrigger',
      typeVersion: 1,
      position: [0, 0],
      parameters: {},
    },
    { id: randomUUID(), name: 'Hello', type: NODE_TYPE, typeVersion: 1, position: [220, 0], parameters: {} },
  ],
  connections: { Manual: { main: [[{ node: 'Hello', type: 'main', index: 0 }]] } },
});

const webhookWorkflow = (webhookPath) => ({
  name: 'harness smoke: webhook',
  nodes: [
    {
      id: randomUUID(),
      name: 'Webhook',
      type: 'n8n-nodes-base.webhook',
      typeVersion: 2,
      position: [0, 0],
      webhookId: randomUUID(),
      parameters: { httpMethod: 'POST', path: webhookPath, responseMode: 'lastNode', options: {} },
    },
    { id: randomUUID(), name: 'Hello', type: NODE_TYPE, typeVersion: 1, position: [220, 0], parameters: {} },
  ],
  connections: { Webhook: { main: [[{ node: 'Hello', type: 'main', index: 0 }]] } },
});

/** A stand-in OAuth2 token endpoint on 127.0.0.1 that records what n8n sends. */
function startTokenServer() {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, body: Object.fromEntries(new URLSearchParams(body)) });
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ access_token: 'AT-new', refresh_token: 'RT-new', token_type: 'Bearer', expires_in: 86400 }),
      );
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, requests, url: `http://127.0.0.1:${server.address().port}` }),
    ),
  );
}

const oauthCredential = (name, base, extra = {}) => ({
  name,
  type: 'oAuth2Api',
  data: {
    grantType: 'authorizationCode',
    authUrl: `${base}/authorize`,
    accessTokenUrl: `${base}/token`,
    clientId: 'cid',
    clientSecret: 'csecret',
    scope: '',
    authQueryParameters: '',
    authentication: 'body',
    ...extra,
  },
});

let pkg;
let tokenServer;
before(async () => {
  pkg = await buildHelloPackage();
  tokenServer = await startTokenServer();
});
after(() => {
  if (pkg) fs.rmSync(pkg.dir, { recursive: true, force: true });
  tokenServer?.server.close();
});

// The versions run side by side (separate user folders, ports, processes).
describe('harness smoke', { concurrency: VERSIONS.length }, () => {
  for (const version of VERSIONS) {
    const webhookPath = `harness-${version.replace(/\./g, '-')}`;
    // Sequential within a version: its commands share one SQLite database.
    describe(`n8n ${version}`, { concurrency: 1 }, () => {
      let n8n;
      const ids = {};

      before(async () => {
        // Fails (does not skip) when n8n cannot be installed.
        const t0 = Date.now();
        const info = await ensureN8n(version);
        assert.ok(fs.existsSync(info.n8nBin), `${info.n8nBin} missing`);
        console.log(`[${version}] ensureN8n ${Date.now() - t0} ms`);
        n8n = await createN8nInstance({ version, packageTarball: pkg.tarball });
        // Every CLI command boots n8n (~4-8 s): import everything in one go.
        const missing = manualWorkflow();
        missing.nodes[1].type = `${PKG}.noSuchNode`;
        [ids.manual, ids.missing, ids.webhook] = await n8n.importWorkflow([
          manualWorkflow(),
          missing,
          webhookWorkflow(webhookPath),
        ]);
        [ids.seeded, ids.connect] = await n8n.importCredentials([
          oauthCredential('harness seeded', tokenServer.url, {
            oauthTokenData: { access_token: 'AT1', refresh_token: 'RT1', token_type: 'Bearer', expires_in: 86400 },
          }),
          oauthCredential(`harness connect ${version}`, tokenServer.url),
        ]);
      });

      after(async () => {
        if (!n8n) return;
        console.log(`[${version}] timings ${JSON.stringify(n8n.timings)}`);
        const root = n8n.root;
        await n8n.cleanup();
        assert.equal(fs.existsSync(root), false, 'temp folder removed');
      });

      test('community package is installed where n8n scans for it', () => {
        assert.equal(n8n.installedPackage.name, PKG);
        assert.ok(fs.existsSync(path.join(n8n.userFolder, '.n8n', 'nodes', 'node_modules', PKG, 'package.json')));
      });

      test('n8n execute: Manual Trigger → Hello World outputs {hello: "world"}', async () => {
        const r = await n8n.execute(ids.manual);
        console.log(`[${version}] execute ${r.ms} ms`);
        assert.ok(r.ok, r.describe());
        assert.deepEqual(r.json('Hello'), [{ hello: 'world' }]);
        assert.deepEqual(r.nodeNames.sort(), ['Hello', 'Manual']);
      });

      test('n8n execute-batch: several workflows in one boot', async () => {
        const t0 = Date.now();
        const res = await n8n.executeMany([ids.manual, ids.missing]);
        console.log(`[${version}] executeMany(2) ${Date.now() - t0} ms`);
        assert.ok(res[ids.manual].ok, res[ids.manual].describe());
        assert.deepEqual(res[ids.manual].json('Hello'), [{ hello: 'world' }]);
        assert.equal(res[ids.missing].ok, false);
        assert.match(res[ids.missing].errorMessage, /Unrecognized node type/);
      });

      test('credentials: plain data and oauthTokenData imported, read back decrypted', async () => {
        const c = await n8n.exportCredentials(ids.seeded);
        assert.equal(c.type, 'oAuth2Api');
        assert.equal(c.data.clientSecret, 'csecret');
        assert.deepEqual(c.data.oauthTokenData, {
          access_token: 'AT1',
          refresh_token: 'RT1',
          token_type: 'Bearer',
          expires_in: 86400,
        });
      });

      test('n8n execute: a node type that did not load is reported, not hidden', async () => {
        await assert.rejects(n8n.execute(ids.missing), /Unrecognized node type: n8n-nodes-harness-hello\.noSuchNode/);
      });

      describe('under n8n start', { concurrency: 1 }, () => {
        let server;
        before(async () => {
          server = await n8n.start();
          console.log(`[${version}] start ${server.startMs} ms at ${server.url}`);
          await server.setupOwner();
        });
        after(async () => {
          await server?.stop();
        });
        const withLog = (fn) => async () => {
          try {
            await fn();
          } catch (e) {
            e.message += `\n--- server log (tail) ---\n${server?.logs().split('\n').slice(-40).join('\n')}`;
            throw e;
          }
        };

        test(
          'activated webhook workflow answers through the package node',
          withLog(async () => {
            const id = ids.webhook;
            await server.activate(id);
            const res = await server.webhook(webhookPath, { body: { ping: 1 } });
            assert.equal(res.status, 200, JSON.stringify(res.body));
            assert.deepEqual(res.body, { hello: 'world' });

            const ex = await server.waitForExecution({ workflowId: id });
            assert.equal(ex.status, 'success');
            const run = await server.getExecution(ex.id);
            assert.ok(run.ok, run.describe());
            assert.deepEqual(run.json('Hello'), [{ hello: 'world' }]);
            assert.deepEqual(run.json('Webhook')[0].body, { ping: 1 });
          }),
        );

        test(
          'OAuth2 connect: auth URL, callback, code exchanged on 127.0.0.1, tokens stored',
          withLog(async () => {
            const authUrl = new URL(await server.oauth2AuthUrl(ids.connect));
            const redirectUri = `${server.url}/rest/oauth2-credential/callback`;
            assert.equal(authUrl.origin, tokenServer.url);
            assert.equal(authUrl.searchParams.get('redirect_uri'), redirectUri);
            const code = `code-${version}`;
            const cb = await server.oauth2Callback({ code, state: authUrl.searchParams.get('state') });
            assert.ok(cb.ok, `callback failed: ${cb.status} ${String(cb.body).slice(0, 500)}`);
            const exchange = tokenServer.requests.find((r) => r.body.code === code);
            assert.deepEqual(exchange?.body, {
              code,
              grant_type: 'authorization_code',
              redirect_uri: redirectUri,
              client_id: 'cid',
              client_secret: 'csecret',
            });
            // Read-only CLI command next to the running server (same SQLite DB).
            const c = await n8n.exportCredentials(ids.connect);
            assert.equal(c.data.oauthTokenData.access_token, 'AT-new');
            assert.equal(c.data.oauthTokenData.refresh_token, 'RT-new');
          }),
        );
      });
    });
  }
});
