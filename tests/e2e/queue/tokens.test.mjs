// Queue mode, tokens: a real n8n scaling deployment (PostgreSQL, Redis, n8n
// main and two workers, tests/e2e/harness/cluster.mjs) with the package
// installed and the emulator on loopback. Twenty executions at once, spread
// over both workers, hit an expired OAuth access token:
//   - "AmoCRM API" in OAuth mode (the core renews inside preAuthentication):
//     each worker renews once for its executions; the worker that loses the
//     race (amoCRM: "Token has been revoked") reads the pair the winner
//     saved and goes on. 0 failed executions, at most 2 refresh requests, 1
//     refresh grant, and the credential still works afterwards.
//   - "AmoCRM OAuth2 API" (n8n's Connect button; n8n renews): what n8n itself
//     does across workers, measured and printed for each version.
// The race is forced, not left to timing: the first token request is held 4 s
// at the emulator, so the other worker's renewal overtakes it and spends the
// refresh token first, and the held one is then refused as already used.
// Run by scripts/test.mjs in its `queue` phase; N8N_E2E_VERSIONS narrows it.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { createQueueCluster } from '../harness/cluster.mjs';
import { Amo, VERSIONS, emulator, getLeadNode, oauthCredential, packageTarball, textOf, webhookWorkflow } from '../support.mjs';

const CALLS = 20;
const HOLD_FIRST_TOKEN_REQUEST = { method: 'POST', path: '/oauth2/access_token', kind: 'delay', delayMs: 4000, count: 1 };

/** Webhook (answers with the last node's output) → AmoCRM Lead: Get. */
const webhookGet = (name, path, leadId, credentialType, credentialId) =>
  webhookWorkflow(name, path, getLeadNode(leadId, credentialType, credentialId));

