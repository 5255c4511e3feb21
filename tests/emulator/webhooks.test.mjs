import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { setup, receiver, eventually } from './helpers.mjs';

const form = (body) => Object.fromEntries(new URLSearchParams(body));

describe('webhook subscriptions API', () => {
  let env;
  before(async () => { env = await setup({ seed: 'base' }); });
  after(() => env.close());

  test('none → 204; POST creates; GET filter[destination]; same destination updates; DELETE by destination → 204', async () => {
    assert.equal((await env.api.get('/api/v4/webhooks')).status, 204);
    let r = await env.api.post('/api/v4/webhooks', { destination: 'https://hooks.example/a', settings: ['add_lead', 'status_lead'], sort: 2 });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body), ['id', 'destination', 'created_at', 'updated_at', 'account_id', 'created_by', 'sort', 'disabled', 'settings']);
    assert.equal(r.body.disabled, false);
    assert.deepEqual(r.body.settings, ['add_lead', 'status_lead']);
    const id = r.body.id;
    await env.api.post('/api/v4/webhooks', { destination: 'https://hooks.example/b', settings: ['update_lead'] });
    r = await env.api.get(`/api/v4/webhooks?filter[destination]=${encodeURIComponent('https://hooks.example/a')}`);
    assert.equal(r.body._total_items, 1);
    assert.equal(r.body._embedded.webhooks[0].id, id);
    r = await env.api.post('/api/v4/webhooks', { destination: 'https://hooks.example/a', settings: ['delete_lead'] });
    assert.equal(r.body.id, id);
    assert.deepEqual(r.body.settings, ['delete_lead']);
    assert.equal((await env.api.get('/api/v4/webhooks')).body._total_items, 2);
    r = await env.api.del('/api/v4/webhooks', { destination: 'https://hooks.example/a' });
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    assert.equal((await env.api.get('/api/v4/webhooks')).body._total_items, 1);
    assert.equal((await env.api.del('/api/v4/webhooks', { destination: 'https://hooks.example/a' })).status, 404);
    assert.equal((await env.api.del('/api/v4/webhooks', {})).status, 400);
  });

  test('validation: bad destination, unknown setting, empty settings', async () => {
    let r = await env.api.post('/api/v4/webhooks', { destination: 'not a url', settings: ['add_lead'] });
    assert.equal(r.status, 400);
    assert.equal(r.body['validation-errors'][0].errors[0].path, 'destination');
    r = await env.api.post('/api/v4/webhooks', { destination: 'https://x.example', settings: ['add_lead', 'explode_lead'] });
    assert.equal(r.body['validation-errors'][0].errors[0].path, 'settings.1');
    r = await env.api.post('/api/v4/webhooks', { destination: 'https://x.example', settings: [] });
    assert.equal(r.status, 400);
  });

  test('at most 100 webhooks per account', async () => {
    const existing = (await env.api.get('/api/v4/webhooks')).body?._total_items ?? 0;
    for (let i = existing; i < 100; i++) {
      const r = await env.api.post('/api/v4/webhooks', { destination: `https://many.example/${i}`, settings: ['add_lead'] });
      assert.equal(r.status, 200);
    }
    const over = await env.api.post('/api/v4/webhooks', { destination: 'https://many.example/overflow', settings: ['add_lead'] });
    assert.equal(over.status, 400);
    assert.equal(over.headers.get('content-type'), 'application/problem+json');
    // updating an existing destination is still allowed at the limit
    assert.equal((await env.api.post('/api/v4/webhooks', { destination: 'https://many.example/5', settings: ['update_lead'] })).status, 200);
  });
});

