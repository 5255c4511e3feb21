// The AmoCRM Trigger node against the amoCRM emulator (tests/emulator/):
// subscription calls go over real HTTP with the node's own requests, and the
// bodies the emulator POSTs to a receiver are fed to webhook() unchanged.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setup, receiver } from '../emulator/helpers.mjs';
import { dist, fakeContext, longLivedCredential } from './fake-n8n.mjs';

const { AmoCrmTrigger } = dist('nodes/AmoCrmTrigger/AmoCrmTrigger.node.js');
const node = new AmoCrmTrigger();
const methods = node.webhookMethods.default;

let env;
let rcv;
before(async () => {
  env = await setup({ seed: 'base' });
  rcv = await receiver();
});
after(async () => {
  await rcv.close();
  await env.close();
});

/** Sends what the node asked n8n to send, for real. */
async function overHttp(sent) {
  const res = await fetch(sent.url, { method: sent.method, headers: sent.headers, body: sent.body, redirect: 'manual' });
  return { status: res.status, body: await res.text(), headers: Object.fromEntries(res.headers) };
}

function hooks(events) {
  const ctx = fakeContext({
    params: { authentication: 'amoCrmKommoApi', events },
    credentials: longLivedCredential({ baseUrl: env.emu.url, longLivedToken: env.token }),
    respond: overHttp,
  });
  ctx.getNodeWebhookUrl = () => rcv.url;
  ctx.getWorkflowStaticData = () => staticData;
  return ctx;
}

/** The trigger's static data, as n8n keeps it between activation and deliveries. */
const staticData = {};

async function received(n) {
  const requests = await rcv.waitFor(n);
  const rawBody = Buffer.from(requests[n - 1].body, 'utf8');
  const ctx = {
    getNodeParameter: (name, fallback) => fallback,
    getRequestObject: () => ({ rawBody }),
    getBodyData: () => ({}),
    getNode: () => ({ id: 'n1', name: 'AmoCRM Trigger' }),
    getWorkflow: () => ({ id: 'w1' }),
    getWorkflowStaticData: () => staticData,
    logger: { warn: () => {} },
  };
  return (await node.webhook.call(ctx)).workflowData[0].map((i) => i.json);
}

test('activation subscribes, amoCRM deliveries become items, a disabled hook is re-enabled, deactivation unsubscribes', async () => {
  const events = ['add_lead', 'status_lead'];
  assert.equal(await methods.checkExists.call(hooks(events)), false);
  assert.deepEqual(staticData.account, { id: 31000001, subdomain: 'demo' }, 'the account deliveries must name');
  assert.equal(await methods.create.call(hooks(events)), true);
  assert.equal(await methods.checkExists.call(hooks(events)), true);
  assert.equal(await methods.checkExists.call(hooks(['add_lead'])), false, 'events changed');

  const created = await env.api.post('/api/v4/leads', [{ name: 'Hooked', price: 900, _embedded: { tags: [{ name: 'VIP' }] } }]);
  const id = created.body._embedded.leads[0].id;
  const [added] = await received(1);
  assert.equal(added.event, 'add_lead');
  assert.equal(added.data.id, id);
  assert.equal(added.data.name, 'Hooked');
  assert.equal(added.data.price, 900);
  assert.equal(typeof added.data.created_at, 'number');
  assert.equal(added.data.date_create, undefined);
  assert.equal(added.data._embedded.tags[0].name, 'VIP');
  assert.equal(added.account.subdomain, 'demo');

  const before = (await env.api.get(`/api/v4/leads/${id}`)).body.status_id;
  await env.api.patch(`/api/v4/leads/${id}`, { status_id: 142 });
  const items = await received(2);
  assert.deepEqual(items.map((i) => i.event), ['status_lead']);
  assert.equal(items[0].data.status_id, 142);
  assert.equal(items[0].data.old_status_id, before);

  // amoCRM switches off a destination that keeps failing; activation must notice.
  await env.admin('POST', '/_admin/config', { webhookDisableAfterFailures: 1 });
  rcv.status = 500;
  await env.admin('POST', '/_admin/webhooks/emit', { action: 'add', leadId: id });
  rcv.status = 200;
  assert.equal(await methods.checkExists.call(hooks(events)), false, 'disabled');
  assert.equal(await methods.create.call(hooks(events)), true);
  assert.equal(await methods.checkExists.call(hooks(events)), true, 're-enabled');

  assert.equal(await methods.delete.call(hooks(events)), true);
  assert.equal(await methods.checkExists.call(hooks(events)), false);
  assert.equal(await methods.delete.call(hooks(events)), true, 'already gone');
});