describe('queue mode: tokens across workers', { concurrency: 1 }, () => {
  for (const version of VERSIONS) {
    describe(`n8n ${version}, main + 2 workers`, { concurrency: 1 }, () => {
      /** @type {Amo} */ let amo;
      let cluster;
      let leadId;
      const creds = {};
      const wf = {};
      const paths = { api: `api-${randomUUID()}`, oauth2: `oauth2-${randomUUID()}` };

      before(async () => {
        // Rate limit off: this file is about tokens (the shared request
        // budget across workers is measured elsewhere).
        amo = await emulator({ seed: 'demo', rateLimit: 0 });
        const token = await amo.longLivedToken();
        leadId = (await amo.api(token, 'GET', '/api/v4/leads?limit=1')).body._embedded.leads[0].id;
        cluster = await createQueueCluster({ version, workers: 2, packageTarball: await packageTarball(), quiet: true });
        const callback = `${cluster.url}/rest/oauth2-credential/callback`;
        await amo.admin('POST', '/config', { redirectUri: callback });
        const { code } = await amo.admin('POST', '/oauth/code', {});
        await cluster.setupOwner();
        const integration = amo.emu.state.integration;
        [creds.api, creds.oauth2] = await cluster.createCredentials([
          oauthCredential(amo, { authorizationCode: code, redirectUri: callback }),
          {
            name: 'amoCRM (n8n OAuth2)',
            type: 'amoCrmKommoOAuth2Api',
            data: { environment: 'local', localPort: amo.emu.port, clientId: integration.clientId, clientSecret: integration.clientSecret, requestsPerSecond: 7 },
          },
        ]);
        [wf.api, wf.oauth2] = await cluster.createWorkflow([
          webhookGet('queue: AmoCRM API (OAuth)', paths.api, leadId, 'amoCrmKommoApi', creds.api),
          webhookGet('queue: AmoCRM OAuth2 API', paths.oauth2, leadId, 'amoCrmKommoOAuth2Api', creds.oauth2),
        ]);
        await Promise.all([cluster.activate(wf.api), cluster.activate(wf.oauth2)]);
      });

      after(async () => {
        await cluster?.stop();
        await amo?.close();
      });

      /**
       * Expires every token, holds the first token request, fires CALLS webhook
       * calls at once and returns the figures.
       */
      async function burst(path, workflowId) {
        const before = (await cluster.listExecutions({ workflowId })).length;
        await amo.admin('POST', '/tokens/expire', { all: true });
        await amo.admin('POST', '/faults', HOLD_FIRST_TOKEN_REQUEST);
        await amo.resetStats();
        const t0 = Date.now();
        const answers = await Promise.all(Array.from({ length: CALLS }, (_, i) => cluster.webhook(path, { body: { i } })));
        const ms = Date.now() - t0;
        await amo.admin('DELETE', '/faults');
        const all = await cluster.waitForExecutions({ workflowId }, { count: before + CALLS, timeoutMs: 120_000 });
        const executions = all.slice(0, CALLS); // newest first
        const stats = await amo.stats();
        const refreshRequests = (await amo.requests({ path: '/oauth2/access_token' })).filter((r) => /refresh_token/.test(r.body));
        const failed = executions.filter((e) => e.status !== 'success');
        const errors = [];
        for (const e of failed.slice(0, 3)) errors.push((await cluster.getExecution(e.id)).errorMessage);
        const byWorker = {};
        for (const e of executions) byWorker[e.worker ?? 'none'] = (byWorker[e.worker ?? 'none'] ?? 0) + 1;
        return {
          answers,
          ms,
          failed,
          errors,
          byWorker,
          refreshGrants: stats.tokenGrants.refresh_token,
          refreshRequests: refreshRequests.length,
          refused: stats.tokenErrors,
          unauthorized: stats.calls['GET /api/v4/leads/{id}']?.['401'] ?? 0,
        };
      }

      const print = (label, f) =>
        console.log(
          `[queue ${version}] ${label}: ${CALLS} executions at once over workers ${JSON.stringify(f.byWorker)} in ${(f.ms / 1000).toFixed(1)} s; ` +
            `failed executions ${f.failed.length}; refresh requests ${f.refreshRequests} (grants ${f.refreshGrants}, refused ${f.refused}); ` +
            `401s seen by amoCRM ${f.unauthorized}` +
            (f.errors.length ? `; errors: ${f.errors.map((e) => String(e).slice(0, 300)).join(' | ')}` : ''),
        );

      test('AmoCRM API (OAuth, renewed by the core): 20 executions over both workers with an expired token, none fails, at most 2 refreshes', async () => {
        const first = await cluster.webhook(paths.api, { body: {} });
        assert.equal(first.status, 200, `code exchange: ${textOf(first.body)}`);
        const f = await burst(paths.api, wf.api);
        print('AmoCRM API, OAuth', f);
        assert.deepEqual(f.failed.map((e) => [e.id, e.status]), []);
        for (const a of f.answers) assert.equal((Array.isArray(a.body) ? a.body[0] : a.body)?.id, leadId, textOf(a.body).slice(0, 300));
        assert.ok(Object.keys(f.byWorker).length === 2 && !f.byWorker.none, `both workers ran executions: ${JSON.stringify(f.byWorker)}`);
        assert.ok(f.refreshRequests <= 2, `${f.refreshRequests} refresh requests`);
        assert.equal(f.refreshGrants, 1, 'one refresh token spent, one pair in use');
        assert.equal(f.refused, 1, 'the race happened: one worker was refused, and recovered');
        // The credential still works: a later execution uses the saved pair, no refresh.
        await amo.resetStats();
        const later = await cluster.webhook(paths.api, { body: {} });
        assert.equal((Array.isArray(later.body) ? later.body[0] : later.body)?.id, leadId, textOf(later.body));
        assert.equal((await amo.stats()).tokenGrants.refresh_token, 0);
        const { data } = await cluster.exportCredentials(creds.api);
        const live = (await amo.admin('GET', '/tokens')).refresh.filter((r) => !r.revoked && !r.expired).map((r) => r.token);
        assert.ok(live.includes(data.refreshToken), 'the stored refresh token is the live one');
      });

      test("AmoCRM OAuth2 API (n8n's Connect button, renewed by n8n): what n8n does across workers", async () => {
        // Connect through main, as the editor does.
        const authUrl = await cluster.main.oauth2AuthUrl(creds.oauth2);
        const url = new URL(typeof authUrl === 'string' ? authUrl : authUrl.data ?? authUrl);
        url.searchParams.set('auto', '1');
        const consent = await fetch(url, { redirect: 'manual' });
        const done = await cluster.main.oauth2Callback(Object.fromEntries(new URL(consent.headers.get('location')).searchParams));
        assert.ok(done.ok, `callback: ${done.status}`);
        // n8n's refresh sends no redirect_uri: let the emulator accept that.
        await amo.admin('POST', '/config', { refreshRequiresRedirectUri: false });
        try {
          const first = await cluster.webhook(paths.oauth2, { body: {} });
          assert.equal(first.status, 200, textOf(first.body));
          const f = await burst(paths.oauth2, wf.oauth2);
          print("AmoCRM OAuth2 API (n8n's refresh)", f);
          const later = await cluster.webhook(paths.oauth2, { body: {} });
          const stillWorks = (Array.isArray(later.body) ? later.body[0] : later.body)?.id === leadId;
          console.log(`[queue ${version}] AmoCRM OAuth2 API: the credential ${stillWorks ? 'still works' : 'no longer works'} afterwards`);
          if (version === '2.8.4') {
            // No lock around n8n's refresh in 2.8.x, not even within a
            // process: every execution that got a 401 refreshes on its own,
            // all but one are refused, and those executions fail.
            assert.ok(f.refreshRequests >= 2, `2.8.4 sent ${f.refreshRequests} refreshes`);
            assert.ok(f.failed.length > 0, '2.8.4 fails executions');
          } else {
            // 2.30+: one refresh under a Redis lock, the others reuse its pair.
            assert.deepEqual(f.failed.map((e) => [e.id, e.status]), []);
            assert.equal(f.refreshGrants, 1);
          }
          assert.ok(stillWorks, textOf(later.body));
        } finally {
          await amo.admin('POST', '/config', { refreshRequiresRedirectUri: true });
        }
      });
    });
  }
});