describe('webhook deliveries', () => {
  let env;
  let rcv;
  let lead;
  before(async () => {
    env = await setup({ seed: 'base' });
    rcv = await receiver();
  });
  after(async () => { await rcv.close(); await env.close(); });
  beforeEach(async () => {
    rcv.requests.length = 0;
    rcv.status = 200;
    await env.api.del('/api/v4/webhooks', { destination: rcv.url }).catch(() => {});
    await env.admin('DELETE', '/_admin/webhooks/deliveries');
  });

  const subscribe = (settings) => env.api.post('/api/v4/webhooks', { destination: rcv.url, settings });

  test('lead created via the API → form-encoded add hook in the old format', async () => {
    await subscribe(['add_lead']);
    const r = await env.api.post('/api/v4/leads', [{
      name: 'Hooked', price: 900, status_id: 61000003,
      custom_fields_values: [{ field_id: 900001, values: [{ value: 'Выставка' }] }, { field_id: 900003, values: [{ value: true }] }],
      _embedded: { tags: [{ name: 'VIP' }] },
    }]);
    lead = r.body._embedded.leads[0].id;
    const [req] = await rcv.waitFor(1);
    assert.equal(req.method, 'POST');
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(req.headers['user-agent'], 'amoCRM-WebHook-client/1.0');
    const f = form(req.body);
    assert.equal(f['leads[add][0][id]'], String(lead));
    assert.equal(f['leads[add][0][name]'], 'Hooked');
    assert.equal(f['leads[add][0][status_id]'], '61000003');
    assert.equal(f['leads[add][0][pipeline_id]'], '7000001');
    assert.equal(f['leads[add][0][price]'], '900');
    assert.equal(f['leads[add][0][created_user_id]'], '8000001');
    assert.ok(Number(f['leads[add][0][date_create]']) > 0);
    assert.ok(Number(f['leads[add][0][last_modified]']) > 0);
    assert.equal(f['leads[add][0][custom_fields][0][id]'], '900001');
    assert.equal(f['leads[add][0][custom_fields][0][name]'], 'Источник');
    assert.equal(f['leads[add][0][custom_fields][0][values][0][value]'], 'Выставка');
    assert.ok(Number(f['leads[add][0][custom_fields][0][values][0][enum]']) > 0);
    assert.equal(f['leads[add][0][custom_fields][1][values][0][value]'], '1');
    assert.equal(f['leads[add][0][tags][0][name]'], 'VIP');
    assert.equal(f['account[subdomain]'], 'demo');
    assert.equal(f['account[id]'], '31000001');
    assert.equal(Object.keys(f).some((k) => k.includes('custom_fields_values')), false);
  });

  test('status change → one POST with update + status events (old_status_id, old_pipeline_id)', async () => {
    await subscribe(['update_lead', 'status_lead']);
    await env.api.patch(`/api/v4/leads/${lead}`, { pipeline_id: 7000002, status_id: 61000014 });
    const [req] = await rcv.waitFor(1);
    const f = form(req.body);
    assert.equal(f['leads[update][0][id]'], String(lead));
    assert.equal(f['leads[status][0][id]'], String(lead));
    assert.equal(f['leads[status][0][status_id]'], '61000014');
    assert.equal(f['leads[status][0][old_status_id]'], '61000003');
    assert.equal(f['leads[status][0][pipeline_id]'], '7000002');
    assert.equal(f['leads[status][0][old_pipeline_id]'], '7000001');
    assert.equal(f['leads[status][0][modified_user_id]'], '8000001');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(rcv.requests.length, 1);
  });

  test('settings filter events: a status-only hook ignores plain updates; responsible change → responsible hook', async () => {
    await subscribe(['status_lead', 'responsible_lead']);
    await env.api.patch(`/api/v4/leads/${lead}`, { name: 'renamed' });
    await env.api.patch(`/api/v4/leads/${lead}`, { responsible_user_id: 8000004 });
    const [req] = await rcv.waitFor(1);
    const f = form(req.body);
    assert.equal(f['leads[responsible][0][responsible_user_id]'], '8000004');
    assert.equal(f['leads[responsible][0][old_responsible_user_id]'], '8000001');
    assert.equal(Object.keys(f).some((k) => k.startsWith('leads[update]')), false);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(rcv.requests.length, 1);
  });

  test('admin delete/restore → delete hook carries only id and type; restore carries the lead', async () => {
    await subscribe(['delete_lead', 'restore_lead']);
    await env.admin('POST', `/_admin/leads/${lead}/delete`, {});
    await env.admin('POST', `/_admin/leads/${lead}/restore`, {});
    await rcv.waitFor(2);
    const del = form(rcv.requests[0].body);
    const leadKeys = Object.keys(del).filter((k) => k.startsWith('leads'));
    assert.deepEqual(leadKeys.sort(), ['leads[delete][0][id]', 'leads[delete][0][type]']);
    assert.equal(del['leads[delete][0][id]'], String(lead));
    assert.equal(del['leads[delete][0][type]'], 'lead');
    const res = form(rcv.requests[1].body);
    assert.equal(res['leads[restore][0][id]'], String(lead));
    assert.equal(res['leads[restore][0][name]'], 'renamed');
  });

  test('note added via the API → note hook', async () => {
    await subscribe(['note_lead']);
    await env.api.post(`/api/v4/leads/${lead}/notes`, [{ note_type: 'common', params: { text: 'Позвонить завтра' } }]);
    const [req] = await rcv.waitFor(1);
    const f = form(req.body);
    assert.equal(f['leads[note][0][note][text]'], 'Позвонить завтра');
    assert.equal(f['leads[note][0][note][element_id]'], String(lead));
    assert.equal(f['leads[note][0][note][note_type]'], '4');
  });

  test('admin UI-style update emits webhooks too', async () => {
    await subscribe(['status_lead']);
    const r = await env.admin('PATCH', `/_admin/leads/${lead}`, { status_id: 142 });
    assert.equal(r.deliveries.length, 1);
    assert.equal(r.deliveries[0].status, 200);
    const f = form(rcv.requests[0].body);
    assert.equal(f['leads[status][0][status_id]'], '142');
  });

  test('admin emit batches several events into one POST and records deliveries', async () => {
    await subscribe(['update_lead']);
    const other = (await env.api.post('/api/v4/leads', [{ name: 'other' }])).body._embedded.leads[0].id;
    const r = await env.admin('POST', '/_admin/webhooks/emit', { events: [{ action: 'update', leadId: lead }, { action: 'update', leadId: other }] });
    assert.equal(r.deliveries.length, 1);
    assert.equal(rcv.requests.length, 1);
    const f = form(rcv.requests[0].body);
    assert.equal(f['leads[update][0][id]'], String(lead));
    assert.equal(f['leads[update][1][id]'], String(other));
    const d = (await env.admin('GET', '/_admin/webhooks/deliveries')).deliveries.at(-1);
    assert.equal(d.destination, rcv.url);
    assert.equal(d.status, 200);
    assert.equal(d.ok, true);
    assert.equal(d.body, rcv.requests[0].body);
    assert.ok(Date.parse(d.time) > 0);
    const single = await env.admin('POST', '/_admin/webhooks/emit', { action: 'status', leadId: lead, old_status_id: 61000002 });
    assert.equal(single.deliveries.length, 0); // not subscribed to status_lead
  });

  test('a destination that keeps failing gets disabled; re-subscribing re-enables it', async () => {
    await env.admin('POST', '/_admin/config', { webhookDisableAfterFailures: 3 });
    try {
      await subscribe(['update_lead']);
      rcv.status = 500;
      for (let i = 0; i < 3; i++) {
        const r = await env.admin('POST', '/_admin/webhooks/emit', { action: 'update', leadId: lead });
        assert.equal(r.deliveries[0].status, 500);
        assert.equal(r.deliveries[0].ok, false);
      }
      const hook = (await env.api.get(`/api/v4/webhooks?filter[destination]=${encodeURIComponent(rcv.url)}`)).body._embedded.webhooks[0];
      assert.equal(hook.disabled, true);
      const r = await env.admin('POST', '/_admin/webhooks/emit', { action: 'update', leadId: lead });
      assert.equal(r.deliveries.length, 0);
      assert.equal(rcv.requests.length, 3);
      rcv.status = 200;
      const re = await subscribe(['update_lead']);
      assert.equal(re.body.disabled, false);
      assert.equal((await env.admin('POST', '/_admin/webhooks/emit', { action: 'update', leadId: lead })).deliveries[0].ok, true);
    } finally {
      await env.admin('POST', '/_admin/config', { webhookDisableAfterFailures: 100 });
    }
  });

  test('an unreachable destination or a slow receiver counts as a failed delivery', async () => {
    await env.api.post('/api/v4/webhooks', { destination: 'http://127.0.0.1:1/nothing', settings: ['update_lead'] });
    const r = await env.admin('POST', '/_admin/webhooks/emit', { action: 'update', leadId: lead, destination: 'http://127.0.0.1:1/nothing' });
    assert.equal(r.deliveries[0].ok, false);
    assert.equal(r.deliveries[0].status, null);
    assert.ok(r.deliveries[0].error);
    await env.api.del('/api/v4/webhooks', { destination: 'http://127.0.0.1:1/nothing' });
    const slow = await receiver({ delayMs: 500 });
    try {
      await env.admin('POST', '/_admin/config', { webhookTimeoutMs: 100 });
      await env.api.post('/api/v4/webhooks', { destination: slow.url, settings: ['update_lead'] });
      const s = await env.admin('POST', '/_admin/webhooks/emit', { action: 'update', leadId: lead, destination: slow.url });
      assert.equal(s.deliveries[0].ok, false);
      assert.match(s.deliveries[0].error, /timeout/);
    } finally {
      await env.admin('POST', '/_admin/config', { webhookTimeoutMs: 2000 });
      await env.api.del('/api/v4/webhooks', { destination: slow.url });
      await slow.close();
    }
  });

  test('webhookRetryDelaysMs retries a failed delivery; every attempt is recorded', async () => {
    await env.admin('POST', '/_admin/config', { webhookRetryDelaysMs: [50] });
    try {
      await subscribe(['update_lead']);
      rcv.status = 503;
      await env.admin('POST', '/_admin/webhooks/emit', { action: 'update', leadId: lead });
      assert.equal(rcv.requests.length, 2);
      assert.equal(rcv.requests[0].body, rcv.requests[1].body);
      const ds = (await env.admin('GET', `/_admin/webhooks/deliveries?destination=${encodeURIComponent(rcv.url)}`)).deliveries;
      assert.deepEqual(ds.map((d) => [d.attempt, d.status, d.ok]), [[1, 503, false], [2, 503, false]]);
      const hook = (await env.admin('GET', '/_admin/webhooks')).webhooks.find((h) => h.destination === rcv.url);
      assert.equal(hook.failures, 2);
    } finally {
      await env.admin('POST', '/_admin/config', { webhookRetryDelaysMs: [] });
    }
  });

  test('deliveries happen after the API reply (asynchronously)', async () => {
    await subscribe(['add_lead']);
    await env.api.post('/api/v4/leads', [{ name: 'async' }]);
    await eventually(async () => (await env.admin('GET', '/_admin/webhooks/deliveries')).deliveries.some((d) => d.ok));
  });
});
