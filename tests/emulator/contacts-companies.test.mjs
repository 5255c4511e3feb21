import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setup, client } from './helpers.mjs';

const CONTACT_KEYS = [
  'id', 'name', 'first_name', 'last_name', 'responsible_user_id', 'group_id', 'created_by', 'updated_by', 'created_at',
  'updated_at', 'closest_task_at', 'is_deleted', 'is_unsorted', 'custom_fields_values', 'account_id', '_links', '_embedded',
];
const COMPANY_KEYS = [
  'id', 'name', 'responsible_user_id', 'group_id', 'created_by', 'updated_by', 'created_at', 'updated_at',
  'closest_task_at', 'is_deleted', 'custom_fields_values', 'account_id', '_links', '_embedded',
];
const ids = (r, key) => (r.status === 204 ? [] : r.body._embedded[key].map((x) => x.id));
const field = (rec, code) => rec.custom_fields_values?.find((f) => f.field_code === code);

describe('contacts and companies: seed, list, get, filters, paging', () => {
  let env;
  before(async () => { env = await setup({ seed: 'base' }); });
  after(() => env.close());

  test('base seed: six contacts, three companies; real shapes; PHONE/EMAIL read back with enum_id + enum_code, no enum', async () => {
    const r = await env.api.get('/api/v4/contacts');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/hal+json');
    assert.deepEqual(Object.keys(r.body), ['_page', '_links', '_embedded']);
    const list = r.body._embedded.contacts;
    assert.deepEqual(list.map((c) => c.id), [39000001, 39000002, 39000003, 39000004, 39000005, 39000006]);
    assert.deepEqual(Object.keys(list[0]), CONTACT_KEYS);
    assert.equal(list[0].name, 'John Smith');
    assert.deepEqual(list[0]._embedded.companies.map((c) => c.id), [49000001]);
    assert.equal(list[0]._embedded.tags[0].name, 'Клиент');
    const phones = field(list[1], 'PHONE').values;
    assert.deepEqual(phones.map((v) => [v.value, v.enum_code]), [['89001112233', 'WORK'], ['+1 212 555 0199', 'HOME']]);
    for (const v of phones) {
      assert.deepEqual(Object.keys(v), ['value', 'enum_id', 'enum_code']);
      assert.equal(typeof v.enum_id, 'number');
    }
    const companies = await env.api.get('/api/v4/companies');
    assert.deepEqual(companies.body._embedded.companies.map((c) => c.name), ['Acme Corp', 'Globex LLC', 'Initech']);
    assert.deepEqual(Object.keys(companies.body._embedded.companies[0]), COMPANY_KEYS);
    assert.equal(field(companies.body._embedded.companies[0], 'WEB').values[0].value, 'https://acme-corp.example');
  });

  test('paging: limit, next on a full page, 204 after the last one; limit > 250 → 400', async () => {
    let r = await env.api.get('/api/v4/contacts?limit=3');
    assert.equal(r.body._embedded.contacts.length, 3);
    assert.ok(r.body._links.next.href.includes('page=2'));
    r = await env.api.get('/api/v4/contacts?limit=3&page=2');
    assert.deepEqual(ids(r, 'contacts'), [39000004, 39000005, 39000006]);
    assert.ok(r.body._links.next, 'a full last page still has next');
    assert.ok(r.body._links.prev);
    r = await env.api.get('/api/v4/contacts?limit=3&page=3');
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    assert.equal((await env.api.get('/api/v4/companies?limit=251')).status, 400);
  });

  test('filters: id, name, responsible_user_id, created_at range, custom field by id; order[id]=desc', async () => {
    assert.deepEqual(ids(await env.api.get('/api/v4/contacts?filter[id][]=39000002&filter[id][]=39000005'), 'contacts'), [39000002, 39000005]);
    assert.deepEqual(ids(await env.api.get('/api/v4/contacts?filter[name]=john%20smith'), 'contacts'), [39000001]);
    assert.deepEqual(ids(await env.api.get('/api/v4/contacts?filter[responsible_user_id]=8000002'), 'contacts'), [39000002, 39000005]);
    const from = 1704067200 + 2 * 86400;
    assert.deepEqual(ids(await env.api.get(`/api/v4/contacts?filter[created_at][from]=${from}&filter[created_at][to]=${from + 86400 * 2}`), 'contacts'), [39000003, 39000004]);
    assert.deepEqual(ids(await env.api.get('/api/v4/contacts?filter[custom_fields_values][900101]=CEO'), 'contacts'), [39000001]);
    assert.deepEqual(ids(await env.api.get('/api/v4/contacts?order[id]=desc&limit=2'), 'contacts'), [39000006, 39000005]);
    assert.deepEqual(ids(await env.api.get('/api/v4/companies?filter[closest_task_at][from]=1'), 'companies'), [49000001]);
    assert.equal((await env.api.get('/api/v4/contacts?filter[id]=abc')).status, 400);
    assert.equal((await env.api.get('/api/v4/contacts?filter[id]=1')).status, 204);
  });

  test('GET by id with=leads,customers,catalog_elements; companies with=contacts; unknown → 204', async () => {
    let r = await env.api.get('/api/v4/contacts/39000001?with=leads,customers,catalog_elements');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body._embedded.leads, []);
    assert.deepEqual(r.body._embedded.customers.map((c) => c.id), [60000001]);
    assert.deepEqual(r.body._embedded.catalog_elements, []);
    r = await env.api.get('/api/v4/contacts/39000001');
    assert.equal('leads' in r.body._embedded, false);
    r = await env.api.get('/api/v4/companies/49000001?with=contacts,leads,customers');
    assert.deepEqual(r.body._embedded.contacts.map((c) => c.id), [39000001, 39000003]);
    assert.deepEqual(r.body._embedded.customers.map((c) => c.id), [60000001]);
    assert.equal((await env.api.get('/api/v4/contacts/1')).status, 204);
    assert.equal((await env.api.get('/api/v4/companies/1')).status, 204);
  });
});

