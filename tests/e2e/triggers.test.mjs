// Both triggers in a real n8n (`n8n start`) against the emulator:
//   - AmoCRM Webhook Trigger: a delivery that claims another account and a
//     garbage delivery start no execution; 50 lead events with Fetch Full
//     Records give 50 items with v4 records from at most 2 API requests.
//   - AmoCRM Events Trigger: over (at least) 3 polls while 1,200 changes
//     happen, 20 of them in one second split across two polls, every event
//     is emitted exactly once.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { getFreePort } from './harness/index.mjs';
import { EVENTS_TRIGGER_NODE, TRIGGER_NODE, VERSIONS, emulator, longLivedCredential, n8nWithPackage } from './support.mjs';

function triggerWorkflow(name, node) {
  return {
    name,
    nodes: [{ id: randomUUID(), position: [0, 0], typeVersion: 1, ...node }],
    connections: {},
    settings: { executionOrder: 'v1' },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('n8n start: triggers', { concurrency: 1 }, () => {
  for (const version of VERSIONS) {
    describe(`n8n ${version}`, { concurrency: 1 }, () => {
      let amo;
      let n8n;
      let server;
      let token;
      const wf = {};

      before(async () => {
        amo = await emulator({ seed: 'demo', rateLimit: 7 });
        // The test's own changes go through a token of their own: the emulator
        // limits each token to 7 requests a second, as amoCRM does.
        token = await amo.longLivedToken();
        const n8nToken = await amo.longLivedToken();
        n8n = await n8nWithPackage(version);
        const [credential] = await n8n.importCredentials([longLivedCredential(amo, n8nToken)]);
        const credentials = { amoCrmKommoApi: { id: credential, name: 'amoCRM' } };
        // 2.8.4 accepts a seconds field without "*": a poll every 10 seconds.
        // 2.40.7 refuses anything under a minute: every minute.
        const cronExpression = version.startsWith('2.8.') ? '0,10,20,30,40,50 * * * * *' : '* * * * *';
        [wf.webhook, wf.poll] = await n8n.importWorkflow([
          triggerWorkflow('webhook trigger', {
            name: 'AmoCRM Webhook Trigger',
            type: TRIGGER_NODE,
            webhookId: randomUUID(),
            parameters: {
              authentication: 'amoCrmKommoApi',
              events: ['update_lead', 'add_lead'],
              options: { fetchFullRecords: true, with: ['contacts'] },
            },
            credentials,
          }),
          triggerWorkflow('events trigger', {
            name: 'AmoCRM Events Trigger',
            type: EVENTS_TRIGGER_NODE,
            parameters: {
              authentication: 'amoCrmKommoApi',
              events: [],
              entities: [],
              startFrom: 'now',
              options: {},
              pollTimes: { item: [{ mode: 'custom', cronExpression }] },
            },
            credentials,
          }),
        ]);
        server = await n8n.start({ port: await getFreePort() });
        await server.setupOwner().catch(() => server.login());
      });

      after(async () => {
        await n8n?.cleanup();
        await amo?.close();
      });

      test('webhook: another account and garbage start nothing; 50 lead events with Fetch Full Records are 50 v4 records from at most 2 requests', async () => {
        await server.activate(wf.webhook);
        const hooks = (await amo.api(token, 'GET', '/api/v4/webhooks')).body._embedded.webhooks;
        const mine = hooks.find((h) => h.destination.startsWith(server.url));
        assert.ok(mine, JSON.stringify(hooks));
        const leads = (await amo.api(token, 'GET', '/api/v4/leads?limit=50')).body._embedded.leads.map((l) => l.id);
        assert.equal(leads.length, 50);

        const foreign = await amo.admin('POST', '/webhooks/emit', {
          events: [{ action: 'update', leadId: leads[0] }],
          destination: mine.destination,
          account: { id: 99999999, subdomain: 'other' },
        });
        const garbage = await amo.admin('POST', '/webhooks/send', { destination: mine.destination, body: 'definitely not a webhook %zz&&[' });
        for (const d of [...foreign.deliveries, ...garbage.deliveries]) assert.equal(d.status, 200, JSON.stringify(d));
        await sleep(2_000);
        assert.deepEqual(await server.listExecutions({ workflowId: wf.webhook }), [], 'no execution for either');

        await amo.resetStats();
        const good = await amo.admin('POST', '/webhooks/emit', { events: leads.map((leadId) => ({ action: 'update', leadId })), destination: mine.destination });
        assert.equal(good.deliveries[0].status, 200);
        const execution = await server.waitForExecution({ workflowId: wf.webhook }, { timeoutMs: 30_000 });
        const items = (await server.getExecution(execution.id)).json('AmoCRM Webhook Trigger');
        assert.equal(items.length, 50);
        for (const [i, item] of items.entries()) {
          assert.equal(item.event, 'update_lead');
          assert.equal(item.record.id, leads[i]);
          // API v4 shape, as the Lead node returns it.
          assert.ok('custom_fields_values' in item.record && item.record._embedded && Array.isArray(item.record._embedded.contacts), JSON.stringify(item.record));
          assert.equal(typeof item.record.created_at, 'number');
          assert.deepEqual(item.meta, { dropped: { foreignAccount: 1, unreadable: 1 } });
        }
        const stats = await amo.stats();
        assert.ok(stats.requests <= 2, `API requests: ${stats.requests} ${JSON.stringify(stats.calls)}`);
        assert.equal(stats.calls['GET /api/v4/leads']?.[200], 1, JSON.stringify(stats.calls));
        assert.equal((await server.listExecutions({ workflowId: wf.webhook })).length, 1);
        console.log(`[${version}] webhook: 2 drops, 1 execution of 50 items, ${stats.requests} API request(s)`);
        await server.deactivate(wf.webhook);
      });

      test('events trigger: 1,200 changes over 3 polls, 20 in one second across two polls, each event emitted exactly once', { timeout: 600_000 }, async () => {
        const startedAt = (await amo.admin('GET', '/clock')).now;
        await server.activate(wf.poll);
        // The activation poll (1) only notes where to start.
        await sleep(1_000);
        assert.deepEqual(await server.listExecutions({ workflowId: wf.poll }), []);

        const executions = async () => (await server.listExecutions({ workflowId: wf.poll })).filter((e) => e.status && !['new', 'running', 'waiting'].includes(e.status));
        const emitted = async () => {
          const out = [];
          for (const e of await executions()) out.push(...(await server.getExecution(e.id)).json('AmoCRM Events Trigger'));
          return out;
        };
        const waitForIds = async (ids, timeoutMs) => {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const seen = new Set((await emitted()).map((e) => e.id));
            if (ids.every((id) => seen.has(id))) return;
            if (Date.now() > deadline) throw new Error(`not emitted after ${timeoutMs} ms: ${ids.filter((id) => !seen.has(id)).length} of ${ids.length}`);
            await sleep(1_000);
          }
        };
        const batch = (n, make) => Array.from({ length: n }, (_, i) => make(i));

        // Changes before poll 2: 500 leads, 80 contacts, then 10 events in the current second.
        const created = [];
        for (let k = 0; k < 2; k++) {
          const r = await amo.api(token, 'POST', '/api/v4/leads', batch(250, (i) => ({ name: `Poll ${k}-${i}` })));
          created.push(...r.body._embedded.leads.map((l) => l.id));
        }
        await amo.api(token, 'POST', '/api/v4/contacts', batch(80, (i) => ({ name: `Contact A${i}` })));
        const second = (await amo.admin('GET', '/clock')).now;
        const same = (from) => ({ count: 10, template: { type: 'common_note_added', entity_type: 'lead', entity_id: created[from], created_at: second } });
        const first10 = (await amo.admin('POST', '/events', same(0))).ids;
        await waitForIds(first10, 150_000);

        // The other 10 events of that second, after the poll that emitted the first 10.
        const last10 = (await amo.admin('POST', '/events', same(10))).ids;
        await amo.api(token, 'PATCH', '/api/v4/leads', created.slice(0, 250).map((id) => ({ id, status_id: 142, pipeline_id: 7000001 })));
        await amo.api(token, 'PATCH', '/api/v4/leads', created.slice(250).map((id) => ({ id, status_id: 143, pipeline_id: 7000001 })));
        await amo.api(token, 'POST', '/api/v4/contacts', batch(100, (i) => ({ name: `Contact B${i}` })));
        const all = (await amo.admin('GET', `/events?since=${startedAt}`)).events;
        assert.equal(all.length, 1_200, 'the changes made 1,200 events');
        await waitForIds(all.map((e) => e.id), 150_000);
        await sleep(1_000);

        const got = await emitted();
        const polls = (await executions()).length;
        const counts = new Map();
        for (const e of got) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
        const repeated = [...counts].filter(([, n]) => n > 1);
        assert.deepEqual(repeated, [], 'no event twice');
        assert.equal(counts.size, 1_200);
        assert.ok(all.every((e) => counts.get(e.id) === 1));
        assert.ok(last10.every((id) => counts.get(id) === 1) && first10.every((id) => counts.get(id) === 1));
        assert.ok(polls >= 2, `${polls} polls with events (plus the activation poll)`);
        const stats = await amo.stats();
        console.log(`[${version}] events trigger: 1,200 events in ${polls} emitting polls (+ the activation poll), ${stats.calls['GET /api/v4/events']?.[200] ?? 0} event pages read, ${stats.rateLimited} × 429`);
        await server.deactivate(wf.poll);
      });
    });
  }
});
