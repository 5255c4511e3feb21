// The AmoCRM Events Trigger's poll() against the amoCRM emulator over real
// HTTP, with a fake n8n poll context: the first poll emits nothing old,
// later polls emit each event once (same-second events split across polls
// included), a failed poll keeps the cursor, a manual run shows the latest
// few, and Fetch Full Records reads each entity type once.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setup } from '../emulator/helpers.mjs';
import { dist, fakeContext, longLivedCredential } from './fake-n8n.mjs';

const { AmoCrmEventsTrigger } = dist('nodes/AmoCrmEventsTrigger/AmoCrmEventsTrigger.node.js');
const node = new AmoCrmEventsTrigger();

let env;
before(async () => {
  env = await setup({ seed: 'base' });
});
after(() => env.close());

async function overHttp(sent) {
  const res = await fetch(sent.url, { method: sent.method, headers: sent.headers, body: sent.body, redirect: 'manual' });
  return { status: res.status, body: await res.text(), headers: Object.fromEntries(res.headers) };
}

/** A poll context for one trigger node (its static data persists across polls). */
function trigger(params = {}, staticData = {}) {
  const poll = async ({ mode = 'trigger' } = {}) => {
    const ctx = fakeContext({
      params: { authentication: 'amoCrmKommoApi', events: [], entities: [], startFrom: 'now', options: {}, ...params },
      credentials: longLivedCredential({ baseUrl: env.emu.url, longLivedToken: env.token }),
      respond: overHttp,
    });
    ctx.getNodeParameter = (name, fallback) => ({ authentication: 'amoCrmKommoApi', events: [], entities: [], startFrom: 'now', options: {}, ...params })[name] ?? fallback;
    ctx.getWorkflowStaticData = () => staticData;
    ctx.getMode = () => mode;
    const out = await node.poll.call(ctx);
    return { items: out ? out[0].map((i) => i.json) : [], requests: ctx.requests };
  };
  return { poll, staticData };
}

const now = () => Math.floor(Date.now() / 1000);

test('the first poll notes the time and emits nothing old; later polls emit each new event once, oldest first', async () => {
  await env.api.post('/api/v4/leads', [{ name: 'before activation' }]);
  const t = trigger();
  const first = await t.poll();
  assert.deepEqual(first.items, []);
  assert.equal(first.requests.length, 1, "one read marks what is already there as seen");
  assert.ok(Math.abs(t.staticData.cursor.since - now()) <= 2);

  const ids = (await env.api.post('/api/v4/leads', [{ name: 'A' }, { name: 'B' }])).body._embedded.leads.map((l) => l.id);
  await env.api.patch(`/api/v4/leads/${ids[0]}`, { status_id: 142, pipeline_id: 7000001 });
  const second = await t.poll();
  assert.deepEqual(second.items.map((e) => e.type), ['lead_added', 'lead_added', 'lead_status_changed']);
  assert.equal(second.items[2].entity_id, ids[0]);
  assert.equal(second.requests.length, 1);
  const nothing = await t.poll();
  assert.deepEqual(nothing.items, []);
  assert.equal(nothing.requests.length, 1, 'a quiet account costs one request per poll');
});

test('events sharing a second with the last poll are emitted by the next one, and none twice', async () => {
  const t = trigger({ events: ['lead_added'] });
  await t.poll();
  const s = now() + 1;
  const inject = (n, from) => env.admin('POST', '/_admin/events', { count: n, template: { type: 'lead_added', entity_type: 'lead', entity_id: from, created_at: s } });
  await inject(10, 1);
  const a = await t.poll();
  assert.equal(a.items.length, 10);
  await inject(10, 100);
  const b = await t.poll();
  assert.equal(b.items.length, 10);
  assert.ok(b.items.every((e) => e.entity_id >= 100));
  assert.equal(new Set([...a.items, ...b.items].map((e) => e.id)).size, 20);
  assert.equal((await t.poll()).items.length, 0);
});