describe('query: substring search like amoCRM', () => {
  let env;
  let noteHolder;
  let namedAfter;
  before(async () => {
    env = await setup({ seed: 'base' });
    const r = await env.api.post('/api/v4/contacts', [
      { name: 'Callback 9001234567 (from the website)' }, // the number is only in this contact's name
      { name: 'Ivan Note' },
    ]);
    [namedAfter, noteHolder] = ids(r, 'contacts');
    await env.api.post(`/api/v4/contacts/${noteHolder}/notes`, [{ note_type: 'common', params: { text: 'Asked us to call +79001234567 instead' } }]);
  });
  after(() => env.close());

  const q = async (entity, query) => ids(await env.api.get(`/api/v4/${entity}?query=${encodeURIComponent(query)}`), entity);

  test('digits find a phone in any format; the same digits in a name or a note find those records (false positives)', async () => {
    // 39000001 John Smith: +7 (900) 123-45-67; 39000004 Sarah Taylor: a seeded note with 79001234567
    assert.deepEqual(await q('contacts', '9001234567'), [39000001, 39000004, namedAfter, noteHolder]);
    assert.deepEqual(await q('contacts', '+79001234567'), [noteHolder], 'non-digit queries are plain substrings');
    assert.deepEqual(await q('contacts', '123-45-67'), [39000001]);
    assert.deepEqual(await q('contacts', '89001112233'), [39000002]);
    assert.deepEqual(await q('contacts', '2125550199'), [39000002]);
    assert.deepEqual(await q('companies', '88005553535'), [49000002]);
    assert.deepEqual(await q('companies', '4951234567'), [49000001]);
  });

  test('e-mails, names, first/last names and other text fields, case-insensitive; no match → 204', async () => {
    assert.deepEqual(await q('contacts', 'john.smith@example.com'), [39000001]);
    assert.deepEqual(await q('contacts', 'EMILY.J@gmail.com'), [39000002]);
    assert.deepEqual(await q('contacts', 'acme-corp.com'), [39000003]);
    assert.deepEqual(await q('contacts', 'purchasing'), [39000003]);
    assert.deepEqual(await q('contacts', 'TAYLOR'), [39000004]);
    assert.deepEqual(await q('companies', 'info@globex'), [49000002]);
    assert.deepEqual(await q('companies', 'springfield'), [49000001]);
    assert.deepEqual(await q('companies', 'framework agreement'), [49000001], 'company notes are searched');
    assert.equal((await env.api.get('/api/v4/contacts?query=nobody-like-this')).status, 204);
    assert.deepEqual(await q('contacts', '39000005'), [39000005], 'a number is also an id');
  });

  test('query combines with filters', async () => {
    assert.deepEqual(ids(await env.api.get('/api/v4/contacts?query=9001234567&filter[id]=39000004'), 'contacts'), [39000004]);
  });
});

