// Create through the node's execute(): batching, pairing, and how large
// inputs are read and sent in chunks of 1,000 items.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dist, fakeContext, json } from './fake-n8n.mjs';

const { AmoCrmLead } = dist('nodes/AmoCrmLead/AmoCrmLead.node.js');
const { CHUNK_ITEMS } = dist('shared/entity/router.js');

/** An amoCRM that creates every lead of a batch, answers with IDs, and reads them back. */
function creator() {
  let next = 1000;
  const leads = new Map();
  return (r) => {
    if (r.method === 'GET') {
      const ids = [...new URL(r.url).searchParams.entries()].filter(([k]) => k.startsWith('filter[id]')).map(([, v]) => Number(v));
      return json(200, { _embedded: { leads: ids.map((id) => leads.get(id)) } });
    }
    const bodies = JSON.parse(r.body);
    const created = bodies.map((b) => ({ id: next++, request_id: b.request_id }));
    bodies.forEach((b, i) => leads.set(created[i].id, { id: created[i].id, name: b.name, price: b.price }));
    return json(200, { _embedded: { leads: created } });
  };
}

const posts = (ctx) => ctx.requests.filter((r) => r.method === 'POST');

const node = new AmoCrmLead();
const params = (prices, options = { batchSize: 250 }) => (name, i) =>
  ({ authentication: 'amoCrmKommoApi', operation: 'create', mapping: 'manual', name: `Lead ${i}`, additionalFields: { price: prices(i) }, customFields: null, options })[name];

test('by default leads go out 50 per request, as amoCRM\'s official client advises', async () => {
  const items = Array.from({ length: 120 }, () => ({ json: {} }));
  const ctx = fakeContext({ items, params: params((i) => i, {}), respond: creator() });
  const [out] = await node.execute.call(ctx);
  // Paced by the account's budget, the batches may leave in any order.
  assert.deepEqual(posts(ctx).map((r) => JSON.parse(r.body).length).sort((a, b) => b - a), [50, 50, 20]);
  assert.equal(ctx.requests.length, 6, 'each batch is read back once');
  // IDs follow the order the batches reached amoCRM; each output is its own lead.
  assert.deepEqual({ ...out[119].json, id: undefined }, { id: undefined, name: 'Lead 119', price: 119 });
  assert.equal(out.length, 120);
  assert.equal(new Set(out.map((o) => o.json.id)).size, 120);
});

test('Options › Output: IDs Only skips the read-back, and the option is offered in the node for Create and Update', async () => {
  const items = Array.from({ length: 120 }, () => ({ json: {} }));
  const ctx = fakeContext({ items, params: params((i) => i, { output: 'ids' }), respond: creator() });
  const [out] = await node.execute.call(ctx);
  assert.equal(ctx.requests.length, 3, 'three writes, no reads');
  assert.deepEqual(Object.keys(out[119].json), ['id']);
  assert.equal(new Set(out.map((o) => o.json.id)).size, 120);
  for (const op of ['create', 'update']) {
    const options = node.description.properties.find((p) => p.name === 'options' && p.displayOptions?.show?.operation?.includes(op));
    const output = options?.options.find((o) => o.name === 'output');
    assert.deepEqual(output?.options.map((o) => o.value), ['records', 'ids'], op);
  }
});

test('2,500 items go out as 10 requests in three chunks, each output paired with its input', async () => {
  const items = Array.from({ length: 2500 }, () => ({ json: {} }));
  const ctx = fakeContext({ items, params: params((i) => i), respond: creator() });
  const [out] = await node.execute.call(ctx);
  assert.equal(CHUNK_ITEMS, 1000);
  assert.equal(posts(ctx).length, 10);
  assert.deepEqual(posts(ctx).map((r) => JSON.parse(r.body).length), [250, 250, 250, 250, 250, 250, 250, 250, 250, 250]);
  assert.equal(out.length, 2500);
  assert.deepEqual(out.map((o) => o.pairedItem.item), [...Array(2500).keys()]);
  // Item 1731's body carried item 1731's price.
  const sent = posts(ctx).flatMap((r) => JSON.parse(r.body));
  assert.equal(sent.find((b) => b.name === 'Lead 1731').price, 1731);
});

test('up to 1,000 items, a bad item stops the node before any request', async () => {
  const items = Array.from({ length: 1000 }, () => ({ json: {} }));
  const ctx = fakeContext({ items, params: params((i) => (i === 999 ? 'lots' : i)), respond: creator() });
  await assert.rejects(node.execute.call(ctx), /Item 999, field "Additional Fields › Price"/);
  assert.equal(ctx.requests.length, 0);
});

test('beyond 1,000 items, a bad item stops the node before its own chunk is sent', async () => {
  const items = Array.from({ length: 2500 }, () => ({ json: {} }));
  const ctx = fakeContext({ items, params: params((i) => (i === 2100 ? 'lots' : i)), respond: creator() });
  let thrown;
  await assert.rejects(node.execute.call(ctx), (e) => {
    thrown = e;
    return /Item 2100, field "Additional Fields › Price"/.test(e.message);
  });
  const sent = posts(ctx).flatMap((r) => JSON.parse(r.body).map((b) => Number(b.name.split(' ')[1])));
  assert.ok(sent.every((i) => i < 2000), 'nothing of the bad item\'s chunk was sent');
  // What earlier chunks wrote is named, not hidden behind the error.
  assert.equal(thrown.context.itemIndex, 2100);
  assert.equal(thrown.context.written.length, sent.length);
  assert.deepEqual(thrown.context.written[0], { index: 0, id: 1000 });
  assert.match(thrown.description, /Written to amoCRM before the node stopped \(\d+ of them/);
});

test('under Continue on Fail only the bad item fails', async () => {
  const items = Array.from({ length: 2500 }, () => ({ json: {} }));
  const ctx = fakeContext({ items, continueOnFail: true, params: params((i) => (i === 2100 ? 'lots' : i)), respond: creator() });
  const [out] = await node.execute.call(ctx);
  assert.equal(out.length, 2500);
  assert.match(out[2100].json.error, /^Item 2100, field "Additional Fields › Price"/);
  assert.equal(out.filter((o) => o.json.error).length, 1);
  assert.equal(out[2100].pairedItem.item, 2100);
});
