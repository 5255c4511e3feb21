import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './helpers.mjs';

const CATALOG_KEYS = [
  'id', 'name', 'created_by', 'updated_by', 'created_at', 'updated_at', 'sort', 'type', 'can_add_elements', 'can_show_in_cards',
  'can_link_multiple', 'can_be_deleted', 'sdk_widget_code', 'account_id', '_links',
];
const ELEMENT_KEYS = ['id', 'catalog_id', 'name', 'created_by', 'updated_by', 'created_at', 'updated_at', 'is_deleted', 'custom_fields_values', 'account_id', '_links'];
const CUSTOMER_KEYS = [
  'id', 'name', 'next_price', 'next_date', 'responsible_user_id', 'status_id', 'periodicity', 'created_by', 'updated_by', 'created_at',
  'updated_at', 'closest_task_at', 'is_deleted', 'custom_fields_values', 'ltv', 'purchases_count', 'average_check', 'account_id', '_links', '_embedded',
];
const list = (r, key) => (r.status === 204 ? [] : r.body._embedded[key]);
const cfv = (rec, id) => rec.custom_fields_values?.find((f) => f.field_id === id)?.values.map((v) => v.value);

describe('catalogs and elements', () => {
  let env;
  before(async () => { env = await setup({ seed: 'base' }); });
  after(() => env.close());

  test('GET /catalogs, /catalogs/{id}; products catalog 5001 with SKU, PRICE (price), DESCRIPTION fields', async () => {
    let r = await env.api.get('/api/v4/catalogs');
    assert.equal(r.status, 200);
    const [products] = list(r, 'catalogs');
    assert.deepEqual(Object.keys(products), CATALOG_KEYS);
    assert.deepEqual([products.id, products.name, products.type], [5001, 'Товары', 'products']);
    assert.equal((await env.api.get('/api/v4/catalogs/5001')).body.name, 'Товары');
    assert.equal((await env.api.get('/api/v4/catalogs/4999')).status, 204);
    r = await env.api.get('/api/v4/catalogs/5001/custom_fields');
    assert.deepEqual(list(r, 'custom_fields').map((f) => [f.id, f.code, f.type]), [[900401, 'SKU', 'text'], [900402, 'PRICE', 'price'], [900403, 'DESCRIPTION', 'textarea']]);
    assert.equal(list(r, 'custom_fields')[0]._links.self.href, `${env.emu.url}/api/v4/catalogs/5001/custom_fields/900401`);
    assert.equal((await env.api.get('/api/v4/catalogs/5001/custom_fields/900402')).body.catalog_id, 5001);
    assert.equal((await env.api.get('/api/v4/catalogs/4999/custom_fields')).status, 204);
  });

  test('elements: list, query over name and field values, filter[id], paging, get; 204s', async () => {
    let r = await env.api.get('/api/v4/catalogs/5001/elements');
    const els = list(r, 'elements');
    assert.deepEqual(els.map((e) => e.id), [600001, 600002, 600003, 600004, 600005, 600006]);
    assert.deepEqual(Object.keys(els[0]), ELEMENT_KEYS);
    assert.deepEqual(cfv(els[1], 900401), ['LIC-PRO']);
    assert.deepEqual(cfv(els[1], 900402), ['30000']);
    const q = async (s) => list(await env.api.get(`/api/v4/catalogs/5001/elements?query=${encodeURIComponent(s)}`), 'elements').map((e) => e.id);
    assert.deepEqual(await q('lic-pro'), [600002]);
    assert.deepEqual(await q('интеграция'), [600005]);
    assert.deepEqual(await q('лицензия'), [600001, 600002]);
    assert.deepEqual(await q('nothing'), []);
    r = await env.api.get('/api/v4/catalogs/5001/elements?filter[id][]=600003&filter[id][]=600006');
    assert.deepEqual(list(r, 'elements').map((e) => e.id), [600003, 600006]);
    r = await env.api.get('/api/v4/catalogs/5001/elements?limit=3&page=2');
    assert.deepEqual(list(r, 'elements').map((e) => e.id), [600004, 600005, 600006]);
    assert.ok(r.body._links.next);
    assert.equal((await env.api.get('/api/v4/catalogs/5001/elements?limit=3&page=3')).status, 204);
    assert.equal((await env.api.get('/api/v4/catalogs/5001/elements/600004')).body.name, 'Обучение персонала');
    assert.equal((await env.api.get('/api/v4/catalogs/5001/elements/1')).status, 204);
    assert.equal((await env.api.get('/api/v4/catalogs/4999/elements')).status, 204);
  });

  test('catalogs: POST (full models, request_id), type rules, at most 10; PATCH batch and /{id}', async () => {
    let r = await env.api.post('/api/v4/catalogs', [{ name: 'Services', request_id: 's' }, { name: 'Invoices', type: 'invoices' }]);
    assert.equal(r.status, 200, r.text);
    const [services, invoices] = list(r, 'catalogs');
    assert.deepEqual(Object.keys(services), [...CATALOG_KEYS, 'request_id']);
    assert.deepEqual([services.type, services.request_id, invoices.type, invoices.request_id], ['regular', 's', 'invoices', '1']);
    r = await env.api.post('/api/v4/catalogs', [{ name: 'ok' }, { name: 'Products 2', type: 'products' }, { type: 'regular' }, { name: 'x', type: 'weird' }]);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body['validation-errors'].map((e) => [e.request_id, e.errors[0].path]), [['1', 'type'], ['2', 'name'], ['3', 'type']]);
    assert.equal(list(await env.api.get('/api/v4/catalogs'), 'catalogs').length, 3, 'atomic');
    r = await env.api.post('/api/v4/catalogs', Array.from({ length: 8 }, (_, i) => ({ name: `List ${i}` })));
    assert.equal(r.status, 400);
    assert.equal(r.body['validation-errors'][0].request_id, '7');
    assert.equal(r.body['validation-errors'][0].errors[0].code, 'LimitExceeded');
    assert.equal((await env.api.post('/api/v4/catalogs', Array.from({ length: 7 }, (_, i) => ({ name: `List ${i}` })))).status, 200);
    r = await env.api.patch('/api/v4/catalogs', [{ id: services.id, name: 'Services & support', can_link_multiple: false }]);
    assert.equal(r.status, 200, r.text);
    assert.equal(list(r, 'catalogs')[0].name, 'Services & support');
    r = await env.api.patch(`/api/v4/catalogs/${services.id}`, { sort: 5 });
    assert.equal(r.body.sort, 5);
    assert.equal((await env.api.patch(`/api/v4/catalogs/${services.id}`, { type: 'products' })).status, 400);
    assert.equal((await env.api.patch('/api/v4/catalogs/4999', { name: 'x' })).status, 404);
    assert.equal((await env.api.patch('/api/v4/catalogs', [{ id: 4999, name: 'x' }])).status, 400);
  });

  test('elements: POST with custom fields (full models), PATCH batch replaces field values, PATCH /{id}; errors', async () => {
    let r = await env.api.post('/api/v4/catalogs/5001/elements', [
      { name: 'Mobile app add-on', request_id: 'm', custom_fields_values: [{ field_code: 'SKU', values: [{ value: 'ADD-MOBILE' }] }, { field_code: 'PRICE', values: [{ value: 4990 }] }] },
      { name: 'Consulting hour' },
    ]);
    assert.equal(r.status, 200, r.text);
    const [mobile, hour] = list(r, 'elements');
    assert.deepEqual(Object.keys(mobile), [...ELEMENT_KEYS, 'request_id']);
    assert.deepEqual([mobile.request_id, hour.request_id, mobile.catalog_id], ['m', '1', 5001]);
    assert.deepEqual(cfv(mobile, 900402), ['4990']);
    r = await env.api.post('/api/v4/catalogs/5001/elements', [{ name: 'ok' }, {}, { name: 'bad', custom_fields_values: [{ field_id: 900102, values: [{ value: 'x' }] }] }]);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body['validation-errors'].map((e) => [e.request_id, e.errors[0].path]), [['1', 'name'], ['2', 'custom_fields_values.0.field_id']]);
    r = await env.api.patch('/api/v4/catalogs/5001/elements', [{ id: mobile.id, custom_fields_values: [{ field_code: 'PRICE', values: [{ value: '5490' }] }] }]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(cfv(list(r, 'elements')[0], 900402), ['5490']);
    assert.deepEqual(cfv(list(r, 'elements')[0], 900401), ['ADD-MOBILE'], 'fields not sent stay');
    r = await env.api.patch(`/api/v4/catalogs/5001/elements/${hour.id}`, { name: 'Consulting hour (remote)' });
    assert.equal(r.body.name, 'Consulting hour (remote)');
    assert.equal((await env.api.patch('/api/v4/catalogs/5001/elements/1', { name: 'x' })).status, 404);
    assert.equal((await env.api.post('/api/v4/catalogs/4999/elements', [{ name: 'x' }])).status, 404);
    const other = list(await env.api.get('/api/v4/catalogs'), 'catalogs').find((c) => c.id !== 5001);
    r = await env.api.patch(`/api/v4/catalogs/${other.id}/elements`, [{ id: mobile.id, name: 'wrong catalog' }]);
    assert.equal(r.body['validation-errors'][0].errors[0].code, 'NotFound', 'an element of another catalog');
  });

  test('elements link to leads with quantity and price_id; with=catalog_elements and links return the metadata', async () => {
    const lead = list(await env.api.post('/api/v4/leads', [{ name: 'Order' }]), 'leads')[0].id;
    let r = await env.api.post(`/api/v4/leads/${lead}/link`, [
      { to_entity_id: 600002, to_entity_type: 'catalog_elements', metadata: { catalog_id: 5001, quantity: 3, price_id: 900402 } },
      { to_entity_id: 600004, to_entity_type: 'catalog_elements', metadata: { quantity: 1.5 } },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body._embedded.links[0].metadata, { quantity: 3, catalog_id: 5001, price_id: 900402 });
    r = await env.api.get(`/api/v4/leads/${lead}?with=catalog_elements`);
    assert.deepEqual(r.body._embedded.catalog_elements, [
      { id: 600002, metadata: { quantity: 3, catalog_id: 5001, price_id: 900402 } },
      { id: 600004, metadata: { quantity: 1.5, catalog_id: 5001 } },
    ]);
    r = await env.api.get(`/api/v4/leads/${lead}/links?filter[to_catalog_id]=5001`);
    assert.equal(r.body._total_items, 2);
    r = await env.api.post(`/api/v4/leads/${lead}/link`, [{ to_entity_id: 600001, to_entity_type: 'catalog_elements', metadata: { price_id: 900401 } }]);
    assert.equal(r.status, 400, 'price_id must be a price field of the catalog');
    r = await env.api.post('/api/v4/contacts/39000003/link', [{ to_entity_id: 600006, to_entity_type: 'catalog_elements', metadata: { quantity: 1 } }]);
    assert.equal(r.status, 200);
    assert.deepEqual((await env.api.get('/api/v4/contacts/39000003?with=catalog_elements')).body._embedded.catalog_elements, [{ id: 600006, metadata: { quantity: 1, catalog_id: 5001 } }]);
    assert.equal((await env.api.post(`/api/v4/leads/${lead}/unlink`, [{ to_entity_id: 600004, to_entity_type: 'catalog_elements' }])).status, 204);
    assert.equal((await env.api.get(`/api/v4/leads/${lead}?with=catalog_elements`)).body._embedded.catalog_elements.length, 1);
  });
});

