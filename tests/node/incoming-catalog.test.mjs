// The AmoCRM Incoming Lead and AmoCRM Catalog nodes through their real
// execute() and dropdowns with a fake n8n: a node of two resources routes
// each to its own operations, the catalog chosen reaches every request and
// lookup, and an incoming lead accepted twice is an item, not an error.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dist, fakeContext, json } from './fake-n8n.mjs';

const { AmoCrmCatalog } = dist('nodes/AmoCrmCatalog/AmoCrmCatalog.node.js');
const { AmoCrmIncomingLead } = dist('nodes/AmoCrmIncomingLead/AmoCrmIncomingLead.node.js');

const catalog = new AmoCrmCatalog();
const incoming = new AmoCrmIncomingLead();

test('the Catalog node has an Element and a List resource, each with its operations, Custom API Call last', () => {
  const props = catalog.description.properties;
  assert.deepEqual(
    props.find((p) => p.name === 'resource').options.map((o) => o.value),
    ['catalogElement', 'catalog'],
  );
  const operations = (resource) =>
    props.find((p) => p.name === 'operation' && p.displayOptions.show.resource[0] === resource).options.map((o) => o.value);
  assert.deepEqual(operations('catalogElement'), ['create', 'get', 'getLeadProducts', 'getMany', 'linkToLead', 'update', 'customRequest']);
  assert.deepEqual(operations('catalog'), ['create', 'getMany', 'update', 'customRequest']);
  const scope = props.find((p) => p.name === 'catalogId');
  assert.deepEqual(scope.displayOptions, { show: { resource: ['catalogElement'] }, hide: { operation: ['customRequest'] } });
  assert.equal(catalog.description.usableAsTool, true);
  const mapper = props.find((p) => p.name === 'customFields' && p.displayOptions.show.operation[0] === 'create');
  assert.deepEqual(mapper.typeOptions.loadOptionsDependsOn, ['authentication', 'catalogId']);
});

test('Element Create reads the catalog for each item and writes to that catalog, with its custom fields', async () => {
  const ctx = fakeContext({
    items: [{ json: {} }, { json: {} }],
    params: (name, i) =>
      ({
        authentication: 'amoCrmKommoApi',
        resource: 'catalogElement',
        operation: 'create',
        catalogId: 5001,
        mapping: 'manual',
        name: `Product ${i}`,
        customFields: { mappingMode: 'defineBelow', value: { 900401: `SKU-${i}` } },
        options: {},
      })[name],
    respond: (r) => {
      if (r.url.includes('/custom_fields')) return json(200, { _embedded: { custom_fields: [{ id: 900401, name: 'SKU', type: 'text' }] } });
      const sent = JSON.parse(r.body);
      return json(200, { _embedded: { elements: sent.map((e, k) => ({ id: 600100 + k, name: e.name, created_at: 1, request_id: e.request_id })) } });
    },
  });
  const [out] = await catalog.execute.call(ctx);
  assert.deepEqual(
    ctx.requests.map((r) => `${r.method} ${r.url}`),
    ['GET http://127.0.0.1:9/api/v4/catalogs/5001/custom_fields?limit=250&page=1', 'POST http://127.0.0.1:9/api/v4/catalogs/5001/elements'],
  );
  assert.deepEqual(JSON.parse(ctx.requests[1].body)[1].custom_fields_values, [{ field_id: 900401, values: [{ value: 'SKU-1' }] }]);
  assert.deepEqual(out.map((o) => [o.json.name, o.pairedItem.item]), [['Product 0', 0], ['Product 1', 1]]);
});

test('the price field dropdown reads the fields of the catalog chosen in the editor', async () => {
  const ctx = fakeContext({
    params: { authentication: 'amoCrmKommoApi', resource: 'catalogElement' },
    respond: () =>
      json(200, {
        _embedded: {
          custom_fields: [
            { id: 900401, name: 'SKU', type: 'text' },
            { id: 900402, name: 'Price', type: 'price' },
          ],
        },
      }),
  });
  ctx.getCurrentNodeParameter = (name) => (name === 'catalogId' ? 5002 : undefined);
  const options = await catalog.methods.loadOptions.getPriceFields.call(ctx);
  assert.equal(ctx.requests[0].url, 'http://127.0.0.1:9/api/v4/catalogs/5002/custom_fields?limit=250&page=1');
  assert.deepEqual(options, [{ name: 'Price', value: 900402 }]);
});

test('accepting incoming leads: accepted, already processed (an item saying so), unknown (an error item)', async () => {
  const uids = ['aaa111', 'bbb222', 'ccc333'];
  const ctx = fakeContext({
    items: uids.map(() => ({ json: {} })),
    continueOnFail: true,
    params: (name, i) => ({ authentication: 'amoCrmKommoApi', resource: 'unsorted', operation: 'accept', uid: uids[i], status: '7000001:142', userId: '' })[name],
    respond: (r) => {
      if (r.url.includes('aaa111')) return json(200, { uid: 'aaa111', pipeline_id: 7000001, category: 'forms', _embedded: { leads: [{ id: 1 }] } });
      if (r.url.includes('bbb222'))
        return json(400, { 'validation-errors': [{ request_id: '0', errors: [{ code: 'NotAvailableForAction', path: 'uid', detail: 'The unsorted entity has already been declined.' }] }], status: 400 });
      return json(404, { title: 'Not Found', status: 404, detail: 'Unsorted entity not found' });
    },
  });
  const [out] = await incoming.execute.call(ctx);
  assert.equal(ctx.requests.length, 3, 'one request per incoming lead: amoCRM has no batch accept');
  assert.deepEqual(JSON.parse(ctx.requests[0].body), { status_id: 142 });
  assert.deepEqual(out[0].json, { uid: 'aaa111', accepted: true, pipeline_id: 7000001, category: 'forms', lead_id: 1, contact_id: null, company_id: null });
  assert.equal(out[1].json.accepted, false);
  assert.match(out[1].json.reason, /already been declined/);
  assert.match(out[2].json.error, /^Accepting incoming lead ccc333: amoCRM found nothing/);
  assert.deepEqual(out.map((o) => o.pairedItem.item), [0, 1, 2]);
});
