import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './helpers.mjs';

const UNSORTED_KEYS = ['uid', 'source_uid', 'source_name', 'category', 'pipeline_id', 'created_at', 'metadata', 'account_id', '_links', '_embedded'];

const form = (n, extra = {}) => ({
  source_uid: `site-${n}`, source_name: 'Website',
  metadata: { form_id: 'contact', form_name: 'Contact us', form_page: 'https://shop.example/contact', ip: '203.0.113.9', form_sent_at: 1700000000 + n, referer: 'https://www.google.com/' },
  _embedded: {
    leads: [{ name: `Website request ${n}`, price: 1000 * n }],
    contacts: [{ first_name: 'Visitor', last_name: `No${n}`, custom_fields_values: [{ field_code: 'PHONE', values: [{ value: `+7 999 000-00-${String(n).padStart(2, '0')}` }] }] }],
  },
  ...extra,
});
const sip = (n) => ({
  source_uid: 'pbx', source_name: 'Office PBX',
  metadata: { uniq: `call-${n}`, duration: 42, service_code: 'pbx', link: 'https://pbx.example/r.mp3', phone: '+79260000000', called_at: 1700000000, is_call_event_needed: true },
});

describe('unsorted (incoming leads)', () => {
  let env;
  let created;
  before(async () => { env = await setup({ seed: 'base' }); });
  after(() => env.close());

  test('POST /leads/unsorted/forms: lead in the unsorted stage, contact and company hidden until accepted', async () => {
    const r = await env.api.post('/api/v4/leads/unsorted/forms', [
      form(1, { request_id: 'f1' }),
      form(2, { pipeline_id: 7000002, _embedded: { ...form(2)._embedded, companies: [{ name: 'Northwind Traders' }] } }),
      form(3),
    ]);
    assert.equal(r.status, 200, r.text);
    created = r.body._embedded.unsorted;
    assert.equal(created.length, 3);
    assert.deepEqual(Object.keys(created[0]), ['uid', 'account_id', 'request_id', '_embedded']);
    assert.match(created[0].uid, /^[0-9a-f]{40}$/);
    assert.equal(created[0].request_id, 'f1');
    assert.equal(created[1].request_id, '1');
    const lead = (await env.api.get(`/api/v4/leads/${created[0]._embedded.leads[0].id}?with=contacts`)).body;
    assert.equal(lead.status_id, 61000001, 'the pipeline\'s unsorted stage (type 1)');
    assert.equal(lead.name, 'Website request 1');
    assert.equal(lead._embedded.contacts[0].id, created[0]._embedded.contacts[0].id);
    const lead2 = (await env.api.get(`/api/v4/leads/${created[1]._embedded.leads[0].id}`)).body;
    assert.deepEqual([lead2.pipeline_id, lead2.status_id], [7000002, 61000011]);
    const contactId = created[0]._embedded.contacts[0].id;
    assert.equal((await env.api.get(`/api/v4/contacts?filter[id]=${contactId}`)).status, 204, 'not in lists');
    assert.equal((await env.api.get('/api/v4/contacts?query=999%20000-00-01')).status, 204, 'not found by query');
    const contact = (await env.api.get(`/api/v4/contacts/${contactId}`)).body;
    assert.equal(contact.is_unsorted, true, 'readable by id, flagged');
    assert.equal((await env.api.get('/api/v4/companies?query=northwind')).status, 204);
  });

  test('GET list: shape, filters uid/category/pipeline_id, order, paging; GET by uid; unknown uid → 204', async () => {
    let r = await env.api.get('/api/v4/leads/unsorted');
    assert.equal(r.status, 200);
    const list = r.body._embedded.unsorted;
    assert.equal(list.length, 3);
    assert.deepEqual(Object.keys(list[0]), UNSORTED_KEYS);
    assert.equal(list[0].category, 'forms');
    assert.equal(list[0].metadata.form_name, 'Contact us');
    assert.deepEqual(Object.keys(list[0]._embedded), ['leads', 'contacts', 'companies']);
    assert.equal(list[1]._embedded.companies.length, 1);
    r = await env.api.get(`/api/v4/leads/unsorted?filter[uid]=${created[2].uid}`);
    assert.deepEqual(r.body._embedded.unsorted.map((u) => u.uid), [created[2].uid]);
    r = await env.api.get('/api/v4/leads/unsorted?filter[pipeline_id]=7000002');
    assert.deepEqual(r.body._embedded.unsorted.map((u) => u.uid), [created[1].uid]);
    assert.equal((await env.api.get('/api/v4/leads/unsorted?filter[category][]=sip')).status, 204);
    r = await env.api.get('/api/v4/leads/unsorted?limit=2');
    assert.ok(r.body._links.next);
    r = await env.api.get('/api/v4/leads/unsorted?limit=2&page=2');
    assert.equal(r.body._embedded.unsorted.length, 1);
    assert.equal(r.body._links.next, undefined);
    assert.equal((await env.api.get('/api/v4/leads/unsorted?limit=251')).status, 400);
    r = await env.api.get(`/api/v4/leads/unsorted/${created[0].uid}`);
    assert.equal(r.body.uid, created[0].uid);
    assert.equal((await env.api.get(`/api/v4/leads/unsorted/${'0'.repeat(40)}`)).status, 204);
  });

  test('sip: required metadata, is_call_event_needed is write-only; PHP-style _embedded.lead is accepted', async () => {
    let r = await env.api.post('/api/v4/leads/unsorted/sip', [sip(1), { ...sip(2), metadata: { phone: '+7900' } }]);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body['validation-errors'][0].errors.map((e) => e.path), ['metadata.uniq', 'metadata.duration', 'metadata.service_code', 'metadata.link', 'metadata.called_at']);
    assert.equal((await env.api.get('/api/v4/leads/unsorted?filter[category]=sip')).status, 204, 'atomic');
    r = await env.api.post('/api/v4/leads/unsorted/sip', [{ ...sip(3), _embedded: { lead: { name: 'Call from PBX' } } }]);
    assert.equal(r.status, 200, r.text);
    const u = (await env.api.get(`/api/v4/leads/unsorted/${r.body._embedded.unsorted[0].uid}`)).body;
    assert.equal(u.category, 'sip');
    assert.equal('is_call_event_needed' in u.metadata, false);
    assert.equal((await env.api.get(`/api/v4/leads/${u._embedded.leads[0].id}`)).body.name, 'Call from PBX');
  });

  test('validation: source_uid, source_name, metadata required; bad pipeline; nested paths; atomic', async () => {
    const before = env.emu.state.data.leads.size;
    const r = await env.api.post('/api/v4/leads/unsorted/forms', [
      form(10),
      { ...form(11), source_uid: undefined, metadata: undefined },
      { ...form(12), pipeline_id: 1 },
      { ...form(13), _embedded: { leads: [{ price: 'lots' }], contacts: [{ name: 'x', custom_fields_values: [{ field_code: 'NOPE', values: [{ value: 1 }] }] }] } },
      { ...form(14), _embedded: { contacts: [{ name: 'a' }, { name: 'b' }] } },
    ]);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body['validation-errors'].map((e) => [e.request_id, e.errors.map((x) => x.path)]), [
      ['1', ['source_uid', 'metadata']],
      ['2', ['pipeline_id']],
      ['3', ['_embedded.leads.0.price', '_embedded.contacts.0.custom_fields_values.0.field_code']],
      ['4', ['_embedded.contacts']],
    ]);
    assert.equal(env.emu.state.data.leads.size, before);
  });

  test('the same form twice is refused ("two identical entities cannot be in unsorted"), also within one batch', async () => {
    let r = await env.api.post('/api/v4/leads/unsorted/forms', [form(1)]);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body['validation-errors'][0].errors[0], { code: 'Duplicate', path: '', detail: 'Two identical entities cannot be in unsorted.' });
    const resent = form(1);
    resent.metadata.form_sent_at = 1800000000; // only the time differs: still the same data
    assert.equal((await env.api.post('/api/v4/leads/unsorted/forms', [resent])).status, 400);
    r = await env.api.post('/api/v4/leads/unsorted/forms', [form(20), form(20)]);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body['validation-errors'].map((e) => e.request_id), ['1']);
  });

  test('accept: default first stage or status_id, contacts/companies become visible; reply; errors', async () => {
    const [a, b] = created;
    let r = await env.api.post(`/api/v4/leads/unsorted/${a.uid}/accept`, {});
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body), ['uid', 'pipeline_id', 'category', 'created_at', '_embedded']);
    assert.deepEqual(r.body._embedded.leads.map((l) => l.id), [a._embedded.leads[0].id]);
    assert.deepEqual(r.body._embedded.contacts.map((c) => c.id), [a._embedded.contacts[0].id]);
    assert.deepEqual(r.body._embedded.companies, []);
    assert.equal((await env.api.get(`/api/v4/leads/${a._embedded.leads[0].id}`)).body.status_id, 61000002, 'the first working stage');
    const contact = (await env.api.get(`/api/v4/contacts?query=999%20000-00-01`)).body._embedded.contacts[0];
    assert.equal(contact.id, a._embedded.contacts[0].id);
    assert.equal(contact.is_unsorted, false);
    r = await env.api.post(`/api/v4/leads/unsorted/${b.uid}/accept`, { user_id: 8000002, status_id: 61000013 });
    assert.equal(r.status, 200, r.text);
    const lead = (await env.api.get(`/api/v4/leads/${b._embedded.leads[0].id}`)).body;
    assert.deepEqual([lead.status_id, lead.updated_by], [61000013, 8000002]);
    assert.equal((await env.api.get('/api/v4/companies?query=northwind')).body._embedded.companies.length, 1);
    // already accepted: a 400 validation error; unknown uid: 404
    r = await env.api.post(`/api/v4/leads/unsorted/${a.uid}/accept`, {});
    assert.equal(r.status, 400);
    assert.deepEqual(r.body['validation-errors'][0].errors[0], { code: 'NotAvailableForAction', path: 'uid', detail: 'The unsorted entity has already been accepted.' });
    assert.equal((await env.api.get(`/api/v4/leads/unsorted/${a.uid}`)).status, 204, 'gone from unsorted');
    r = await env.api.post(`/api/v4/leads/unsorted/${'a'.repeat(40)}/accept`, {});
    assert.equal(r.status, 404);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    const c = created[2];
    for (const body of [{ status_id: 61000001 }, { status_id: 61000012 }, { user_id: 1 }]) {
      assert.equal((await env.api.post(`/api/v4/leads/unsorted/${c.uid}/accept`, body)).status, 400, JSON.stringify(body));
    }
    // the same form data may come again once the first one left unsorted
    assert.equal((await env.api.post('/api/v4/leads/unsorted/forms', [form(1)])).status, 200);
    // no batch accept in amoCRM's API
    assert.equal((await env.api.post('/api/v4/leads/unsorted/accept', [{ uid: c.uid }])).status, 404);
  });

  test('decline: lead, contact and company go to the trash; reply lists them; declining twice → 400', async () => {
    const c = created[2];
    let r = await env.api.del(`/api/v4/leads/unsorted/${c.uid}/decline`, { user_id: 8000003 });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body), ['uid', 'pipeline_id', 'category', 'created_at', '_embedded']);
    assert.deepEqual(r.body._embedded.leads.map((l) => l.id), [c._embedded.leads[0].id]);
    assert.deepEqual(r.body._embedded.contacts.map((x) => x.id), [c._embedded.contacts[0].id]);
    assert.equal((await env.api.get(`/api/v4/leads/${c._embedded.leads[0].id}`)).status, 204);
    assert.equal((await env.api.get(`/api/v4/contacts/${c._embedded.contacts[0].id}`)).status, 204);
    r = await env.api.del(`/api/v4/leads/unsorted/${c.uid}/decline`);
    assert.equal(r.status, 400);
    assert.equal(r.body['validation-errors'][0].errors[0].detail, 'The unsorted entity has already been declined.');
    assert.equal((await env.api.post(`/api/v4/leads/unsorted/${c.uid}/accept`, {})).status, 400);
    assert.equal((await env.api.del(`/api/v4/leads/unsorted/${'b'.repeat(40)}/decline`)).status, 404);
  });

  test('link: chats only (admin-injected chat); the contact joins the target lead, the incoming lead is dropped', async () => {
    const target = created[0]._embedded.leads[0].id;
    const formUid = (await env.api.get('/api/v4/leads/unsorted?filter[category]=sip')).body._embedded.unsorted[0].uid;
    let r = await env.api.post(`/api/v4/leads/unsorted/${formUid}/link`, { link: { entity_id: target, entity_type: 'leads' } });
    assert.equal(r.status, 400);
    assert.equal(r.body['validation-errors'][0].errors[0].path, 'category');
    const chat = await env.admin('POST', '/_admin/unsorted', { category: 'chats', _embedded: { contacts: [{ name: 'Olivia Park' }] } });
    assert.match(chat.uid, /^[0-9a-f]{40}$/);
    assert.equal((await env.api.get(`/api/v4/leads/unsorted/${chat.uid}`)).body.category, 'chats');
    r = await env.api.post(`/api/v4/leads/unsorted/${chat.uid}/link`, { link: { entity_id: 1, entity_type: 'leads' } });
    assert.equal(r.status, 400);
    r = await env.api.post(`/api/v4/leads/unsorted/${chat.uid}/link`, { link: { entity_id: target, entity_type: 'leads', metadata: { contact_id: chat.contact_ids[0] } } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body._embedded.leads.map((l) => l.id), [target]);
    const lead = (await env.api.get(`/api/v4/leads/${target}?with=contacts`)).body;
    assert.ok(lead._embedded.contacts.some((c) => c.id === chat.contact_ids[0]));
    assert.equal((await env.api.get(`/api/v4/leads/${chat.lead_id}`)).status, 204);
    assert.equal((await env.api.post(`/api/v4/leads/unsorted/${chat.uid}/link`, { link: { entity_id: target, entity_type: 'leads' } })).status, 400);
  });

  test('summary: totals, accepted, declined, categories; filters', async () => {
    let r = await env.api.get('/api/v4/leads/unsorted/summary');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['total', 'accepted', 'declined', 'average_sort_time', 'categories']);
    assert.equal(r.body.total, 6); // 3 forms + 1 sip + the first form again + 1 chat
    assert.equal(r.body.accepted, 3); // 2 accepted + 1 linked
    assert.equal(r.body.declined, 1);
    assert.deepEqual(r.body.categories, { sip: { total: 1 }, mail: { total: 0 }, forms: { total: 4 }, chats: { total: 1 } });
    assert.equal(typeof r.body.average_sort_time, 'number');
    r = await env.api.get('/api/v4/leads/unsorted/summary?filter[pipeline_id]=7000002');
    assert.deepEqual([r.body.total, r.body.accepted], [1, 1]);
    // D:unsorted-api documents filter[uid] (one or a list) for the summary too.
    const [a, b] = created.map((u) => u.uid);
    r = await env.api.get(`/api/v4/leads/unsorted/summary?filter[uid][]=${a}&filter[uid][]=${b}`);
    assert.equal(r.body.total, 2);
    r = await env.api.get(`/api/v4/leads/unsorted/summary?filter[uid]=${a}`);
    assert.equal(r.body.total, 1);
    const stats = await env.admin('GET', '/_admin/stats');
    assert.ok(stats.calls['POST /api/v4/leads/unsorted/{uid}/accept']['200'] >= 2);
    assert.ok(stats.calls['DELETE /api/v4/leads/unsorted/{uid}/decline']['200'] >= 1);
  });
});
