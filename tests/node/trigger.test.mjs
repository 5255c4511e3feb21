// The AmoCRM Trigger node driven through its real webhookMethods and
// webhook() with a fake n8n context: the subscription requests it asks n8n to
// send, and the items it emits for the bodies amoCRM POSTs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dist, fakeContext, json } from './fake-n8n.mjs';

const { AmoCrmTrigger } = dist('nodes/AmoCrmTrigger/AmoCrmTrigger.node.js');

const node = new AmoCrmTrigger();
const HOOK_URL = 'https://n8n.example.com/webhook/0b6f8c1e-4f7a/webhook';
const methods = node.webhookMethods.default;

const DEMO_ACCOUNT = { id: 31000001, name: 'Demo', subdomain: 'demo' };
const isAccountRead = (r) => r.url.endsWith('/api/v4/account');

/**
 * A hook-functions context (activation/deactivation) with scripted answers;
 * the account read of activation (GET /api/v4/account) answers `account`.
 */
function hookContext({ events = ['add_lead', 'status_lead'], respond, url = HOOK_URL, account = () => json(200, DEMO_ACCOUNT) }) {
  const ctx = fakeContext({ params: { authentication: 'amoCrmKommoApi', events }, respond: (r, i) => (isAccountRead(r) ? account(r) : respond(r, i)) });
  ctx.getNodeWebhookUrl = (name) => (name === 'default' ? url : undefined);
  ctx.staticData = {};
  ctx.getWorkflowStaticData = () => ctx.staticData;
  ctx.warnings = [];
  ctx.logger = { warn: (message) => ctx.warnings.push(message) };
  return ctx;
}

/** The requests of a hook call other than its account read. */
const hookRequests = (ctx) => ctx.requests.filter((r) => !isAccountRead(r));

let workflowSeq = 0;

/**
 * A webhook-functions context receiving `body` (a string or Buffer), for a
 * trigger whose activation learnt the demo account (unless `staticData` says
 * otherwise). `respond` answers the requests it makes (Fetch Full Records).
 */