describe('contacts and companies: create and update', () => {
  let env;
  before(async () => { env = await setup({ seed: 'base' }); });
  after(() => env.close());

  test('POST: name derived from first/last name; phones by enum_code or enum_id; tags; reply shape', async () => {
    const fields = (await env.api.get('/api/v4/contacts/custom_fields')).body._embedded.custom_fields;
    const phone = fields.find((f) => f.code === 'PHONE');
    const home = phone.enums.find((e) => e.value === 'HOME');
    const r = await env.api.post('/api/v4/contacts', [
      {
        first_name: 'Nora', last_name: 'Quinn', request_id: 'nq', tags_to_add: [{ name: 'Lead magnet' }],
        custom_fields_values: [
          { field_code: 'PHONE', values: [{ value: '+7 916 000-00-01', enum_code: 'mob' }, { value: '8 (495) 000-00-02', enum_id: home.id }, { value: '+7 916 000-00-03', enum_id: null, enum_code: 'WORKDD' }] },
          { field_code: 'EMAIL', values: [{ value: 'Nora.Quinn@Example.com', enum_code: 'PRIV' }] },
        ],
      },
      { name: 'Only Name', _embedded: { tags: [{ name: 'Клиент' }] } },
    ]);
    assert.equal(r.status, 200, r.text);
    const [a, b] = r.body._embedded.contacts;
    assert.deepEqual(Object.keys(a), ['id', 'request_id', '_links']);
    assert.equal(a.request_id, 'nq');
    assert.equal(b.request_id, '1');
    const got = (await env.api.get(`/api/v4/contacts/${a.id}`)).body;
    assert.equal(got.name, 'Nora Quinn');
    assert.deepEqual(field(got, 'PHONE').values.map((v) => [v.value, v.enum_code, v.enum_id === phone.enums.find((e) => e.value === v.enum_code).id]), [
      ['+7 916 000-00-01', 'MOB', true], ['8 (495) 000-00-02', 'HOME', true], ['+7 916 000-00-03', 'WORKDD', true],
    ]);
    assert.deepEqual(field(got, 'EMAIL').values.map((v) => v.enum_code), ['PRIV']);
    assert.deepEqual(got._embedded.tags.map((t) => t.name), ['Lead magnet']);
    assert.equal((await env.api.get(`/api/v4/contacts/${b.id}`)).body._embedded.tags[0].name, 'Клиент');
    const company = await env.api.post('/api/v4/companies', [{ name: 'Umbrella LLC', custom_fields_values: [{ field_code: 'WEB', values: [{ value: 'https://umbrella.example' }] }] }]);
    assert.equal(company.status, 200);
    assert.equal(company.body._embedded.companies[0].request_id, '0');
  });

  test('atomic batch: one invalid item → 400 naming its request_id, nothing written', async () => {
    const before = env.emu.state.data.contacts.size;
    const r = await env.api.post('/api/v4/contacts', [
      { name: 'Fine' },
      { name: 'Bad phone enum', request_id: 'bad', custom_fields_values: [{ field_code: 'PHONE', values: [{ value: '1', enum_code: 'PAGER' }] }] },
      { name: 'Sent enum', custom_fields_values: [{ field_code: 'EMAIL', values: [{ value: 'a@b.c', enum: 'WORK' }] }] },
      { responsible_user_id: 1 },
    ]);
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.equal(r.body.detail, 'Request validation failed');
    assert.deepEqual(r.body['validation-errors'].map((e) => [e.request_id, e.errors[0].code, e.errors[0].path]), [
      ['bad', 'NotSupportedChoice', 'custom_fields_values.0.values.0.enum_code'],
      ['2', 'FieldNotExpected', 'custom_fields_values.0.values.0.enum'], // php#4
      ['3', 'NotSupportedChoice', 'responsible_user_id'],
    ]);
    assert.equal(env.emu.state.data.contacts.size, before);
    const c = await env.api.post('/api/v4/companies', [{ name: 'ok' }, { name: 5 }]);
    assert.equal(c.status, 400);
    assert.deepEqual(c.body['validation-errors'][0].errors[0], { code: 'InvalidType', path: 'name', detail: 'This value should be of type string.' });
    assert.equal((await env.api.post('/api/v4/contacts', [])).status, 400);
    assert.equal((await env.api.post('/api/v4/contacts', { name: 'object' })).status, 400);
  });

  test('PATCH batch: custom field values sent replace all values of that field; other fields stay; null clears', async () => {
    const id = ids(await env.api.post('/api/v4/contacts', [{
      name: 'Patch Me', custom_fields_values: [
        { field_code: 'PHONE', values: [{ value: '+70000000001' }, { value: '+70000000002' }] },
        { field_code: 'EMAIL', values: [{ value: 'patch@me.example' }] },
        { field_code: 'POSITION', values: [{ value: 'Intern' }] },
      ],
    }]), 'contacts')[0];
    let r = await env.api.patch('/api/v4/contacts', [{ id, request_id: 'p1', custom_fields_values: [{ field_code: 'PHONE', values: [{ value: '+70000000003', enum_code: 'FAX' }] }, { field_code: 'POSITION', values: null }] }]);
    assert.equal(r.status, 200, r.text);
    const entry = r.body._embedded.contacts[0];
    assert.deepEqual(Object.keys(entry), ['id', 'name', 'updated_at', 'request_id', '_links']);
    assert.equal(entry.name, 'Patch Me');
    assert.equal(entry.request_id, 'p1');
    const got = (await env.api.get(`/api/v4/contacts/${id}`)).body;
    assert.deepEqual(field(got, 'PHONE').values.map((v) => [v.value, v.enum_code]), [['+70000000003', 'FAX']]);
    assert.deepEqual(field(got, 'EMAIL').values.map((v) => v.value), ['patch@me.example'], 'fields not sent stay');
    assert.equal(field(got, 'POSITION'), undefined, '"values": null clears');
    r = await env.api.patch('/api/v4/contacts', [{ id, custom_fields_values: [{ field_code: 'PHONE', values: [] }] }]);
    assert.equal(field((await env.api.get(`/api/v4/contacts/${id}`)).body, 'PHONE'), undefined, 'an empty list clears too');
  });

  test('PATCH /{id} (object) → entry with request_id; first/last name update the name; unknown id → 404, unknown in batch → 400', async () => {
    let r = await env.api.patch('/api/v4/contacts/39000005', { first_name: 'Laura-Jane' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { id: 39000005, name: 'Laura-Jane Davies', updated_at: r.body.updated_at, request_id: '0', _links: r.body._links });
    r = await env.api.patch('/api/v4/contacts/39000005', { name: 'L. J. Davies', last_name: 'Davies-Smith' });
    assert.equal(r.body.name, 'L. J. Davies');
    assert.equal((await env.api.get('/api/v4/contacts/39000005')).body.last_name, 'Davies-Smith');
    r = await env.api.patch('/api/v4/companies/49000003', { name: 'Initech Inc.', responsible_user_id: 8000004 });
    assert.deepEqual(Object.keys(r.body), ['id', 'updated_at', 'request_id', '_links']);
    const company = (await env.api.get('/api/v4/companies/49000003')).body;
    assert.equal(company.name, 'Initech Inc.');
    assert.equal(company.group_id, 351001);
    assert.equal((await env.api.patch('/api/v4/contacts/1', { name: 'x' })).status, 404);
    r = await env.api.patch('/api/v4/companies', [{ id: 49000002, name: 'ok' }, { id: 1, name: 'x' }, { name: 'no id' }]);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body['validation-errors'].map((e) => [e.request_id, e.errors[0].code]), [['1', 'NotFound'], ['2', 'FieldMissing']]);
    assert.equal((await env.api.get('/api/v4/companies/49000002')).body.name, 'Globex LLC', 'atomic');
    assert.equal((await env.api.patch('/api/v4/contacts/39000005', [{ name: 'array' }])).status, 400);
  });

  test('tags: tags_to_add / tags_to_delete increment, _embedded.tags replaces, _embedded.tags: null detaches all', async () => {
    const tags = async () => (await env.api.get('/api/v4/contacts/39000002')).body._embedded.tags.map((t) => t.name);
    await env.api.patch('/api/v4/contacts/39000002', { tags_to_add: [{ name: 'A' }, { name: 'B' }] });
    assert.deepEqual(await tags(), ['A', 'B']);
    await env.api.patch('/api/v4/contacts/39000002', { tags_to_add: [{ name: 'C' }], tags_to_delete: [{ name: 'a' }] });
    assert.deepEqual(await tags(), ['B', 'C']);
    await env.api.patch('/api/v4/contacts/39000002', { _embedded: { tags: [{ name: 'Only' }] } });
    assert.deepEqual(await tags(), ['Only']);
    await env.api.patch('/api/v4/contacts/39000002', { _embedded: { tags: null } });
    assert.deepEqual(await tags(), []);
    const listed = await env.api.get('/api/v4/contacts/tags?query=only');
    assert.deepEqual(listed.body._embedded.tags.map((t) => t.name), ['Only']);
    const created = await env.api.post('/api/v4/companies/tags', [{ name: 'Partner' }, { name: 'key ACCOUNT' }]);
    assert.equal(created.status, 200);
    assert.equal(created.body._embedded.tags[1].name, 'Key account', 'an existing name returns the existing tag');
    assert.equal((await env.api.patch('/api/v4/contacts/39000002', { tags_to_delete: [{ id: 999 }] })).status, 400);
  });
});