test('a burst of 1,250 events is read page by page (100 a page) and emitted once, in time order', async () => {
  const t = trigger({ events: ['task_added'] });
  await t.poll();
  const base = now() + 2;
  const events = Array.from({ length: 1250 }, (_, i) => ({ type: 'task_added', entity_type: 'task', entity_id: i + 1, created_at: base + Math.floor(i / 300) }));
  await env.admin('POST', '/_admin/events', { events });
  const r = await t.poll();
  assert.equal(r.items.length, 1250);
  assert.equal(r.requests.length, 13, '12 full pages and one short');
  const times = r.items.map((e) => e.created_at);
  assert.deepEqual(times, [...times].sort((x, y) => x - y));
  assert.equal(new Set(r.items.map((e) => e.entity_id)).size, 1250);
});

test('a failed poll throws, emits nothing and keeps the cursor; the next one catches up', async () => {
  const t = trigger({ events: ['contact_added'] });
  await t.poll();
  await env.api.post('/api/v4/contacts', [{ name: 'X' }, { name: 'Y' }]);
  const cursor = JSON.stringify(t.staticData.cursor);
  await env.admin('POST', '/_admin/faults', { method: 'GET', path: '/api/v4/events', status: 402, count: 1 });
  await assert.rejects(t.poll(), /402|subscription|paid/i);
  assert.equal(JSON.stringify(t.staticData.cursor), cursor);
  const r = await t.poll();
  assert.deepEqual(r.items.map((e) => e.type), ['contact_added', 'contact_added']);
});

test('a manual run shows the latest few events without moving the cursor', async () => {
  const t = trigger({ events: ['lead_added'] }, { cursor: { since: 1, seen: [] } });
  const r = await t.poll({ mode: 'manual' });
  assert.ok(r.items.length > 0 && r.items.length <= 5);
  assert.equal(r.requests.length, 1);
  const times = r.items.map((e) => e.created_at);
  assert.deepEqual(times, [...times].sort((x, y) => y - x), 'newest first');
  assert.deepEqual(t.staticData.cursor, { since: 1, seen: [] });
});

test('Fetch Full Records reads each entity type once, with Include, and Start From a date reads from that date', async () => {
  const from = now();
  await env.api.post('/api/v4/leads', [{ name: 'R1' }, { name: 'R2' }]);
  await env.api.post('/api/v4/contacts', [{ name: 'C1' }]);
  const t = trigger({ events: ['lead_added', 'contact_added'], startFrom: 'date', startDate: new Date(from * 1000).toISOString(), options: { fetchFullRecords: true, with: ['contacts'], simplify: true } });
  const r = await t.poll();
  const mine = r.items.filter((e) => e.created_at >= from);
  assert.ok(mine.length >= 3);
  assert.equal(r.requests.length, 3, 'the events, then one read of the leads and one of the contacts');
  assert.ok(r.requests.some((q) => /\/api\/v4\/leads\?filter\[id\]\[0\]=.*with=contacts&limit=250$/.test(q.url)));
  const lead = r.items.find((e) => e.type === 'lead_added' && e.record?.name === 'R1');
  assert.ok(lead, JSON.stringify(r.items.map((e) => e.record)));
  assert.deepEqual(lead.record.tags, [], 'simplified');
  assert.ok(Array.isArray(lead.record.contacts));
});

test('filters are checked before any request', async () => {
  const t = trigger({ events: ['custom_field_1_value_changed', 'lead_added'] }, { cursor: { since: 1, seen: [] } });
  await assert.rejects(t.poll(), /only alone/);
});

test('the node is a polling trigger whose panel lists every event type', () => {
  const d = node.description;
  assert.equal(d.polling, true);
  assert.deepEqual(d.group, ['trigger']);
  assert.deepEqual(d.inputs, []);
  assert.equal(d.usableAsTool, undefined);
  assert.equal(d.properties.find((p) => p.name === 'events').options.length, 60);
});
