import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './helpers.mjs';

describe('POST/PATCH /api/v4/leads', () => {
  let env;
  before(async () => { env = await setup({ seed: 'base' }); });
  after(() => env.close());

  const count = async () => (await env.admin('GET', '/_admin/leads/count')).count;
  const get = async (id, w = '') => (await env.api.get(`/api/v4/leads/${id}${w ? `?with=${w}` : ''}`)).body;
  const create = async (item) => {
    const r = await env.api.post('/api/v4/leads', [item]);
    assert.equal(r.status, 200, r.text);
    return r.body._embedded.leads[0].id;
  };
  const cf = (lead, id) => lead.custom_fields_values?.find((f) => f.field_id === id)?.values;
  const expect400 = async (items, path, code) => {
    const before = await count();
    const r = await env.api.post('/api/v4/leads', items);
    assert.equal(r.status, 400, `${JSON.stringify(items)} → ${r.status} ${r.text}`);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    const errs = r.body['validation-errors'].flatMap((e) => e.errors);
    assert.ok(errs.some((e) => e.path === path && (!code || e.code === code)), `expected ${code ?? ''} at ${path}, got ${JSON.stringify(errs)}`);
    assert.equal(await count(), before, 'nothing may be created');
    return r.body;
  };

  test('create: reply shape, request_id defaults to the index, defaults for pipeline/status/responsible', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    const r = await env.api.post('/api/v4/leads', [{ name: 'Первая' }, { name: 'Вторая', price: 1500, request_id: 'my-req' }]);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/hal+json');
    assert.equal(r.body._links.self.href, `${env.emu.url}/api/v4/leads`);
    const [a, b] = r.body._embedded.leads;
    assert.deepEqual(Object.keys(a), ['id', 'request_id', '_links']);
    assert.equal(a.request_id, '0');
    assert.equal(b.request_id, 'my-req');
    assert.equal(a._links.self.href, `${env.emu.url}/api/v4/leads/${a.id}`);
    const lead = await get(a.id);
    assert.equal(lead.pipeline_id, 7000001);
    assert.equal(lead.status_id, 61000002); // first working stage, not "Неразобранное"
    assert.equal(lead.responsible_user_id, 8000001); // the token's user
    assert.equal(lead.price, 0);
    assert.ok(lead.created_at >= t0);
    assert.equal(lead.closed_at, null);
    assert.equal(lead.custom_fields_values, null);
    assert.equal((await get(b.id)).price, 1500);
  });

  test('a lead without name gets "Сделка #ID"; status_id alone picks its pipeline; 142 sets closed_at', async () => {
    const id = await create({ status_id: 61000013 });
    const lead = await get(id);
    assert.equal(lead.name, `Сделка #${id}`);
    assert.equal(lead.pipeline_id, 7000002);
    const won = await get(await create({ name: 'won', pipeline_id: 7000002, status_id: 142 }));
    assert.equal(won.pipeline_id, 7000002);
    assert.equal(won.status_id, 142);
    assert.ok(won.closed_at > 0);
  });

  test('any invalid item rejects the whole batch: validation-errors with per-item request_id, nothing created', async () => {
    const body = await expect400([{ name: 'ok' }, { name: 'bad', price: -1 }, { name: 42, request_id: 'x' }], 'price', 'GreaterThanOrEqual');
    assert.deepEqual(Object.keys(body), ['validation-errors', 'title', 'type', 'status', 'detail']);
    assert.equal(body.title, 'Bad Request');
    assert.equal(body.type, 'https://httpstatus.es/400');
    assert.equal(body.detail, 'Request validation failed');
    assert.deepEqual(body['validation-errors'].map((e) => e.request_id), ['1', 'x']);
    assert.deepEqual(body['validation-errors'][1].errors, [{ code: 'InvalidType', path: 'name', detail: 'This value should be of type string.' }]);
  });

  test('field validation: price, status/pipeline, users, loss reason, unsorted', async () => {
    await expect400([{ price: 10.5 }], 'price', 'InvalidType');
    await expect400([{ price: '100' }], 'price', 'InvalidType');
    await expect400([{ pipeline_id: 123 }], 'pipeline_id', 'NotSupportedChoice');
    await expect400([{ pipeline_id: 7000002, status_id: 61000002 }], 'status_id', 'NotSupportedChoice');
    await expect400([{ status_id: 999 }], 'status_id', 'NotSupportedChoice');
    await expect400([{ status_id: 61000001 }], 'status_id', 'NotSupportedChoice'); // unsorted via /leads
    await expect400([{ responsible_user_id: 1 }], 'responsible_user_id', 'NotSupportedChoice');
    await expect400([{ loss_reason_id: 3000001 }], 'loss_reason_id');
    await expect400([{ status_id: 143, loss_reason_id: 1 }], 'loss_reason_id', 'NotSupportedChoice');
    await expect400([{ _embedded: { tags: [{ id: 1 }] } }], '_embedded.tags.0.id', 'NotSupportedChoice');
    await expect400([{ _embedded: { contacts: [{ id: 1 }] } }], '_embedded.contacts.0.id', 'NotFound');
    const lost = await get(await create({ status_id: 143, loss_reason_id: 3000002 }));
    assert.equal(lost.loss_reason_id, 3000002);
  });

  test('custom field validation by type', async () => {
    const v = (field, values) => [{ custom_fields_values: [{ field_id: field, values }] }];
    await expect400([{ custom_fields_values: [{ field_id: 1, values: [{ value: 'x' }] }] }], 'custom_fields_values.0.field_id', 'NotSupportedChoice');
    await expect400([{ custom_fields_values: [{ field_code: 'NOPE', values: [{ value: 'x' }] }] }], 'custom_fields_values.0.field_code', 'NotSupportedChoice');
    await expect400([{ custom_fields_values: [{ values: [{ value: 'x' }] }] }], 'custom_fields_values.0.field_id', 'FieldMissing');
    await expect400(v(900002, [{ value: 'abc' }]), 'custom_fields_values.0.values.0.value', 'InvalidType');
    await expect400(v(900001, [{ enum_id: 1 }]), 'custom_fields_values.0.values.0.enum_id', 'NotSupportedChoice');
    await expect400(v(900001, [{ value: 'Телевизор' }]), 'custom_fields_values.0.values.0.value', 'NotSupportedChoice');
    await expect400(v(900001, [{ value: 'Сайт' }, { value: 'Реклама' }]), 'custom_fields_values.0.values');
    await expect400(v(900004, [{ value: 'Консалтинг' }, { value: 'Нет такого' }]), 'custom_fields_values.0.values.1.value', 'NotSupportedChoice');
    await expect400(v(900003, [{ value: 'yes' }]), 'custom_fields_values.0.values.0.value', 'InvalidType');
    await expect400(v(900005, [{ value: 'not a date' }]), 'custom_fields_values.0.values.0.value', 'InvalidType');
    await expect400(v(900007, [{ value: 12 }]), 'custom_fields_values.0.values.0.value', 'InvalidType');
    await expect400(v(900009, [{ value: 'Срочный' }]), 'custom_fields_values.0.values.0.value', 'NotSupportedChoice');
    await expect400([{ custom_fields_values: { field_id: 900012 } }], 'custom_fields_values', 'InvalidType');
  });

  test('valid custom fields of every type are stored and read back in the read shape', async () => {
    const enums = env.emu.state.data.customFields.leads.get(900004).enums;
    const id = await create({
      name: 'Все поля',
      custom_fields_values: [
        { field_id: 900001, values: [{ value: 'Реклама' }] },
        { field_id: 900002, values: [{ value: '1234.5' }] },
        { field_id: 900003, values: [{ value: true }] },
        { field_id: 900004, values: [{ enum_id: enums[0].id }, { value: 'Обучение' }] },
        { field_id: 900005, values: [{ value: '2024-03-01T00:00:00+00:00' }] },
        { field_id: 900006, values: [{ value: 1709280000 }] },
        { field_id: 900007, values: [{ value: 'https://example.com' }] },
        { field_id: 900008, values: [{ value: 'многострочный\nтекст' }] },
        { field_id: 900009, values: [{ value: 'Низкий' }] },
        { field_code: 'contract_no', values: [{ value: 'Д-1' }] },
        { field_code: 'UTM_SOURCE', values: [{ value: 'yandex' }] },
      ],
    });
    const lead = await get(id);
    assert.equal(lead.custom_fields_values.length, 11);
    assert.equal(cf(lead, 900001)[0].value, 'Реклама');
    assert.equal(typeof cf(lead, 900001)[0].enum_id, 'number');
    assert.equal(cf(lead, 900002)[0].value, '1234.5');
    assert.deepEqual(cf(lead, 900003), [{ value: true }]);
    assert.deepEqual(cf(lead, 900004).map((x) => x.value), [enums[0].value, 'Обучение']);
    assert.deepEqual(cf(lead, 900005), [{ value: 1709251200 }]);
    assert.deepEqual(cf(lead, 900006), [{ value: 1709280000 }]);
    assert.equal(cf(lead, 900009)[0].value, 'Низкий');
    const contractNo = lead.custom_fields_values.find((f) => f.field_id === 900010);
    assert.equal(contractNo.field_code, 'CONTRACT_NO');
    assert.deepEqual(contractNo.values, [{ value: 'Д-1' }]);
  });

  test('tags: by name creates the tag, by id reuses; tags_to_add on create', async () => {
    const id = await create({ name: 'tagged', _embedded: { tags: [{ name: 'Новый тег' }, { name: 'vip' }] }, tags_to_add: [{ name: 'Ещё' }] });
    const lead = await get(id);
    assert.deepEqual(lead._embedded.tags.map((t) => t.name).sort(), ['VIP', 'Ещё', 'Новый тег']);
    const tags = await env.api.get(`/api/v4/leads/tags?filter[name]=${encodeURIComponent('Новый тег')}`);
    assert.equal(tags.status, 200);
    assert.equal(tags.body._embedded.tags.length, 1);
    await expect400([{ tags_to_add: ['плоская строка'] }], 'tags_to_add.0', 'InvalidType');
  });

  test('batch limits: > 250 → 400, 250 ok, empty array/object body → 400, malformed JSON → 400', async () => {
    const before = await count();
    let r = await env.api.post('/api/v4/leads', Array.from({ length: 251 }, (_, i) => ({ name: `n${i}` })));
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.equal(await count(), before);
    r = await env.api.post('/api/v4/leads', Array.from({ length: 250 }, (_, i) => ({ name: `n${i}` })));
    assert.equal(r.status, 200);
    assert.equal(r.body._embedded.leads.length, 250);
    assert.equal(r.body._embedded.leads[249].request_id, '249');
    assert.equal((await env.api.post('/api/v4/leads', [])).status, 400);
    assert.equal((await env.api.post('/api/v4/leads', { name: 'not an array' })).status, 400);
    r = await env.api.post('/api/v4/leads', '[{"name": "broken"');
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.match(r.body.detail, /JSON/);
  });

  test('bodies of several MB are handled', async () => {
    const text = 'x'.repeat(20000);
    const items = Array.from({ length: 250 }, (_, i) => ({ name: `big ${i}`, custom_fields_values: [{ field_id: 900008, values: [{ value: text }] }] }));
    const r = await env.api.post('/api/v4/leads', items);
    assert.equal(r.status, 200);
    assert.equal(r.body._embedded.leads.length, 250);
  });

  test('PATCH /api/v4/leads (array): reply shape, fields updated, unknown id → 400 NotFound and nothing applied', async () => {
    const [a, b] = [await create({ name: 'p1' }), await create({ name: 'p2' })];
    const r = await env.api.patch('/api/v4/leads', [{ id: a, name: 'p1-new', price: 77 }, { id: b, responsible_user_id: 8000002, request_id: 'r2' }]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('content-type'), 'application/hal+json');
    const [ra, rb] = r.body._embedded.leads;
    assert.deepEqual(Object.keys(ra), ['id', 'updated_at', 'request_id', '_links']);
    assert.equal(ra.request_id, '0');
    assert.equal(rb.request_id, 'r2');
    assert.equal((await get(a)).name, 'p1-new');
    assert.equal((await get(a)).price, 77);
    assert.equal((await get(b)).responsible_user_id, 8000002);
    const bad = await env.api.patch('/api/v4/leads', [{ id: a, name: 'never' }, { id: 12345, name: 'x' }, { name: 'no id' }]);
    assert.equal(bad.status, 400);
    const errs = bad.body['validation-errors'];
    assert.deepEqual(errs.map((e) => [e.request_id, e.errors[0].code, e.errors[0].path]), [['1', 'NotFound', 'id'], ['2', 'FieldMissing', 'id']]);
    assert.equal((await get(a)).name, 'p1-new');
  });

  test('PATCH /api/v4/leads/{id} (object): reply {id, updated_at, _links}; unknown id → 404', async () => {
    const id = await create({ name: 'single' });
    const r = await env.api.patch(`/api/v4/leads/${id}`, { name: 'single-2' });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['id', 'updated_at', '_links']);
    assert.equal((await get(id)).name, 'single-2');
    assert.equal((await env.api.patch('/api/v4/leads/99999999', { name: 'x' })).status, 404);
    const v = await env.api.patch(`/api/v4/leads/${id}`, { price: 'free' });
    assert.equal(v.status, 400);
    assert.equal(v.body['validation-errors'][0].errors[0].path, 'price');
  });

  test('PATCH status: 142/143 set closed_at, reopening clears it; loss_reason_id only with 143; pipeline change → first stage', async () => {
    const id = await create({ name: 'flow' });
    await env.api.patch(`/api/v4/leads/${id}`, { status_id: 143, loss_reason_id: 3000003 });
    let lead = await get(id, 'loss_reason');
    assert.equal(lead.status_id, 143);
    assert.ok(lead.closed_at > 0);
    assert.equal(lead.loss_reason_id, 3000003);
    assert.equal(lead._embedded.loss_reason[0].id, 3000003);
    await env.api.patch(`/api/v4/leads/${id}`, { status_id: 61000003 });
    lead = await get(id);
    assert.equal(lead.closed_at, null);
    assert.equal(lead.loss_reason_id, null);
    const r = await env.api.patch(`/api/v4/leads/${id}`, { loss_reason_id: 3000001 });
    assert.equal(r.status, 400);
    assert.equal(r.body['validation-errors'][0].errors[0].path, 'loss_reason_id');
    await env.api.patch(`/api/v4/leads/${id}`, { pipeline_id: 7000002 });
    lead = await get(id);
    assert.equal(lead.pipeline_id, 7000002);
    assert.equal(lead.status_id, 61000012);
    await env.api.patch(`/api/v4/leads/${id}`, { status_id: 142 });
    lead = await get(id);
    assert.equal(lead.pipeline_id, 7000002); // 142 without pipeline_id: the lead's own pipeline
    assert.ok(lead.closed_at > 0);
  });

  test('PATCH tags: _embedded.tags replaces, tags_to_add/tags_to_delete increment (by id or name)', async () => {
    const id = await create({ name: 't', _embedded: { tags: [{ name: 'VIP' }, { name: 'Опт' }] } });
    const vip = (await get(id))._embedded.tags.find((t) => t.name === 'VIP').id;
    await env.api.patch(`/api/v4/leads/${id}`, { tags_to_add: [{ name: 'Срочно' }] });
    assert.deepEqual((await get(id))._embedded.tags.map((t) => t.name).sort(), ['VIP', 'Опт', 'Срочно']);
    await env.api.patch(`/api/v4/leads/${id}`, { tags_to_delete: [{ id: vip }, { name: 'опт' }] });
    assert.deepEqual((await get(id))._embedded.tags.map((t) => t.name), ['Срочно']);
    await env.api.patch(`/api/v4/leads/${id}`, { _embedded: { tags: [{ name: 'Выставка' }] } });
    assert.deepEqual((await get(id))._embedded.tags.map((t) => t.name), ['Выставка']);
    await env.api.patch(`/api/v4/leads/${id}`, { _embedded: { tags: [] } });
    assert.deepEqual((await get(id))._embedded.tags, []);
  });

  test('PATCH custom fields: mentioned fields replaced, others kept, "values": null clears', async () => {
    const id = await create({ name: 'cf', custom_fields_values: [{ field_id: 900012, values: [{ value: 'Казань' }] }, { field_id: 900002, values: [{ value: 10 }] }] });
    await env.api.patch(`/api/v4/leads/${id}`, { custom_fields_values: [{ field_id: 900012, values: [{ value: 'Москва' }] }] });
    let lead = await get(id);
    assert.deepEqual(cf(lead, 900012), [{ value: 'Москва' }]);
    assert.deepEqual(cf(lead, 900002), [{ value: '10' }]);
    await env.api.patch(`/api/v4/leads/${id}`, { custom_fields_values: [{ field_id: 900012, values: null }] });
    lead = await get(id);
    assert.equal(cf(lead, 900012), undefined);
    await env.api.patch(`/api/v4/leads/${id}`, { custom_fields_values: [{ field_id: 900002, values: null }] });
    assert.equal((await get(id)).custom_fields_values, null);
  });

  test('no DELETE for leads: 405 with Allow', async () => {
    const id = await create({ name: 'keep me' });
    for (const p of ['/api/v4/leads', `/api/v4/leads/${id}`]) {
      const r = await env.api.del(p);
      assert.equal(r.status, 405, p);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.ok(r.headers.get('allow').includes('GET'));
    }
    assert.equal((await env.api.get(`/api/v4/leads/${id}`)).status, 200);
  });

  test('stats count created leads', async () => {
    const before = (await env.admin('GET', '/_admin/stats')).leadsCreated;
    await create({ name: 'counted' });
    assert.equal((await env.admin('GET', '/_admin/stats')).leadsCreated, before + 1);
  });
});