describe('links of contacts and companies', () => {
  let env;
  let lead;
  before(async () => {
    env = await setup({ seed: 'base' });
    lead = ids(await env.api.post('/api/v4/leads', [{ name: 'Deal with Emily' }]), 'leads')[0];
  });
  after(() => env.close());

  test('a contact linked to a lead shows up in the lead\'s links and vice versa', async () => {
    let r = await env.api.post('/api/v4/contacts/39000002/link', [{ to_entity_id: lead, to_entity_type: 'leads' }]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body._embedded.links, [{ entity_id: 39000002, entity_type: 'contacts', to_entity_id: lead, to_entity_type: 'leads', metadata: { main_contact: true } }]);
    r = await env.api.get(`/api/v4/leads/${lead}/links`);
    assert.deepEqual(r.body._embedded.links, [{ to_entity_id: 39000002, to_entity_type: 'contacts', metadata: { main_contact: true } }]);
    await env.api.post(`/api/v4/leads/${lead}/link`, [{ to_entity_id: 39000004, to_entity_type: 'contacts', metadata: { is_main: true } }]);
    r = await env.api.get('/api/v4/contacts/39000002/links?filter[to_entity_type]=leads');
    assert.deepEqual(r.body._embedded.links, [{ to_entity_id: lead, to_entity_type: 'leads', metadata: { main_contact: false } }]);
    assert.deepEqual(ids(await env.api.get('/api/v4/contacts/39000004?with=leads'), 'leads'), [lead]);
    assert.deepEqual((await env.api.get(`/api/v4/leads/${lead}?with=contacts`)).body._embedded.contacts.map((c) => [c.id, c.is_main]), [[39000002, false], [39000004, true]]);
  });

  test('a contact has at most one company: linking a second replaces the first (from either side)', async () => {
    let r = await env.api.post('/api/v4/contacts/39000002/link', [{ to_entity_id: 49000001, to_entity_type: 'companies' }]);
    assert.equal(r.body._embedded.links[0].metadata, null);
    r = await env.api.post('/api/v4/contacts/39000002/link', [{ to_entity_id: 49000003, to_entity_type: 'companies' }]);
    assert.deepEqual((await env.api.get('/api/v4/contacts/39000002')).body._embedded.companies.map((c) => c.id), [49000003]);
    assert.deepEqual(ids(await env.api.get('/api/v4/companies/49000001?with=contacts'), 'contacts'), [39000001, 39000003]);
    await env.api.post('/api/v4/companies/49000002/link', [{ to_entity_id: 39000002, to_entity_type: 'contacts' }]);
    assert.deepEqual((await env.api.get('/api/v4/contacts/39000002')).body._embedded.companies.map((c) => c.id), [49000002]);
    r = await env.api.get('/api/v4/companies/49000002/links');
    assert.deepEqual(r.body._embedded.links.map((l) => [l.to_entity_type, l.to_entity_id]), [['contacts', 39000002], ['contacts', 39000006]]);
  });

  test('bulk link/unlink and GET /{entity}/links?filter[entity_id][]; unlink → 204', async () => {
    let r = await env.api.post('/api/v4/companies/link', [
      { entity_id: 49000003, to_entity_id: lead, to_entity_type: 'leads' },
      { entity_id: 49000003, to_entity_id: 600001, to_entity_type: 'catalog_elements', metadata: { quantity: 2, catalog_id: 5001 } },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body._total_items, 2);
    assert.deepEqual((await env.api.get(`/api/v4/leads/${lead}`)).body._embedded.companies.map((c) => c.id), [49000003]);
    r = await env.api.get('/api/v4/companies/links?filter[entity_id][]=49000003&filter[entity_id][]=49000001');
    assert.deepEqual(r.body._embedded.links.map((l) => [l.entity_id, l.entity_type, l.to_entity_type, l.to_entity_id]), [
      [49000003, 'companies', 'leads', lead], [49000003, 'companies', 'catalog_elements', 600001],
      [49000001, 'companies', 'contacts', 39000001], [49000001, 'companies', 'contacts', 39000003], [49000001, 'companies', 'customers', 60000001],
    ]);
    assert.deepEqual((await env.api.get('/api/v4/companies/49000003?with=catalog_elements')).body._embedded.catalog_elements, [{ id: 600001, metadata: { quantity: 2, catalog_id: 5001 } }]);
    r = await env.api.post('/api/v4/companies/unlink', [{ entity_id: 49000003, to_entity_id: lead, to_entity_type: 'leads' }]);
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    assert.deepEqual((await env.api.get(`/api/v4/leads/${lead}`)).body._embedded.companies, []);
    r = await env.api.post('/api/v4/contacts/39000002/unlink', [{ to_entity_id: lead, to_entity_type: 'leads' }]);
    assert.equal(r.status, 204);
    assert.deepEqual((await env.api.get(`/api/v4/leads/${lead}?with=contacts`)).body._embedded.contacts.map((c) => c.id), [39000004]);
    assert.equal((await env.api.get('/api/v4/contacts/links')).status, 400, 'filter[entity_id] is required');
    assert.equal((await env.api.get('/api/v4/contacts/39000005/links')).status, 204);
  });

  test('link errors: wrong type, unknown target, unknown source → 400 atomic; unknown entity in the path → 404', async () => {
    const r = await env.api.post('/api/v4/contacts/39000005/link', [
      { to_entity_id: 49000001, to_entity_type: 'companies' },
      { to_entity_id: 39000001, to_entity_type: 'contacts' },
      { to_entity_id: 1, to_entity_type: 'leads' },
      { to_entity_id: 600001, to_entity_type: 'catalog_elements', metadata: { price_id: 900401 } },
    ]);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body['validation-errors'].map((e) => [e.request_id, e.errors[0].path]), [['1', 'to_entity_type'], ['2', 'to_entity_id'], ['3', 'metadata.price_id']]);
    assert.deepEqual((await env.api.get('/api/v4/contacts/39000005')).body._embedded.companies, [], 'nothing linked');
    assert.equal((await env.api.post('/api/v4/contacts/1/link', [{ to_entity_id: 49000001, to_entity_type: 'companies' }])).status, 404);
    const bulk = await env.api.post('/api/v4/contacts/link', [{ entity_id: 1, to_entity_id: 49000001, to_entity_type: 'companies' }]);
    assert.equal(bulk.body['validation-errors'][0].errors[0].path, 'entity_id');
  });
});

