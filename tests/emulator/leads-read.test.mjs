import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './helpers.mjs';

const LEAD_KEYS = [
  'id', 'name', 'price', 'responsible_user_id', 'group_id', 'status_id', 'pipeline_id', 'loss_reason_id', 'created_by',
  'updated_by', 'created_at', 'updated_at', 'closed_at', 'closest_task_at', 'is_deleted', 'custom_fields_values', 'score',
  'account_id', 'labor_cost', '_links', '_embedded',
];

describe('GET /api/v4/leads on known data', () => {
  let env;
  let ids;
  before(async () => {
    env = await setup({ seed: 'base' });
    const { api } = env;
    const contact = (await api.post('/api/v4/contacts', [{ name: 'Иван Петров' }])).body._embedded.contacts[0].id;
    const company = (await api.post('/api/v4/companies', [{ name: 'ООО «Ромашка»' }])).body._embedded.companies[0].id;
    const res = await api.post('/api/v4/leads', [
      { name: 'Alpha supply', price: 1000, status_id: 61000002, responsible_user_id: 8000002, created_at: 1700000000, updated_at: 1700000500,
        custom_fields_values: [{ field_id: 900001, values: [{ value: 'Сайт' }] }, { field_id: 900002, values: [{ value: 5000 }] }, { field_id: 900012, values: [{ value: 'Москва' }] }],
        _embedded: { tags: [{ name: 'VIP' }] } },
      { name: 'Beta рекомендация', price: 5000, pipeline_id: 7000002, status_id: 61000012, responsible_user_id: 8000003, created_at: 1700001000, updated_at: 1700001000,
        custom_fields_values: [{ field_id: 900004, values: [{ value: 'Консалтинг' }, { value: 'Внедрение' }] }, { field_id: 900005, values: [{ value: 1700000000 }] }] },
      { name: 'Gamma', price: 20000, status_id: 142, created_at: 1700002000, updated_at: 1700002000, closed_at: 1700002000 },
      { name: 'Delta lost', price: 300, status_id: 143, loss_reason_id: 3000001, created_at: 1700003000, updated_at: 1700003000, closed_at: 1700003000, created_by: 8000004 },
      { name: 'Epsilon', price: 0, created_at: 1700004000, updated_at: 1700004000, _embedded: { contacts: [{ id: contact, is_main: true }], companies: [{ id: company }], source: { external_id: 'site-form-1' } } },
    ]);
    assert.equal(res.status, 200, res.text);
    ids = res.body._embedded.leads.map((l) => l.id);
  });
  after(() => env.close());

  const list = (qs) => env.api.get(`/api/v4/leads${qs ? `?${qs}` : ''}`);
  const names = (r) => (r.status === 204 ? [] : r.body._embedded.leads.map((l) => l.name));

  test('list shape: HAL, _page, absolute links, no total count, real lead keys', async () => {
    const r = await list('');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/hal+json');
    assert.deepEqual(Object.keys(r.body), ['_page', '_links', '_embedded']);
    assert.equal(r.body._page, 1);
    assert.ok(r.body._links.self.href.startsWith(`${env.emu.url}/api/v4/leads?`));
    assert.equal(r.body._links.next, undefined); // 5 < 50: page not full
    const lead = r.body._embedded.leads[0];
    assert.deepEqual(Object.keys(lead), LEAD_KEYS);
    assert.equal(lead.account_id, 31000001);
    assert.equal(lead._links.self.href, `${env.emu.url}/api/v4/leads/${lead.id}`);
    assert.deepEqual(lead._embedded.tags, [{ id: lead._embedded.tags[0].id, name: 'VIP', color: null }]);
    assert.deepEqual(lead._embedded.companies, []);
    assert.deepEqual(lead.custom_fields_values[0], {
      field_id: 900001, field_name: 'Источник', field_code: null, field_type: 'select',
      values: [{ value: 'Сайт', enum_id: lead.custom_fields_values[0].values[0].enum_id, enum_code: null }],
    });
    assert.equal(lead.custom_fields_values[1].values[0].value, '5000'); // numeric values read back as strings
  });

  test('empty result → 204 with empty body and no content-type', async () => {
    const r = await list('filter[id]=1');
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    assert.equal(r.headers.get('content-type'), null);
    assert.ok(r.headers.get('x-request-id'));
  });

  test('paging: next whenever the page is full, so the last full page leads to a 204', async () => {
    let r = await list('limit=2');
    assert.deepEqual(names(r), ['Alpha supply', 'Beta рекомендация']);
    assert.ok(r.body._links.next.href.includes('page=2'));
    r = await env.api.get(r.body._links.next.href.slice(env.emu.url.length));
    assert.deepEqual(names(r), ['Gamma', 'Delta lost']);
    assert.ok(r.body._links.prev.href.includes('page=1'));
    assert.ok(r.body._links.first);
    r = await list('limit=2&page=3');
    assert.deepEqual(names(r), ['Epsilon']);
    assert.equal(r.body._links.next, undefined);
    r = await list('limit=5');
    assert.equal(r.body._embedded.leads.length, 5);
    const next = r.body._links.next.href;
    assert.equal((await env.api.get(next.slice(env.emu.url.length))).status, 204);
  });

  test('limit above 250, zero or garbage → 400 problem+json', async () => {
    for (const qs of ['limit=251', 'limit=0', 'limit=abc', 'page=0']) {
      const r = await list(qs);
      assert.equal(r.status, 400, qs);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.equal(r.body.status, 400);
      assert.ok(Array.isArray(r.body['validation-errors']));
    }
    assert.equal((await list('limit=250')).status, 200);
  });

  test('filter[id] scalar, indexed array and [] append', async () => {
    assert.deepEqual(names(await list(`filter[id]=${ids[2]}`)), ['Gamma']);
    assert.deepEqual(names(await list(`filter[id][0]=${ids[0]}&filter[id][1]=${ids[3]}`)), ['Alpha supply', 'Delta lost']);
    assert.deepEqual(names(await list(`filter[id][]=${ids[1]}&filter[id][]=${ids[4]}`)), ['Beta рекомендация', 'Epsilon']);
    assert.equal((await list('filter[id]=abc')).status, 400);
  });

  test('filter[name] (exact, case-insensitive) and filter[name][0]', async () => {
    assert.deepEqual(names(await list('filter[name]=gamma')), ['Gamma']);
    assert.deepEqual(names(await list(`filter[name][0]=Gamma&filter[name][1]=${encodeURIComponent('Delta lost')}`)), ['Gamma', 'Delta lost']);
    assert.equal((await list('filter[name]=Gam')).status, 204);
  });

  test('filter[price] exact and from/to', async () => {
    assert.deepEqual(names(await list('filter[price]=5000')), ['Beta рекомендация']);
    assert.deepEqual(names(await list('filter[price][from]=1000&filter[price][to]=20000')), ['Alpha supply', 'Beta рекомендация', 'Gamma']);
    assert.deepEqual(names(await list('filter[price][to]=300')), ['Delta lost', 'Epsilon']);
  });

  test('filter[pipeline_id], filter[statuses][i][pipeline_id|status_id]', async () => {
    assert.deepEqual(names(await list('filter[pipeline_id]=7000002')), ['Beta рекомендация']);
    assert.deepEqual(names(await list('filter[statuses][0][pipeline_id]=7000001&filter[statuses][0][status_id]=142&filter[statuses][1][pipeline_id]=7000002&filter[statuses][1][status_id]=61000012')),
      ['Beta рекомендация', 'Gamma']);
    assert.equal((await list('filter[statuses][0][pipeline_id]=7000002&filter[statuses][0][status_id]=142')).status, 204);
  });

  test('filter[responsible_user_id] scalar/array, created_by, updated_by', async () => {
    assert.deepEqual(names(await list('filter[responsible_user_id]=8000002')), ['Alpha supply']);
    assert.deepEqual(names(await list('filter[responsible_user_id][0]=8000002&filter[responsible_user_id][1]=8000003')), ['Alpha supply', 'Beta рекомендация']);
    assert.deepEqual(names(await list('filter[created_by]=8000004')), ['Delta lost']);
    assert.equal(names(await list('filter[updated_by]=8000001')).length, 5);
  });

  test('filter[created_at|updated_at|closed_at] ranges and filter[closest_task_at]', async () => {
    assert.deepEqual(names(await list('filter[created_at][from]=1700001000&filter[created_at][to]=1700002000')), ['Beta рекомендация', 'Gamma']);
    assert.deepEqual(names(await list('filter[updated_at][from]=1700000400&filter[updated_at][to]=1700000600')), ['Alpha supply']);
    assert.deepEqual(names(await list('filter[closed_at][from]=1')), ['Gamma', 'Delta lost']);
    assert.equal((await list('filter[closest_task_at][from]=1')).status, 204);
  });

  test('filter[custom_fields_values][ID] by value, enum id and from/to', async () => {
    assert.deepEqual(names(await list(`filter[custom_fields_values][900001][0]=${encodeURIComponent('Сайт')}`)), ['Alpha supply']);
    const enumId = env.emu.state.data.customFields.leads.get(900004).enums.find((e) => e.value === 'Внедрение').id;
    assert.deepEqual(names(await list(`filter[custom_fields_values][900004][0]=${enumId}`)), ['Beta рекомендация']);
    assert.deepEqual(names(await list('filter[custom_fields_values][900002][from]=1000&filter[custom_fields_values][900002][to]=6000')), ['Alpha supply']);
    assert.equal((await list('filter[custom_fields_values][900002][from]=6000')).status, 204);
    assert.deepEqual(names(await list('filter[custom_fields_values][900005][from]=1699999999&filter[custom_fields_values][900005][to]=1700000001')), ['Beta рекомендация']);
  });

  test('query: substring of name, of field values, and numeric id', async () => {
    assert.deepEqual(names(await list('query=supply')), ['Alpha supply']);
    assert.deepEqual(names(await list(`query=${encodeURIComponent('москва')}`)), ['Alpha supply']);
    assert.deepEqual(names(await list(`query=${encodeURIComponent('рекомендация')}`)), ['Beta рекомендация']);
    assert.deepEqual(names(await list(`query=${ids[2]}`)), ['Gamma']);
    assert.equal((await list('query=nothing-like-this')).status, 204);
  });

  test('order[id|created_at|updated_at]=asc|desc', async () => {
    assert.deepEqual(names(await list('order[id]=desc')), ['Epsilon', 'Delta lost', 'Gamma', 'Beta рекомендация', 'Alpha supply']);
    assert.deepEqual(names(await list('order[created_at]=asc&limit=2')), ['Alpha supply', 'Beta рекомендация']);
    assert.deepEqual(names(await list('order[updated_at]=desc&limit=1')), ['Epsilon']);
  });

  test('with=contacts,loss_reason,catalog_elements,source_id,is_price_modified_by_robot', async () => {
    await env.api.post(`/api/v4/leads/${ids[4]}/link`, [{ to_entity_id: 600001, to_entity_type: 'catalog_elements', metadata: { quantity: 2, catalog_id: 5001 } }]);
    const r = await list(`filter[id][0]=${ids[3]}&filter[id][1]=${ids[4]}&with=contacts,loss_reason,catalog_elements,source_id,is_price_modified_by_robot`);
    const [delta, eps] = r.body._embedded.leads;
    assert.equal(delta.loss_reason_id, 3000001);
    assert.ok(Array.isArray(delta._embedded.loss_reason));
    assert.equal(delta._embedded.loss_reason[0].id, 3000001);
    assert.equal(delta._embedded.loss_reason[0].name, 'Дорого');
    assert.deepEqual(eps._embedded.loss_reason, []);
    assert.equal(eps._embedded.contacts.length, 1);
    assert.equal(eps._embedded.contacts[0].is_main, true);
    assert.ok(eps._embedded.contacts[0]._links.self.href.includes('/api/v4/contacts/'));
    assert.equal(eps._embedded.companies.length, 1);
    assert.deepEqual(eps._embedded.catalog_elements, [{ id: 600001, metadata: { quantity: 2, catalog_id: 5001 } }]);
    assert.equal(typeof eps.source_id, 'number');
    assert.equal(eps.is_price_modified_by_robot, false);
    const plain = (await list(`filter[id]=${ids[4]}`)).body._embedded.leads[0];
    assert.equal('contacts' in plain._embedded, false);
    assert.equal('source_id' in plain, false);
  });

  test('GET /api/v4/leads/{id}: the lead, with=contacts, unknown id → 204', async () => {
    const r = await env.api.get(`/api/v4/leads/${ids[0]}?with=contacts`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/hal+json');
    assert.equal(r.body.name, 'Alpha supply');
    assert.deepEqual(r.body._embedded.contacts, []);
    const missing = await env.api.get('/api/v4/leads/99999999?with=contacts');
    assert.equal(missing.status, 204);
    assert.equal(missing.text, '');
  });

  test('deleted leads only appear with with=only_deleted, as mostly-null models', async () => {
    await env.admin('POST', `/_admin/leads/${ids[3]}/delete`, {});
    try {
      assert.equal(names(await list('')).includes('Delta lost'), false);
      assert.equal((await env.api.get(`/api/v4/leads/${ids[3]}`)).status, 204);
      const r = await list('with=only_deleted');
      assert.equal(r.body._embedded.leads.length, 1);
      const d = r.body._embedded.leads[0];
      assert.equal(d.id, ids[3]);
      assert.equal(d.is_deleted, true);
      assert.equal(d.name, null);
      assert.equal(d.status_id, null);
      const one = await env.api.get(`/api/v4/leads/${ids[3]}?with=only_deleted`);
      assert.equal(one.status, 200);
      assert.equal(one.body.is_deleted, true);
    } finally {
      await env.admin('POST', `/_admin/leads/${ids[3]}/restore`, {});
    }
    assert.equal(names(await list('')).includes('Delta lost'), true);
  });
});

describe('GET /api/v4/leads on generated data', () => {
  let env;
  before(async () => { env = await setup({ seed: { leads: 120 } }); });
  after(() => env.close());

  test('default limit is 50; following next links walks every lead exactly once and ends in a 204', async () => {
    let path = '/api/v4/leads';
    const seen = new Set();
    let pages = 0;
    for (;;) {
      const r = await env.api.get(path);
      if (r.status === 204) break;
      pages++;
      assert.ok(r.body._embedded.leads.length <= 50);
      for (const l of r.body._embedded.leads) { assert.equal(seen.has(l.id), false); seen.add(l.id); }
      if (!r.body._links.next) break;
      path = r.body._links.next.href.slice(env.emu.url.length);
    }
    assert.equal(seen.size, 120);
    assert.equal(pages, 3);
  });

  test('limit=250 on 120 leads and limit=40 (exact multiple) → last page next → 204', async () => {
    assert.equal((await env.api.get('/api/v4/leads?limit=250')).body._embedded.leads.length, 120);
    const p3 = await env.api.get('/api/v4/leads?limit=40&page=3');
    assert.equal(p3.body._embedded.leads.length, 40);
    assert.equal((await env.api.get(p3.body._links.next.href.slice(env.emu.url.length))).status, 204);
  });
});