describe('POST /api/v4/leads/complex', () => {
  let env;
  before(async () => { env = await setup({ seed: 'base' }); });
  after(() => env.close());

  test('creates lead + contact (PHONE/EMAIL by field_code) + company, bare array reply', async () => {
    const r = await env.api.post('/api/v4/leads/complex', [{
      name: 'Заявка с сайта', price: 5000,
      _embedded: {
        contacts: [{ first_name: 'Анна', last_name: 'Соколова', custom_fields_values: [
          { field_code: 'PHONE', values: [{ value: '+79161234567', enum_code: 'MOB' }] },
          { field_code: 'EMAIL', values: [{ value: 'anna@example.com' }] },
        ] }],
        companies: [{ name: 'ООО «Вектор»' }],
        metadata: { category: 'forms', form_id: 'f1' },
        source: { external_id: 'landing-7' },
        tags: [{ name: 'Сайт' }],
      },
    }, { name: 'Без контакта', request_id: 'nc' }]);
    assert.equal(r.status, 200, r.text);
    assert.ok(Array.isArray(r.body));
    const [a, b] = r.body;
    assert.deepEqual(Object.keys(a), ['id', 'contact_id', 'company_id', 'request_id', 'merged']);
    assert.deepEqual(a.request_id, ['0']);
    assert.equal(a.merged, false);
    assert.deepEqual(b.request_id, ['nc']);
    assert.equal(b.contact_id, null);
    assert.equal(b.company_id, null);
    const lead = (await env.api.get(`/api/v4/leads/${a.id}?with=contacts,source_id`)).body;
    assert.deepEqual(lead._embedded.contacts.map((c) => [c.id, c.is_main]), [[a.contact_id, true]]);
    assert.deepEqual(lead._embedded.companies.map((c) => c.id), [a.company_id]);
    assert.equal(typeof lead.source_id, 'number');
    assert.deepEqual(lead._embedded.tags.map((t) => t.name), ['Сайт']);
    const contact = (await env.api.get(`/api/v4/contacts/${a.contact_id}`)).body;
    assert.equal(contact.name, 'Анна Соколова');
    const phone = contact.custom_fields_values.find((f) => f.field_code === 'PHONE');
    assert.deepEqual(phone.values, [{ value: '+79161234567', enum_id: phone.values[0].enum_id, enum_code: 'MOB' }]);
    assert.equal(contact._embedded.companies[0].id, a.company_id);
    const company = (await env.api.get(`/api/v4/companies/${a.company_id}`)).body;
    assert.equal(company.name, 'ООО «Вектор»');
    const search = await env.api.get('/api/v4/contacts?query=79161234567');
    assert.equal(search.body._embedded.contacts[0].id, a.contact_id);
  });

  test('invalid nested contact → 400 with nested path, nothing created; > 50 items → 400', async () => {
    const before = (await env.admin('GET', '/_admin/leads/count')).count;
    const contactsBefore = env.emu.state.data.contacts.size;
    const r = await env.api.post('/api/v4/leads/complex', [{ name: 'x', _embedded: { contacts: [{ name: 'y', custom_fields_values: [{ field_code: 'FAX', values: [{ value: '1' }] }] }] } }]);
    assert.equal(r.status, 400);
    assert.equal(r.body['validation-errors'][0].errors[0].path, '_embedded.contacts.0.custom_fields_values.0.field_code');
    assert.equal((await env.admin('GET', '/_admin/leads/count')).count, before);
    assert.equal(env.emu.state.data.contacts.size, contactsBefore);
    const many = await env.api.post('/api/v4/leads/complex', Array.from({ length: 51 }, () => ({ name: 'm' })));
    assert.equal(many.status, 400);
  });

  test('contacts and companies lists: query search, paging, 204 when empty, unknown id → 204', async () => {
    const r = await env.api.get(`/api/v4/contacts?query=${encodeURIComponent('Соколова')}`);
    assert.equal(r.status, 200);
    assert.equal(r.body._embedded.contacts.length, 1);
    assert.equal((await env.api.get('/api/v4/contacts?query=zzzz')).status, 204);
    assert.equal((await env.api.get('/api/v4/companies?query=Вектор')).body._embedded.companies.length, 1);
    assert.equal((await env.api.get('/api/v4/contacts/1')).status, 204);
  });
});