function webhookContext(body, { options = {}, raw = true, bodyData = {}, staticData = { account: { id: 31000001, subdomain: 'demo' } }, respond, workflowId } = {}) {
  const base = fakeContext({ params: { authentication: 'amoCrmKommoApi', options }, respond: respond ?? (() => json(500, {})) });
  const id = workflowId ?? `wf-${++workflowSeq}`;
  const ctx = {
    ...base,
    getNodeParameter: (name, fallback) => (name === 'options' ? options : name === 'authentication' ? 'amoCrmKommoApi' : fallback),
    getRequestObject: () => (raw ? { rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8') } : { body: bodyData }),
    getBodyData: () => bodyData,
    getNode: () => ({ id: 'node-1', name: 'AmoCRM Trigger', type: 'n8n-nodes-amocrm-kommo.amoCrmTrigger', typeVersion: 1, parameters: {} }),
    getWorkflow: () => ({ id }),
    getWorkflowStaticData: () => staticData,
    warnings: [],
    answered: [],
  };
  ctx.logger = { warn: (message) => ctx.warnings.push(message) };
  ctx.getResponseObject = () => ({ status: (code) => ({ json: (b) => ctx.answered.push({ code, body: b }) }) });
  return ctx;
}

const hookList = (hook) => json(200, { _total_items: 1, _embedded: { webhooks: [hook] } });
const hook = (extra = {}) => ({
  id: 11, destination: HOOK_URL, created_at: 1700000000, updated_at: 1700000000, account_id: 31000001,
  created_by: 8000001, sort: 1, disabled: false, settings: ['add_lead', 'status_lead'], ...extra,
});

test('checkExists asks amoCRM for this destination only, with the token, and accepts an enabled hook with the same events', async () => {
  const ctx = hookContext({ events: ['status_lead', 'add_lead'], respond: () => hookList(hook()) });
  assert.equal(await methods.checkExists.call(ctx), true);
  assert.equal(hookRequests(ctx).length, 1);
  const r = hookRequests(ctx)[0];
  assert.equal(r.method, 'GET');
  assert.equal(r.url, 'http://127.0.0.1:9/api/v4/webhooks?filter[destination]=https%3A%2F%2Fn8n.example.com%2Fwebhook%2F0b6f8c1e-4f7a%2Fwebhook');
  assert.equal(r.headers.Authorization, 'Bearer LLT-secret-token');
  assert.equal(r.body, undefined);
});

test('checkExists is false for no hook (204), a disabled hook, or changed events, so activation subscribes again', async () => {
  for (const answer of [
    { status: 204, body: '' },
    hookList(hook({ disabled: true })),
    hookList(hook({ settings: ['add_lead'] })),
    hookList(hook({ settings: ['add_lead', 'status_lead', 'delete_lead'] })),
    hookList(hook({ destination: 'https://n8n.example.com/webhook/other/webhook' })),
  ]) {
    assert.equal(await methods.checkExists.call(hookContext({ respond: () => answer })), false, JSON.stringify(answer));
  }
});

test('create posts the destination and the chosen events', async () => {
  const ctx = hookContext({ events: ['add_lead', 'delete_company'], respond: () => json(200, hook({ settings: ['add_lead', 'delete_company'] })) });
  assert.equal(await methods.create.call(ctx), true);
  const r = hookRequests(ctx)[0];
  assert.equal(r.method, 'POST');
  assert.equal(r.url, 'http://127.0.0.1:9/api/v4/webhooks');
  assert.equal(r.body, JSON.stringify({ destination: HOOK_URL, settings: ['add_lead', 'delete_company'] }));
  assert.equal(r.headers['content-type'], 'application/json');
});

test('without administrator rights, activation fails with a message saying so', async () => {
  const forbidden = () => json(403, { title: 'Forbidden', status: 403, detail: 'Access denied' }, { 'content-type': 'application/problem+json' });
  for (const method of [methods.checkExists, methods.create]) {
    await assert.rejects(method.call(hookContext({ respond: forbidden })), (e) => {
      assert.match(e.message, /managing webhooks needs administrator rights/);
      assert.equal(e.httpCode, '403');
      assert.doesNotMatch(JSON.stringify(e), /LLT-secret-token/);
      return true;
    });
  }
});

test('create refuses an unusable webhook URL before sending anything', async () => {
  const ctx = hookContext({ url: 'https://user:secret@n8n.example.com/webhook/x', respond: () => json(200, {}) });
  await assert.rejects(methods.create.call(ctx), /user name or password/);
  assert.equal(ctx.requests.length, 0);
  await assert.rejects(methods.create.call(hookContext({ events: [], respond: () => json(200, {}) })), /choose at least one event/);
});

test('delete removes the subscription by destination; a hook already gone or an error never blocks deactivation', async () => {
  const ctx = hookContext({ respond: () => ({ status: 204, body: '' }) });
  assert.equal(await methods.delete.call(ctx), true);
  const r = hookRequests(ctx)[0];
  assert.equal(r.method, 'DELETE');
  assert.equal(r.url, 'http://127.0.0.1:9/api/v4/webhooks');
  assert.equal(r.body, JSON.stringify({ destination: HOOK_URL }));
  const gone = hookContext({ respond: () => json(404, { title: 'Not Found', status: 404, detail: 'Webhook not found' }) });
  assert.equal(await methods.delete.call(gone), true);
  const refused = hookContext({ respond: () => json(401, { title: 'Unauthorized', status: 401, detail: 'revoked' }) });
  assert.equal(await methods.delete.call(refused), false);
  assert.equal(refused.warnings.length, 1);
  assert.match(refused.warnings[0], /could not be removed: .*401/);
  assert.doesNotMatch(refused.warnings[0], /LLT-secret-token/);
});

// A status change as amoCRM sends it (reference "Webhooks"), keys escaped the
// way URLSearchParams and PHP's http_build_query do.
const STATUS_BODY = new URLSearchParams([
  ['leads[status][0][id]', '25399013'],
  ['leads[status][0][name]', 'Сделка #1'],
  ['leads[status][0][status_id]', '142'],
  ['leads[status][0][old_status_id]', '61000003'],
  ['leads[status][0][price]', '900'],
  ['leads[status][0][responsible_user_id]', '8000001'],
  ['leads[status][0][last_modified]', '1700000100'],
  ['leads[status][0][modified_user_id]', '8000002'],
  ['leads[status][0][created_user_id]', '8000001'],
  ['leads[status][0][date_create]', '1700000000'],
  ['leads[status][0][pipeline_id]', '7000001'],
  ['leads[status][0][old_pipeline_id]', '7000002'],
  ['leads[status][0][account_id]', '31000001'],
  ['leads[status][0][tags][0][id]', '5'],
  ['leads[status][0][tags][0][name]', 'VIP'],
  ['leads[status][0][custom_fields][0][id]', '900001'],
  ['leads[status][0][custom_fields][0][name]', 'Источник'],
  ['leads[status][0][custom_fields][0][values][0][value]', 'Выставка'],
  ['leads[status][0][custom_fields][0][values][0][enum]', '17'],
  ['leads[update][0][id]', '25399013'],
  ['leads[update][0][name]', 'Сделка #1'],
  ['contacts[delete][0][id]', '4001'],
  ['contacts[delete][0][type]', 'company'],
  ['account[subdomain]', 'demo'],
  ['account[id]', '31000001'],
  ['account[_links][self]', 'https://demo.amocrm.ru'],
]).toString();

const ACCOUNT = { subdomain: 'demo', id: 31000001, _links: { self: 'https://demo.amocrm.ru' } };

test('webhook() emits one item per event, normalised to v4 names and numbers by default', async () => {
  const result = await node.webhook.call(webhookContext(STATUS_BODY));
  assert.equal(result.workflowData.length, 1);
  const items = result.workflowData[0];
  assert.deepEqual(
    items.map((i) => i.json.event),
    ['status_lead', 'update_lead', 'delete_company'],
  );
  assert.deepEqual(items[0].json, {
    event: 'status_lead',
    entity: 'lead',
    action: 'status',
    data: {
      id: 25399013, name: 'Сделка #1', status_id: 142, old_status_id: 61000003, price: 900,
      responsible_user_id: 8000001, updated_at: 1700000100, updated_by: 8000002, created_by: 8000001,
      created_at: 1700000000, pipeline_id: 7000001, old_pipeline_id: 7000002, account_id: 31000001,
      _embedded: { tags: [{ id: 5, name: 'VIP' }] },
      custom_fields_values: [{ field_id: 900001, field_name: 'Источник', values: [{ value: 'Выставка', enum_id: 17 }] }],
    },
    account: ACCOUNT,
  });
  assert.deepEqual(items[2].json, { event: 'delete_company', entity: 'company', action: 'delete', data: { id: 4001, type: 'company' }, account: ACCOUNT });
});

test('with Normalize Field Names off, the fields are exactly as amoCRM sent them', async () => {
  const [items] = (await node.webhook.call(webhookContext(STATUS_BODY, { options: { normalize: false } }))).workflowData;
  assert.equal(items[0].json.data.date_create, '1700000000');
  assert.equal(items[0].json.data.id, '25399013');
  assert.deepEqual(items[0].json.data.custom_fields[0].values, [{ value: 'Выставка', enum: '17' }]);
  assert.deepEqual(items[0].json.account, { subdomain: 'demo', id: '31000001', _links: { self: 'https://demo.amocrm.ru' } });
});

test('with Emit Unreadable Deliveries, a body that cannot be read starts the workflow with one error item instead of a failure', async () => {
  for (const [body, message] of [
    ['leads[add][0][id]=%zz', /not followed by two hexadecimal digits/],
    ['a=1&a[b]=2', /both as a value and as a group/],
    ['leads=%5B%5D', /not shaped like amoCRM events/],
    ['', /carried no events/],
    [Buffer.from([0x61, 0x3d, 0xff, 0xfe]), /could not be read/],
    [`leads[add][0][id]=1&${'x'.repeat(5 * 1024 * 1024)}`, /more than the 4194304 bytes/],
  ]) {
    const result = await node.webhook.call(webhookContext(body, { options: { emitUnreadable: true } }));
    const items = result.workflowData[0];
    assert.equal(items.length, 1);
    assert.match(items[0].json.error, message);
    assert.match(items[0].json.description, /answered with 200/);
    assert.equal(typeof items[0].json.body, 'string');
    assert.ok(items[0].json.body.length <= 2001);
  }
});

test('a body nested deeper than allowed or with a huge index stays cheap', async () => {
  const deep = `leads[add][0]${'[x]'.repeat(20)}=1`;
  assert.match((await node.webhook.call(webhookContext(deep, { options: { emitUnreadable: true } }))).workflowData[0][0].json.error, /nested more than 12 brackets/);
  const sparse = 'leads[add][999999999][id]=7&account[subdomain]=demo';
  const [items] = (await node.webhook.call(webhookContext(sparse))).workflowData;
  assert.deepEqual(items.map((i) => i.json.data), [{ id: 7 }]);
});

test('without a raw body, the fields n8n parsed are read instead', async () => {
  const bodyData = { 'leads[add][0][id]': '12', 'leads[add][0][name]': 'A & B', 'account[subdomain]': 'demo' };
  const [items] = (await node.webhook.call(webhookContext('', { raw: false, bodyData }))).workflowData;
  assert.deepEqual(items, [{ json: { event: 'add_lead', entity: 'lead', action: 'add', data: { id: 12, name: 'A & B' }, account: { subdomain: 'demo' } } }]);
  const nested = { leads: { add: [{ id: '13' }] }, account: { subdomain: 'demo', id: '31000001' } };
  const [again] = (await node.webhook.call(webhookContext('', { raw: false, bodyData: nested }))).workflowData;
  assert.equal(again[0].json.data.id, 13);
});

test('the trigger is a webhook trigger without inputs, answering at once, and not offered as an AI tool', () => {
  const d = node.description;
  assert.deepEqual(d.group, ['trigger']);
  assert.deepEqual(d.inputs, []);
  assert.equal(d.outputs.length, 1);
  assert.equal(d.usableAsTool, undefined);
  assert.deepEqual(d.webhooks, [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook' }]);
  const events = d.properties.find((p) => p.name === 'events');
  assert.equal(events.options.length, 33);
  assert.deepEqual(
    [...new Set(events.options.map((o) => o.value.split('_')[1]))].sort(),
    ['company', 'contact', 'customer', 'lead', 'talk', 'task', 'unsorted'],
  );
  const normalize = d.properties.find((p) => p.name === 'options').options.find((o) => o.name === 'normalize');
  assert.equal(normalize.default, true);
});

test('activation reads the account deliveries must name, and keeps it in the static data n8n saves', async () => {
  const ctx = hookContext({ respond: () => hookList(hook()) });
  await methods.checkExists.call(ctx);
  assert.deepEqual(ctx.staticData.account, { id: 31000001, subdomain: 'demo' });
  assert.equal(ctx.requests.filter(isAccountRead).length, 1);
});

const mine = 'leads[add][0][id]=7&account[subdomain]=demo&account[id]=31000001';

test("a delivery for another account, or garbage, starts no execution; both are counted, logged, and shown in the next good delivery's meta", async () => {
  const workflowId = 'wf-drops';
  for (const body of [
    'leads[add][0][id]=7&account[subdomain]=other&account[id]=99999999',
    'leads[add][0][id]=7&account[subdomain]=demo&account[id]=31000002',
    'leads[add][0][id]=7',
    'this is not a webhook %zz',
    '',
  ]) {
    const ctx = webhookContext(body, { workflowId });
    const result = await node.webhook.call(ctx);
    assert.equal(result.workflowData, undefined, body);
    assert.equal(ctx.warnings.length, 1);
    assert.match(ctx.warnings[0], /answered and dropped/);
  }
  const [items] = (await node.webhook.call(webhookContext(mine, { workflowId }))).workflowData;
  assert.deepEqual(items[0].json.meta, { dropped: { foreignAccount: 3, unreadable: 2 } });
  const [again] = (await node.webhook.call(webhookContext(mine, { workflowId }))).workflowData;
  assert.equal(again[0].json.meta, undefined, 'counted once');
});

test('a trigger activated before the account check learns the account with the first delivery', async () => {
  const staticData = {};
  const ctx = webhookContext(mine, { staticData, respond: () => json(200, DEMO_ACCOUNT) });
  const [items] = (await node.webhook.call(ctx)).workflowData;
  assert.equal(items[0].json.data.id, 7);
  assert.deepEqual(staticData.account, { id: 31000001, subdomain: 'demo' });
});

test('Fetch Full Records answers amoCRM first, then reads every lead of the delivery with one request', async () => {
  const pairs = [];
  for (let i = 0; i < 50; i++) pairs.push(`leads[update][${i}][id]=${20000001 + i}`);
  const body = `${pairs.join('&')}&account[subdomain]=demo&account[id]=31000001`;
  const leads = Array.from({ length: 50 }, (_, i) => ({ id: 20000001 + i, name: `L${i}`, custom_fields_values: null, _embedded: { tags: [] } }));
  const ctx = webhookContext(body, {
    options: { fetchFullRecords: true, with: ['contacts'] },
    respond: () => json(200, { _embedded: { leads } }),
  });
  const result = await node.webhook.call(ctx);
  assert.equal(result.noWebhookResponse, true);
  assert.deepEqual(ctx.answered, [{ code: 200, body: { message: 'Webhook call received' } }]);
  assert.equal(ctx.requests.length, 1);
  assert.match(ctx.requests[0].url, /\/api\/v4\/leads\?filter\[id\]\[0\]=20000001&.*&with=contacts&limit=250$/);
  const items = result.workflowData[0];
  assert.equal(items.length, 50);
  assert.equal(items[49].json.record.name, 'L49');
  assert.equal(items[0].json.event, 'update_lead');
});
