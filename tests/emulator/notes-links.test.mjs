import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './helpers.mjs';

describe('notes', () => {
  let env;
  let leadA;
  let leadB;
  before(async () => {
    env = await setup({ seed: 'base' });
    const r = await env.api.post('/api/v4/leads', [{ name: 'A' }, { name: 'B' }]);
    [leadA, leadB] = r.body._embedded.leads.map((l) => l.id);
  });
  after(() => env.close());

  test('a lead without notes → 204', async () => {
    const r = await env.api.get(`/api/v4/leads/${leadA}/notes`);
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
  });

  test('POST /api/v4/leads/notes (bulk with entity_id) and /leads/{id}/notes; reply shape', async () => {
    let r = await env.api.post('/api/v4/leads/notes', [
      { entity_id: leadA, note_type: 'common', params: { text: 'Первое примечание' }, request_id: 'n1' },
      { entity_id: leadB, note_type: 'call_in', params: { uniq: 'abc-1', duration: 60, source: 'Телефония', phone: '+79160000000', link: 'https://example.com/rec.mp3' } },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('content-type'), 'application/hal+json');
    const [n1, n2] = r.body._embedded.notes;
    assert.deepEqual(Object.keys(n1), ['id', 'entity_id', 'request_id', '_links']);
    assert.equal(n1.entity_id, leadA);
    assert.equal(n1.request_id, 'n1');
    assert.equal(n2.request_id, '1');
    r = await env.api.post(`/api/v4/leads/${leadA}/notes`, [{ note_type: 'service_message', params: { service: 'n8n', text: 'Создано автоматически' } }]);
    assert.equal(r.status, 200);
    assert.equal(r.body._embedded.notes[0].entity_id, leadA);
  });

  test('GET lists: per lead and all, with filters and paging', async () => {
    let r = await env.api.get(`/api/v4/leads/${leadA}/notes`);
    assert.equal(r.status, 200);
    const notes = r.body._embedded.notes;
    assert.deepEqual(notes.map((n) => n.note_type), ['common', 'service_message']);
    assert.deepEqual(notes[0].params, { text: 'Первое примечание' });
    assert.deepEqual(Object.keys(notes[0]).slice(0, 10), ['id', 'entity_id', 'created_by', 'updated_by', 'created_at', 'updated_at', 'responsible_user_id', 'group_id', 'note_type', 'params']);
    r = await env.api.get('/api/v4/leads/notes?filter[note_type]=call_in');
    assert.equal(r.body._embedded.notes.length, 1);
    assert.equal(r.body._embedded.notes[0].params.duration, 60);
    r = await env.api.get(`/api/v4/leads/notes?filter[entity_id][]=${leadB}`);
    assert.equal(r.body._embedded.notes.length, 1);
    r = await env.api.get(`/api/v4/leads/${leadA}/notes?limit=1`);
    assert.equal(r.body._embedded.notes.length, 1);
    assert.ok(r.body._links.next);
    r = await env.api.get(`/api/v4/leads/${leadA}/notes?limit=1&page=3`);
    assert.equal(r.status, 204);
    const one = await env.api.get(`/api/v4/leads/notes/${notes[0].id}`);
    assert.equal(one.body.id, notes[0].id);
  });

  test('validation: unknown lead, unknown note_type, missing params → 400, nothing created', async () => {
    const before = env.emu.state.data.notes.size;
    const r = await env.api.post('/api/v4/leads/notes', [
      { entity_id: leadA, note_type: 'common', params: { text: 'ok' } },
      { entity_id: 1, note_type: 'common', params: { text: 'x' } },
      { entity_id: leadA, note_type: 'telepathy', params: {} },
      { entity_id: leadA, note_type: 'call_out', params: { uniq: 'u', source: 's', phone: 'p' } },
    ]);
    assert.equal(r.status, 400);
    const byReq = Object.fromEntries(r.body['validation-errors'].map((e) => [e.request_id, e.errors.map((x) => x.path)]));
    assert.deepEqual(byReq, { 1: ['entity_id'], 2: ['note_type'], 3: ['params.duration'] });
    assert.equal(env.emu.state.data.notes.size, before);
    assert.equal((await env.api.post('/api/v4/leads/99999999/notes', [{ note_type: 'common', params: { text: 'x' } }])).status, 404);
  });
});

describe('links', () => {
  let env;
  let lead;
  let c1;
  let c2;
  let company;
  before(async () => {
    env = await setup({ seed: 'base' });
    lead = (await env.api.post('/api/v4/leads', [{ name: 'L' }])).body._embedded.leads[0].id;
    [c1, c2] = (await env.api.post('/api/v4/contacts', [{ name: 'C1' }, { name: 'C2' }])).body._embedded.contacts.map((c) => c.id);
    company = (await env.api.post('/api/v4/companies', [{ name: 'Co' }])).body._embedded.companies[0].id;
  });
  after(() => env.close());

  test('no links → 204; link contacts/companies/catalog elements → real reply shape', async () => {
    assert.equal((await env.api.get(`/api/v4/leads/${lead}/links`)).status, 204);
    const r = await env.api.post(`/api/v4/leads/${lead}/link`, [
      { to_entity_id: c1, to_entity_type: 'contacts' },
      { to_entity_id: c2, to_entity_type: 'contacts', metadata: { is_main: true } },
      { to_entity_id: company, to_entity_type: 'companies' },
      { to_entity_id: 600002, to_entity_type: 'catalog_elements', metadata: { quantity: 3, catalog_id: 5001 } },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body._total_items, 4);
    assert.deepEqual(r.body._embedded.links[0], { entity_id: lead, entity_type: 'leads', to_entity_id: c1, to_entity_type: 'contacts', metadata: { main_contact: true } });
    assert.deepEqual(r.body._embedded.links[3].metadata, { quantity: 3, catalog_id: 5001 });
  });

  test('GET /leads/{id}/links reflects is_main moves; filter[to_entity_type]', async () => {
    const r = await env.api.get(`/api/v4/leads/${lead}/links`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body._embedded.links, [
      { to_entity_id: c1, to_entity_type: 'contacts', metadata: { main_contact: false } },
      { to_entity_id: c2, to_entity_type: 'contacts', metadata: { main_contact: true } },
      { to_entity_id: company, to_entity_type: 'companies', metadata: null },
      { to_entity_id: 600002, to_entity_type: 'catalog_elements', metadata: { quantity: 3, catalog_id: 5001 } },
    ]);
    const only = await env.api.get(`/api/v4/leads/${lead}/links?filter[to_entity_type]=contacts`);
    assert.equal(only.body._embedded.links.length, 2);
    const l = (await env.api.get(`/api/v4/leads/${lead}?with=contacts`)).body;
    assert.deepEqual(l._embedded.contacts.map((c) => [c.id, c.is_main]), [[c1, false], [c2, true]]);
    assert.deepEqual(l._embedded.companies.map((c) => c.id), [company]);
  });

  test('unlink → 204; main contact passes on', async () => {
    const r = await env.api.post(`/api/v4/leads/${lead}/unlink`, [{ to_entity_id: c2, to_entity_type: 'contacts' }]);
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    const links = (await env.api.get(`/api/v4/leads/${lead}/links?filter[to_entity_type]=contacts`)).body._embedded.links;
    assert.deepEqual(links, [{ to_entity_id: c1, to_entity_type: 'contacts', metadata: { main_contact: true } }]);
  });

  test('bulk link/unlink with entity_id and GET /leads/links?filter[entity_id][]', async () => {
    const other = (await env.api.post('/api/v4/leads', [{ name: 'L2' }])).body._embedded.leads[0].id;
    let r = await env.api.post('/api/v4/leads/link', [{ entity_id: other, to_entity_id: c2, to_entity_type: 'contacts' }]);
    assert.equal(r.status, 200);
    assert.equal(r.body._embedded.links[0].entity_id, other);
    r = await env.api.get(`/api/v4/leads/links?filter[entity_id][]=${lead}&filter[entity_id][]=${other}`);
    assert.equal(r.status, 200);
    const pairs = r.body._embedded.links.map((l) => [l.entity_id, l.entity_type, l.to_entity_type, l.to_entity_id]);
    assert.ok(pairs.some((p) => p[0] === other && p[3] === c2));
    assert.ok(pairs.some((p) => p[0] === lead && p[2] === 'companies'));
    r = await env.api.post('/api/v4/leads/unlink', [{ entity_id: other, to_entity_id: c2, to_entity_type: 'contacts' }]);
    assert.equal(r.status, 204);
    assert.equal((await env.api.get(`/api/v4/leads/links?filter[entity_id][]=${other}`)).status, 204);
    assert.equal((await env.api.get('/api/v4/leads/links')).status, 400);
  });

  test('validation: bad to_entity_type, unknown target, wrong catalog → 400; unknown lead → 404', async () => {
    const r = await env.api.post(`/api/v4/leads/${lead}/link`, [
      { to_entity_id: c1, to_entity_type: 'tasks' },
      { to_entity_id: 1, to_entity_type: 'contacts' },
      { to_entity_id: 600001, to_entity_type: 'catalog_elements', metadata: { catalog_id: 1 } },
    ]);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body['validation-errors'].map((e) => e.errors[0].path), ['to_entity_type', 'to_entity_id', 'metadata.catalog_id']);
    assert.equal((await env.api.post('/api/v4/leads/99999999/link', [{ to_entity_id: c1, to_entity_type: 'contacts' }])).status, 404);
  });
});
