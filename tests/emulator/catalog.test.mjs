import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './helpers.mjs';

describe('account, users, pipelines, custom fields, loss reasons, tags', () => {
  let env;
  before(async () => { env = await setup({ seed: 'base' }); });
  after(() => env.close());

  test('GET /api/v4/account: real shape and with= options', async () => {
    let r = await env.api.get('/api/v4/account');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/hal+json');
    const a = r.body;
    assert.equal(a.id, 31000001);
    assert.equal(a.name, 'Demo Company');
    assert.equal(a.subdomain, 'demo');
    assert.equal(a.current_user_id, 8000001);
    assert.equal(a.country, 'RU');
    assert.equal(a.currency, 'RUB');
    assert.equal(a._links.self.href, `${env.emu.url}/api/v4/account`);
    assert.equal('amojo_id' in a, false);
    r = await env.api.get('/api/v4/account?with=amojo_id,users_groups,task_types,datetime_settings,version,entity_names,amojo_rights');
    assert.equal(typeof r.body.amojo_id, 'string');
    assert.ok(r.body._embedded.users_groups.length >= 1);
    assert.ok(r.body._embedded.task_types.length >= 1);
    // D:account-info: both under _embedded.
    assert.equal(r.body._embedded.datetime_settings.timezone, 'Europe/Moscow');
    assert.equal(r.body._embedded.datetime_settings.timezone_offset, '+03:00');
    assert.equal(typeof r.body.version, 'number');
    assert.deepEqual(r.body._embedded.amojo_rights, { can_direct: true, can_create_groups: true });
  });

  test('GET /api/v4/users: paged list with rights; /users/{id}', async () => {
    const r = await env.api.get('/api/v4/users');
    assert.equal(r.status, 200);
    const users = r.body._embedded.users;
    assert.ok(users.length >= 3 && users.length <= 5);
    for (const u of users) {
      assert.equal(typeof u.name, 'string');
      assert.match(u.email, /@/);
      assert.equal(typeof u.rights.is_admin, 'boolean');
      assert.equal(u.rights.leads.view, 'A');
    }
    assert.equal(r.body._total_items, users.length);
    const page = await env.api.get('/api/v4/users?limit=2&page=2');
    assert.equal(page.body._embedded.users.length, 2);
    assert.equal((await env.api.get(`/api/v4/users/${users[0].id}`)).body.id, users[0].id);
    assert.equal((await env.api.get('/api/v4/users/1')).status, 204);
  });

  test('pipelines: 2 pipelines, unsorted (type 1) first, 142/143 in every pipeline', async () => {
    const r = await env.api.get('/api/v4/leads/pipelines');
    assert.equal(r.status, 200);
    const pipes = r.body._embedded.pipelines;
    assert.equal(pipes.length, 2);
    assert.deepEqual(pipes.map((p) => p.name), ['Sales', 'Partners']);
    assert.equal(pipes[0].is_main, true);
    for (const p of pipes) {
      assert.deepEqual(Object.keys(p).slice(0, 7), ['id', 'name', 'sort', 'is_main', 'is_unsorted_on', 'is_archive', 'account_id']);
      const st = p._embedded.statuses;
      assert.ok(st.length >= 7);
      assert.equal(st[0].type, 1);
      const won = st.find((s) => s.id === 142);
      const lost = st.find((s) => s.id === 143);
      assert.equal(won.name, 'Успешно реализовано');
      assert.equal(lost.name, 'Закрыто и не реализовано');
      assert.equal(won.pipeline_id, p.id);
      for (const s of st) assert.deepEqual(Object.keys(s).slice(0, 8), ['id', 'name', 'sort', 'is_editable', 'pipeline_id', 'color', 'type', 'account_id']);
    }
    const one = await env.api.get(`/api/v4/leads/pipelines/${pipes[1].id}`);
    assert.equal(one.body.name, 'Partners');
    const statuses = await env.api.get(`/api/v4/leads/pipelines/${pipes[1].id}/statuses`);
    assert.equal(statuses.body._embedded.statuses.length, pipes[1]._embedded.statuses.length);
    const s142 = await env.api.get(`/api/v4/leads/pipelines/${pipes[1].id}/statuses/142`);
    assert.equal(s142.body.pipeline_id, pipes[1].id);
    assert.equal((await env.api.get('/api/v4/leads/pipelines/1')).status, 204);
  });

  test('custom fields: the common types with enums and codes; paging, limit ≤ 250, filter[type][]', async () => {
    const r = await env.api.get('/api/v4/leads/custom_fields');
    assert.equal(r.status, 200);
    const fields = r.body._embedded.custom_fields;
    const types = new Set(fields.map((f) => f.type));
    for (const t of ['text', 'numeric', 'checkbox', 'select', 'multiselect', 'date', 'date_time', 'url', 'textarea', 'radiobutton']) assert.ok(types.has(t), t);
    const select = fields.find((f) => f.type === 'select');
    assert.ok(select.enums.length >= 3);
    assert.deepEqual(Object.keys(select.enums[0]), ['id', 'value', 'sort']);
    assert.equal(fields.find((f) => f.type === 'text' && f.code === 'CONTRACT_NO').name, 'Номер договора');
    assert.equal(fields.find((f) => f.type === 'numeric').enums, null);
    const filtered = await env.api.get('/api/v4/leads/custom_fields?filter[type][0]=select&filter[type][1]=multiselect');
    assert.deepEqual([...new Set(filtered.body._embedded.custom_fields.map((f) => f.type))].sort(), ['multiselect', 'select']);
    const p = await env.api.get('/api/v4/leads/custom_fields?limit=5&page=2');
    assert.equal(p.body._page, 2);
    assert.equal(p.body._embedded.custom_fields.length, 5);
    assert.equal((await env.api.get('/api/v4/leads/custom_fields?limit=251')).status, 400);
    assert.equal((await env.api.get('/api/v4/leads/custom_fields?page=99')).status, 204);
    const contactFields = await env.api.get('/api/v4/contacts/custom_fields');
    assert.ok(contactFields.body._embedded.custom_fields.some((f) => f.code === 'PHONE' && f.type === 'multitext'));
  });

  test('loss reasons', async () => {
    const r = await env.api.get('/api/v4/leads/loss_reasons');
    assert.equal(r.status, 200);
    const lr = r.body._embedded.loss_reasons;
    assert.ok(lr.length >= 3);
    assert.deepEqual(Object.keys(lr[0]), ['id', 'name', 'sort', 'created_at', 'updated_at', '_links']);
    assert.equal((await env.api.get(`/api/v4/leads/loss_reasons/${lr[0].id}`)).body.name, lr[0].name);
  });

  test('tags: list with page/limit/query/filter[name]; POST creates (existing name → same tag)', async () => {
    let r = await env.api.get('/api/v4/leads/tags');
    assert.equal(r.status, 200);
    const n = r.body._embedded.tags.length;
    assert.ok(n >= 3);
    assert.deepEqual(Object.keys(r.body._embedded.tags[0]), ['id', 'name', 'color']);
    r = await env.api.get('/api/v4/leads/tags?query=vi');
    assert.deepEqual(r.body._embedded.tags.map((t) => t.name), ['VIP']);
    r = await env.api.get('/api/v4/leads/tags?limit=2&page=2');
    assert.equal(r.body._embedded.tags.length, 2);
    const c = await env.api.post('/api/v4/leads/tags', [{ name: 'Горячий', color: 'FF0000' }, { name: 'VIP', request_id: 'dup' }]);
    assert.equal(c.status, 200);
    const [hot, vip] = c.body._embedded.tags;
    assert.equal(hot.name, 'Горячий');
    assert.equal(hot.color, 'FF0000');
    assert.equal(vip.request_id, 'dup');
    assert.equal(vip.id, (await env.api.get('/api/v4/leads/tags?filter[name]=VIP')).body._embedded.tags[0].id);
    assert.equal((await env.api.get('/api/v4/leads/tags')).body._embedded.tags.length, n + 1);
    assert.equal((await env.api.post('/api/v4/leads/tags', [{ color: 'FF0000' }])).status, 400);
    assert.equal((await env.api.get('/api/v4/leads/tags?query=nothing')).status, 204);
  });

  test('unknown API route → 404 problem+json', async () => {
    const r = await env.api.get('/api/v4/nothing-here');
    assert.equal(r.status, 404);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
  });
});