describe('notes of contacts and companies', () => {
  let env;
  before(async () => { env = await setup({ seed: 'base' }); });
  after(() => env.close());

  test('POST /{entity}/notes and /{entity}/{id}/notes; lists, get, PATCH; 204s; validation', async () => {
    let r = await env.api.post('/api/v4/contacts/notes', [
      { entity_id: 39000001, note_type: 'common', params: { text: 'Met at the fair' }, request_id: 'n1' },
      { entity_id: 39000002, note_type: 'call_out', params: { uniq: 'c-1', duration: 30, source: 'PBX', phone: '+79001112233' } },
    ]);
    assert.equal(r.status, 200, r.text);
    const [n1] = r.body._embedded.notes;
    assert.deepEqual(Object.keys(n1), ['id', 'entity_id', 'request_id', '_links']);
    assert.equal(n1._links.self.href, `${env.emu.url}/api/v4/contacts/39000001/notes/${n1.id}`);
    r = await env.api.post('/api/v4/companies/49000002/notes', [{ note_type: 'common', params: { text: 'Globex note' } }]);
    const n3 = r.body._embedded.notes[0];
    assert.equal(n3.entity_id, 49000002);
    r = await env.api.get('/api/v4/contacts/39000001/notes');
    assert.deepEqual(r.body._embedded.notes.map((n) => n.params.text), ['Met at the fair']);
    r = await env.api.get('/api/v4/contacts/notes?filter[note_type]=call_out');
    assert.deepEqual(r.body._embedded.notes.map((n) => n.entity_id), [39000002]);
    r = await env.api.get('/api/v4/companies/notes');
    assert.deepEqual(r.body._embedded.notes.map((n) => n.entity_id), [49000001, 49000002], 'the seeded note and the new one');
    assert.equal((await env.api.get(`/api/v4/companies/notes/${n3.id}`)).body.params.text, 'Globex note');
    assert.equal((await env.api.get(`/api/v4/contacts/notes/${n3.id}`)).status, 204, 'a company note is not a contact note');
    assert.equal((await env.api.get(`/api/v4/companies/49000001/notes/${n3.id}`)).status, 204);
    assert.equal((await env.api.get('/api/v4/contacts/39000003/notes')).status, 204);
    r = await env.api.patch('/api/v4/contacts/notes', [{ id: n1.id, params: { text: 'Met at the fair (2024)' } }]);
    assert.equal(r.status, 200);
    r = await env.api.patch(`/api/v4/contacts/39000001/notes/${n1.id}`, { params: { text: 'Single patch' } });
    assert.equal(r.status, 200, r.text);
    assert.equal((await env.api.get(`/api/v4/contacts/39000001/notes/${n1.id}`)).body.params.text, 'Single patch');
    assert.equal((await env.api.patch(`/api/v4/contacts/39000002/notes/${n1.id}`, { params: {} })).status, 404);
    r = await env.api.post('/api/v4/contacts/notes', [{ entity_id: 49000001, note_type: 'common', params: { text: 'x' } }]);
    assert.equal(r.status, 400, 'a company id is not a contact');
    assert.equal((await env.api.post('/api/v4/companies/1/notes', [{ note_type: 'common', params: { text: 'x' } }])).status, 404);
  });
});