describe('customers', () => {
  let env;
  before(async () => { env = await setup({ seed: 'base' }); });
  after(() => env.close());

  test('account customers_mode = periodicity; list, get, with=, filters, query; unknown → 204', async () => {
    assert.equal((await env.api.get('/api/v4/account')).body.customers_mode, 'periodicity');
    let r = await env.api.get('/api/v4/customers');
    assert.equal(r.status, 200);
    const [acme, emily] = list(r, 'customers');
    assert.deepEqual(Object.keys(acme), CUSTOMER_KEYS);
    assert.deepEqual([acme.id, acme.name, acme.ltv, acme.purchases_count, acme.average_check], [60000001, 'Acme Corp annual supply', 180000, 1, 180000]);
    assert.deepEqual([emily.ltv, emily.purchases_count, emily.average_check], [9800, 2, 4900]);
    assert.deepEqual(acme._embedded.segments.map((s) => s.id), [401]);
    assert.deepEqual(acme._embedded.tags.map((t) => t.name), ['Wholesale']);
    assert.equal('contacts' in acme._embedded, false);
    r = await env.api.get('/api/v4/customers/60000001?with=contacts,companies,catalog_elements');
    assert.deepEqual(r.body._embedded.contacts.map((c) => [c.id, c.is_main]), [[39000001, true], [39000003, false]]);
    assert.deepEqual(r.body._embedded.companies.map((c) => c.id), [49000001]);
    assert.deepEqual(r.body._embedded.catalog_elements, []);
    assert.equal((await env.api.get('/api/v4/customers/1')).status, 204);
    const ids = async (qs) => list(await env.api.get(`/api/v4/customers?${qs}`), 'customers').map((c) => c.id);
    assert.deepEqual(await ids('filter[status_id]=62000001'), [60000002]);
    assert.deepEqual(await ids('filter[next_date][from]=1710000000'), [60000001]);
    assert.deepEqual(await ids('filter[next_price][from]=5000'), [60000001], 'D:filters-api: next_price is a range filter');
    assert.deepEqual(await ids('filter[next_price][to]=5000'), [60000002]);
    assert.deepEqual(await ids('query=AC-0001'), [60000001]);
    assert.deepEqual(await ids('query=invoices%20at%20the%20start'), [60000001], 'notes are searched');
    assert.deepEqual(await ids('query=emily'), [60000002]);
    assert.equal((await env.api.get('/api/v4/customers?query=nobody')).status, 204);
    r = await env.api.get('/api/v4/customers/custom_fields');
    assert.deepEqual(list(r, 'custom_fields').map((f) => f.name), ['Loyalty card', 'Preferred channel', 'Contract until']);
  });

  test('POST: name and (periodicity) next_date required, status/segments checked, atomic; defaults', async () => {
    let r = await env.api.post('/api/v4/customers', [
      { name: 'ok', next_date: 1800000000 },
      { next_date: 1800000000 },
      { name: 'no date' },
      { name: 'bad status', next_date: 1800000000, status_id: 1 },
      { name: 'bad segment', next_date: 1800000000, _embedded: { segments: [{ id: 9 }] } },
    ]);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body['validation-errors'].map((e) => [e.request_id, e.errors[0].code, e.errors[0].path]), [
      ['1', 'FieldMissing', 'name'], ['2', 'FieldMissing', 'next_date'], ['3', 'NotSupportedChoice', 'status_id'], ['4', 'NotSupportedChoice', '_embedded.segments.0.id'],
    ]);
    assert.equal(list(await env.api.get('/api/v4/customers'), 'customers').length, 2);
    r = await env.api.post('/api/v4/customers', [{
      name: 'Hooli subscription', next_date: 1800000000, next_price: 1500, periodicity: 30, request_id: 'h',
      tags_to_add: [{ name: 'Retail' }], _embedded: { segments: [{ id: 402 }] },
      custom_fields_values: [{ field_id: 900302, values: [{ value: 'Phone' }] }, { field_id: 900301, values: [{ value: 'HO-1' }] }],
    }]);
    assert.equal(r.status, 200, r.text);
    const entry = list(r, 'customers')[0];
    assert.deepEqual(Object.keys(entry), ['id', 'request_id', '_links']);
    const c = (await env.api.get(`/api/v4/customers/${entry.id}`)).body;
    assert.deepEqual([c.status_id, c.next_price, c.periodicity, c.ltv, c.purchases_count], [62000001, 1500, 30, 0, 0]);
    assert.deepEqual(c._embedded.segments.map((s) => s.id), [402]);
    assert.deepEqual(c._embedded.tags.map((t) => t.name), ['Retail']);
    assert.equal(c.custom_fields_values.find((f) => f.field_id === 900302).values[0].value, 'Phone');
  });

  test('PATCH batch and /{id}: fields, tags, custom field values replaced; errors', async () => {
    let r = await env.api.patch('/api/v4/customers', [{ id: 60000002, next_price: 5900, status_id: 62000003, tags_to_add: [{ name: 'VIP' }], custom_fields_values: [{ field_id: 900302, values: [{ value: 'Email' }] }] }]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(list(r, 'customers')[0]), ['id', 'updated_at', 'request_id', '_links']);
    let c = (await env.api.get('/api/v4/customers/60000002')).body;
    assert.deepEqual([c.next_price, c.status_id], [5900, 62000003]);
    assert.deepEqual(c._embedded.tags.map((t) => t.name), ['VIP']);
    assert.deepEqual(cfv(c, 900302), ['Email']);
    r = await env.api.patch('/api/v4/customers/60000002', { name: 'Emily Johnson (annual)', _embedded: { tags: null, segments: [{ id: 401 }] } });
    assert.equal(r.status, 200, r.text);
    c = (await env.api.get('/api/v4/customers/60000002')).body;
    assert.equal(c.name, 'Emily Johnson (annual)');
    assert.deepEqual(c._embedded.tags, []);
    assert.deepEqual(c._embedded.segments.map((s) => s.id), [401]);
    assert.equal((await env.api.patch('/api/v4/customers/1', { name: 'x' })).status, 404);
    assert.equal((await env.api.patch('/api/v4/customers', [{ id: 60000001, status_id: 5 }])).status, 400);
  });

  test('links, notes and tags of customers', async () => {
    let r = await env.api.post('/api/v4/customers/60000002/link', [
      { to_entity_id: 49000003, to_entity_type: 'companies' },
      { to_entity_id: 39000005, to_entity_type: 'contacts' },
      { to_entity_id: 600003, to_entity_type: 'catalog_elements', metadata: { quantity: 2 } },
    ]);
    assert.equal(r.status, 200, r.text);
    r = await env.api.get('/api/v4/customers/60000002/links');
    assert.deepEqual(r.body._embedded.links.map((l) => [l.to_entity_type, l.to_entity_id]), [['contacts', 39000002], ['contacts', 39000005], ['companies', 49000003], ['catalog_elements', 600003]]);
    r = await env.api.get('/api/v4/contacts/39000005/links');
    assert.deepEqual(r.body._embedded.links, [{ to_entity_id: 60000002, to_entity_type: 'customers', metadata: { main_contact: false } }]);
    assert.equal((await env.api.post('/api/v4/customers/60000002/link', [{ to_entity_id: 1, to_entity_type: 'leads' }])).status, 400, 'customers do not link to leads');
    assert.equal((await env.api.post('/api/v4/customers/unlink', [{ entity_id: 60000002, to_entity_id: 39000005, to_entity_type: 'contacts' }])).status, 204);
    assert.equal((await env.api.get('/api/v4/customers/links?filter[entity_id]=60000002&filter[to_entity_type]=contacts')).body._total_items, 1);
    r = await env.api.post('/api/v4/customers/60000002/notes', [{ note_type: 'common', params: { text: 'Renewed by phone' } }]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body._embedded.notes[0]._links.self.href.includes('/api/v4/customers/60000002/notes/'), true);
    assert.deepEqual(list(await env.api.get('/api/v4/customers/notes'), 'notes').map((n) => n.entity_id), [60000001, 60000002]);
    r = await env.api.post('/api/v4/customers/tags', [{ name: 'Loyal' }]);
    assert.equal(r.status, 200);
    assert.ok(list(await env.api.get('/api/v4/customers/tags'), 'tags').some((t) => t.name === 'Loyal'));
  });

  test('transactions: list all / per customer, get, POST (price required), DELETE → 204; ltv follows', async () => {
    let r = await env.api.get('/api/v4/customers/transactions');
    assert.equal(r.status, 200);
    const txs = list(r, 'transactions');
    assert.equal(txs.length, 3);
    assert.deepEqual(Object.keys(txs[0]), ['id', 'comment', 'price', 'completed_at', 'customer_id', 'created_by', 'updated_by', 'created_at', 'updated_at', 'is_deleted', 'account_id', '_links', '_embedded']);
    assert.deepEqual(txs[0]._embedded.catalog_elements, [{ id: 600002, metadata: { quantity: 1, catalog_id: 5001 } }]);
    assert.deepEqual(list(await env.api.get('/api/v4/customers/60000002/transactions'), 'transactions').map((t) => t.comment), ['January', 'February']);
    assert.equal((await env.api.get(`/api/v4/customers/transactions/${txs[0].id}`)).body.price, 180000);
    assert.equal((await env.api.get(`/api/v4/customers/transactions?filter[id]=${txs[1].id}`)).body._embedded.transactions.length, 1);
    assert.equal((await env.api.get('/api/v4/customers/transactions/1')).status, 204);
    r = await env.api.post('/api/v4/customers/60000001/transactions', [{ price: 20000, comment: 'Extra order' }, { comment: 'no price' }]);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body['validation-errors'][0], { request_id: '1', errors: [{ code: 'FieldMissing', path: 'price', detail: 'This value should not be blank.' }] });
    r = await env.api.post('/api/v4/customers/60000001/transactions', [{ price: 20000, comment: 'Extra order', next_price: 200000, next_date: 1800000000, request_id: 'x', _embedded: { catalog_elements: [{ id: 600005, metadata: { quantity: 2, catalog_id: 5001 } }] } }]);
    assert.equal(r.status, 200, r.text);
    const t = list(r, 'transactions')[0];
    assert.deepEqual(Object.keys(t), ['id', 'customer_id', 'request_id', '_links']);
    assert.deepEqual([t.customer_id, t.request_id], [60000001, 'x']);
    let c = (await env.api.get('/api/v4/customers/60000001')).body;
    assert.deepEqual([c.ltv, c.purchases_count, c.average_check, c.next_price, c.next_date], [200000, 2, 100000, 200000, 1800000000]);
    r = await env.api.del(`/api/v4/customers/transactions/${t.id}`);
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    c = (await env.api.get('/api/v4/customers/60000001')).body;
    assert.deepEqual([c.ltv, c.purchases_count], [180000, 1]);
    assert.equal((await env.api.get(`/api/v4/customers/transactions/${t.id}`)).status, 204);
    assert.equal((await env.api.del(`/api/v4/customers/transactions/${t.id}`)).status, 404);
    assert.equal((await env.api.del(`/api/v4/customers/60000002/transactions/${txs[0].id}`)).status, 404, 'not this customer\'s');
    assert.equal((await env.api.post('/api/v4/customers/1/transactions', [{ price: 1 }])).status, 404);
  });

  test('statuses (periodicity), segments (segments mode → 422 otherwise), PATCH /customers/mode', async () => {
    let r = await env.api.get('/api/v4/customers/statuses');
    assert.equal(r.status, 200);
    const statuses = list(r, 'statuses');
    assert.deepEqual(statuses.map((s) => [s.id, s.type, s.is_default]), [[62000001, 0, true], [62000002, 4, false], [62000003, 1, false], [62000004, 2, false], [62000005, 3, false]]);
    assert.deepEqual(Object.keys(statuses[0]), ['id', 'name', 'sort', 'is_default', 'color', 'type', 'conditions', 'account_id', '_links']);
    assert.equal((await env.api.get('/api/v4/customers/statuses/62000002')).body.name, 'Bought recently');
    assert.equal((await env.api.get('/api/v4/customers/segments')).status, 422);
    r = await env.api.patch('/api/v4/customers/mode', { mode: 'segments', is_enabled: true });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { mode: 'segments', is_enabled: true });
    assert.equal((await env.api.get('/api/v4/account')).body.customers_mode, 'segments');
    r = await env.api.get('/api/v4/customers/segments');
    assert.equal(r.status, 200);
    assert.deepEqual(list(r, 'segments').map((s) => [s.id, s.name, s.color]), [[401, 'Wholesale', '10599d'], [402, 'Retail', 'ff8f92']]);
    assert.ok(list(r, 'segments')[0].customers_count >= 1);
    assert.equal((await env.api.get('/api/v4/customers/segments/402')).body.name, 'Retail');
    assert.equal((await env.api.get('/api/v4/customers/statuses')).status, 422);
    assert.equal((await env.api.post('/api/v4/customers', [{ name: 'No date needed in segments mode' }])).status, 200);
    assert.equal((await env.api.patch('/api/v4/customers/mode', { mode: 'dynamic', is_enabled: true })).status, 400);
    r = await env.api.patch('/api/v4/customers/mode', { mode: 'periodicity', is_enabled: true });
    assert.equal((await env.api.get('/api/v4/customers/statuses')).status, 200);
  });

  test('disabled → 422 on every customers route (PATCH mode still works); unavailable → 402', async () => {
    await env.admin('POST', '/_admin/customers-mode', { mode: 'disabled' });
    for (const path of ['/api/v4/customers', '/api/v4/customers/60000001', '/api/v4/customers/transactions', '/api/v4/customers/custom_fields', '/api/v4/customers/60000001/links', '/api/v4/customers/notes', '/api/v4/customers/tags']) {
      const r = await env.api.get(path);
      assert.equal(r.status, 422, path);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
    }
    assert.equal((await env.api.post('/api/v4/customers', [{ name: 'x', next_date: 1 }])).status, 422);
    assert.equal((await env.api.get('/api/v4/account')).body.customers_mode, 'disabled');
    assert.equal((await env.api.patch('/api/v4/customers/mode', { mode: 'periodicity', is_enabled: true })).status, 200);
    assert.equal((await env.api.get('/api/v4/customers')).status, 200);
    assert.deepEqual(await env.admin('POST', '/_admin/customers-mode', { mode: 'unavailable' }), { customers_mode: 'unavailable' });
    let r = await env.api.get('/api/v4/customers');
    assert.equal(r.status, 402);
    assert.equal(r.body.title, 'Payment Required');
    assert.equal((await env.api.patch('/api/v4/customers/mode', { mode: 'periodicity', is_enabled: true })).status, 402);
    r = await env.api.patch('/api/v4/customers/mode', { mode: 'periodicity', is_enabled: 'yes' });
    assert.equal(r.status, 402);
    await env.admin('POST', '/_admin/customers-mode', { mode: 'periodicity' });
    await assert.rejects(env.admin('POST', '/_admin/customers-mode', { mode: 'sometimes' }));
    assert.equal((await env.api.get('/api/v4/customers')).status, 200);
  });
});
