// What needs a running n8n (`n8n start`), against the emulator:
//   - the credential test of the editor (good token, bad token, refused address)
//   - ten executions at once hitting an expired OAuth token: one refresh
//   - the "AmoCRM OAuth2 API" credential: Connect flow and n8n's own refresh
//   - the AmoCRM Trigger: subscription on activation, events, removal
//   - the HTTP Request node refused the package's credential

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { getFreePort } from './harness/index.mjs';
import {
  Amo,
  TRIGGER_NODE,
  VERSIONS,
  emulator,
  getLeadNode,
  longLivedCredential,
  n8nWithPackage,
  oauthCredential,
  textOf,
  webhookWorkflow,
} from './support.mjs';

/** A local server that records every request: what the HTTP Request node might leak to. */
async function recorder() {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url, headers: req.headers });
    res.end('{}');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { seen, url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

describe('n8n start', { concurrency: 1 }, () => {
  for (const version of VERSIONS) {
    describe(`n8n ${version}`, { concurrency: 1 }, () => {
      /** @type {Amo} */ let amo;
      let n8n;
      let server;
      let sink;
      let leadId;
      let token;
      const creds = {};
      const wf = {};
      const paths = { concurrent: `concurrent-${randomUUID()}`, oauth2: `oauth2-${randomUUID()}`, misuse: `misuse-${randomUUID()}` };

      before(async () => {
        amo = await emulator({ seed: 'demo', rateLimit: 7 });
        sink = await recorder();
        token = await amo.longLivedToken();
        leadId = (await amo.api(token, 'GET', '/api/v4/leads?limit=1')).body._embedded.leads[0].id;
        const port = await getFreePort();
        const callback = `http://127.0.0.1:${port}/rest/oauth2-credential/callback`;
        // The integration's redirect URI is n8n's callback, as a user registers it.
        await amo.admin('POST', '/config', { redirectUri: callback });
        const { code } = await amo.admin('POST', '/oauth/code', {});
        n8n = await n8nWithPackage(version);
        const integration = amo.emu.state.integration;
        [creds.longLived, creds.oauth, creds.oauth2, creds.bad, creds.refused] = await n8n.importCredentials([
          longLivedCredential(amo, token),
          oauthCredential(amo, { authorizationCode: code, redirectUri: callback }),
          {
            name: 'amoCRM (n8n OAuth2)',
            type: 'amoCrmKommoOAuth2Api',
            data: {
              environment: 'local',
              localPort: amo.emu.port,
              clientId: integration.clientId,
              clientSecret: integration.clientSecret,
              requestsPerSecond: 7,
            },
          },
          // Saved as the editor saves before it tests.
          longLivedCredential(amo, 'not-a-valid-token'),
          longLivedCredential(amo, token, { baseUrl: 'http://192.168.7.7:80' }),
        ]);
        [wf.concurrent, wf.oauth2, wf.misuse, wf.trigger] = await n8n.importWorkflow([
          webhookWorkflow('ten at once', paths.concurrent, getLeadNode(leadId, 'amoCrmKommoApi', creds.oauth)),
          webhookWorkflow('n8n oauth2', paths.oauth2, getLeadNode(leadId, 'amoCrmKommoOAuth2Api', creds.oauth2)),
          webhookWorkflow('misuse', paths.misuse, {
            name: 'HTTP Request',
            type: 'n8n-nodes-base.httpRequest',
            typeVersion: 4.2,
            parameters: { method: 'GET', url: `${sink.url}/steal`, authentication: 'predefinedCredentialType', nodeCredentialType: 'amoCrmKommoApi', options: {} },
            credentials: { amoCrmKommoApi: { id: creds.longLived, name: 'amoCRM' } },
            onError: 'continueRegularOutput',
          }),
          {
            name: 'trigger',
            nodes: [
              {
                id: randomUUID(),
                name: 'AmoCRM Trigger',
                type: TRIGGER_NODE,
                typeVersion: 1,
                position: [0, 0],
                webhookId: randomUUID(),
                parameters: { authentication: 'amoCrmKommoApi', events: ['add_lead', 'status_lead'], options: {} },
                credentials: { amoCrmKommoApi: { id: creds.longLived, name: 'amoCRM' } },
              },
            ],
            connections: {},
            settings: { executionOrder: 'v1' },
          },
        ]);
        for (const w of [wf.concurrent, wf.oauth2, wf.misuse]) await n8n.publishWorkflow(w);
        server = await n8n.start({ port });
        await server.setupOwner().catch(() => server.login());
      });

      after(async () => {
        await n8n?.cleanup();
        await sink?.close();
        await amo?.close();
      });

      test("the editor's credential test accepts a good token and explains a bad token and a refused address", async () => {
        // The editor saves a credential, then tests it with its stored ID and the form's data.
        const check = async (credentialId, data) => {
          const r = await server.rest.raw('POST', '/rest/credentials/test', { body: { credentials: { id: credentialId, name: 'amoCRM', type: 'amoCrmKommoApi', data } } });
          return r.body?.data ?? r.body;
        };
        const good = await check(creds.longLived, longLivedCredential(amo, token).data);
        assert.equal(good.status, 'OK', JSON.stringify(good));
        const bad = await check(creds.bad, longLivedCredential(amo, 'not-a-valid-token').data);
        assert.equal(bad.status, 'Error', JSON.stringify(bad));
        const refused = await check(creds.refused, longLivedCredential(amo, token, { baseUrl: 'http://192.168.7.7:80' }).data);
        assert.equal(refused.status, 'Error', JSON.stringify(refused));
        assert.match(refused.message, /loopback/);
        assert.ok(!textOf([bad, refused]).includes(token));
      });

      test('the AmoCRM Trigger subscribes on activation, turns events into items, and unsubscribes on deactivation', async () => {
        await server.activate(wf.trigger);
        const hooks = (await amo.api(token, 'GET', '/api/v4/webhooks')).body?._embedded?.webhooks ?? [];
        const mine = hooks.find((h) => h.destination.startsWith(server.url));
        assert.ok(mine, JSON.stringify(hooks));
        assert.deepEqual([...mine.settings].sort(), ['add_lead', 'status_lead']);
        assert.equal(mine.disabled, false);

        // A lead moves to "won" in amoCRM: the trigger runs with the event.
        await amo.admin('PATCH', `/leads/${leadId}`, { status_id: 142, pipeline_id: 7000001 });
        const execution = await server.waitForExecution({ workflowId: wf.trigger }, { timeoutMs: 30_000 });
        const run = await server.getExecution(execution.id);
        const [event] = run.json('AmoCRM Trigger');
        assert.equal(event.event, 'status_lead');
        assert.equal(event.entity, 'lead');
        assert.equal(event.data.id, leadId);
        assert.equal(event.data.status_id, 142);
        assert.equal(event.account.subdomain, 'demo');

        await server.deactivate(wf.trigger);
        // 2.40 unpublishes through its outbox: the removal follows shortly.
        let left;
        for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
          const now = await amo.api(token, 'GET', '/api/v4/webhooks');
          left = now.status === 204 ? [] : now.body._embedded.webhooks.filter((h) => h.destination.startsWith(server.url));
          if (left.length === 0) break;
        }
        assert.deepEqual(left, []);
      });

      test('the HTTP Request node cannot use the credential to send its token elsewhere', async () => {
        const r = await server.webhook(paths.misuse, { body: {} });
        assert.deepEqual(sink.seen, [], 'nothing reached the other host');
        const [item] = Array.isArray(r.body) ? r.body : [r.body];
        assert.ok(item?.error, JSON.stringify(r.body));
        assert.ok(!textOf(r.body).includes(token));
      });

      test('ten executions at once with an expired OAuth token: exactly one refresh, no failed execution', async () => {
        // First use: the code is exchanged.
        const first = await server.webhook(paths.concurrent, { body: {} });
        assert.equal(first.status, 200, JSON.stringify(first.body));
        await amo.admin('POST', '/tokens/expire', { all: true });
        await amo.resetStats();
        const answers = await Promise.all(Array.from({ length: 10 }, () => server.webhook(paths.concurrent, { body: {} })));
        const stats = await amo.stats();
        assert.deepEqual(answers.map((a) => a.status), Array(10).fill(200), JSON.stringify(answers.map((a) => a.body)));
        for (const a of answers) assert.equal((Array.isArray(a.body) ? a.body[0] : a.body).id, leadId);
        assert.equal(stats.tokenGrants.refresh_token, 1, JSON.stringify(stats.tokenGrants));
        assert.equal(stats.revokedTokenUses, 0);
        const executions = await server.listExecutions({ workflowId: wf.concurrent });
        assert.equal(executions.filter((e) => e.status === 'error').length, 0);
        console.log(`[${version}] concurrency: 10 executions, ${stats.tokenGrants.refresh_token} refresh, ${stats.revokedTokenUses} revoked-token uses, ${answers.filter((a) => a.status !== 200).length} failures`);
      });

      test("the AmoCRM OAuth2 API credential connects through n8n's flow and is renewed by n8n when amoCRM allows a refresh without redirect_uri", async () => {
        const authUrl = await server.oauth2AuthUrl(creds.oauth2);
        const url = new URL(typeof authUrl === 'string' ? authUrl : authUrl.data ?? authUrl);
        assert.equal(url.origin, amo.url);
        assert.equal(url.pathname, '/oauth');
        assert.equal(url.searchParams.get('mode'), 'post_message');
        url.searchParams.set('auto', '1');
        const consent = await fetch(url, { redirect: 'manual' });
        assert.equal(consent.status, 302);
        const back = new URL(consent.headers.get('location'));
        const done = await server.oauth2Callback(Object.fromEntries(back.searchParams));
        assert.ok(done.ok, `callback: ${done.status} ${textOf(done.body).slice(0, 300)}`);
        const exported = await n8n.exportCredentials(creds.oauth2);
        assert.ok(exported.data.oauthTokenData?.refresh_token, 'n8n stored the tokens');
        const first = await server.webhook(paths.oauth2, { body: {} });
        assert.equal(first.status, 200, JSON.stringify(first.body));

        // n8n's own refresh sends no redirect_uri: it works only where amoCRM accepts that.
        await amo.admin('POST', '/config', { refreshRequiresRedirectUri: false });
        await amo.admin('POST', '/tokens/expire', { all: true });
        await amo.resetStats();
        const renewed = await server.webhook(paths.oauth2, { body: {} });
        assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
        const stats = await amo.stats();
        assert.equal(stats.tokenGrants.refresh_token, 1);
        const [refresh] = await amo.requests({ path: '/oauth2/access_token' });
        assert.ok(!/redirect_uri/.test(refresh.body), 'n8n refreshed without redirect_uri');
        await amo.admin('POST', '/config', { refreshRequiresRedirectUri: true });
      });
    });
  }
});