describe('maxWriteBatch and stats', () => {
  test('option, admin setter and every batch endpoint (leads included); stats count the new routes', async () => {
    const env = await setup({ seed: 'base', maxWriteBatch: 2 });
    try {
      const three = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
      const r = await env.api.post('/api/v4/contacts', three);
      assert.equal(r.status, 400);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.equal(r.body.detail, 'Too many entities in request: 3, maximum is 2');
      for (const [path, body] of [
        ['/api/v4/leads', three], ['/api/v4/companies', three], ['/api/v4/customers', three], ['/api/v4/leads/complex', three],
        ['/api/v4/tasks', three], ['/api/v4/catalogs/5001/elements', three], ['/api/v4/leads/unsorted/forms', three],
        ['/api/v4/contacts/notes', three], ['/api/v4/contacts/39000001/link', three], ['/api/v4/contacts/tags', three],
        ['/api/v4/customers/60000001/transactions', three],
      ]) {
        const res = await env.api.post(path, body);
        assert.equal(res.status, 400, path);
        assert.match(res.body.detail, /Too many entities in request: 3, maximum is 2/, path);
      }
      assert.equal((await env.api.patch('/api/v4/contacts', [{ id: 39000001 }, { id: 39000002 }, { id: 39000003 }])).status, 400);
      assert.equal((await env.api.post('/api/v4/contacts', three.slice(0, 2))).status, 200);
      await env.admin('POST', '/_admin/config', { maxWriteBatch: 250 });
      assert.equal((await env.api.post('/api/v4/contacts', three)).status, 200);
      assert.equal((await env.api.post('/api/v4/leads/complex', Array.from({ length: 51 }, () => ({ name: 'x' })))).status, 400, 'complex stays ≤ 50');
      const stats = await env.admin('GET', '/_admin/stats');
      assert.equal(stats.calls['POST /api/v4/contacts']['400'], 1);
      assert.equal(stats.calls['POST /api/v4/contacts']['200'], 2);
      assert.equal(stats.calls['POST /api/v4/customers/{id}/transactions']['400'], 1);
      assert.equal(stats.calls['POST /api/v4/contacts/{id}/link']['400'], 1);
      await assert.rejects(env.admin('POST', '/_admin/config', { maxWriteBatch: 0 }));
    } finally {
      await env.close();
    }
  });

  test('CLI --max-write-batch', async () => {
    const cli = fileURLToPath(new URL('./cli.mjs', import.meta.url));
    const child = spawn(process.execPath, [cli, '--max-write-batch', '1', '--rate-limit', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      let buf = '';
      for await (const chunk of child.stdout) { buf += chunk; if (buf.includes('\n')) break; }
      const info = JSON.parse(buf.slice(0, buf.indexOf('\n')));
      const api = client({ url: info.url }, info.longLivedToken);
      const r = await api.post('/api/v4/tasks', [{ text: 'a', complete_till: 1 }, { text: 'b', complete_till: 1 }]);
      assert.equal(r.status, 400);
      assert.equal(r.body.detail, 'Too many entities in request: 2, maximum is 1');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal((await once(child, 'exit'))[0], 0);
  });
});
