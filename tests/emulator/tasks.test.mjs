import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './helpers.mjs';

const TASK_KEYS = [
  'id', 'created_by', 'updated_by', 'created_at', 'updated_at', 'responsible_user_id', 'group_id', 'entity_id', 'entity_type',
  'duration', 'is_completed', 'task_type_id', 'text', 'result', 'complete_till', 'account_id', '_links',
];
const ids = (r) => (r.status === 204 ? [] : r.body._embedded.tasks.map((t) => t.id));

describe('tasks', () => {
  let env;
  let lead;
  before(async () => {
    env = await setup({ seed: 'base' });
    lead = (await env.api.post('/api/v4/leads', [{ name: 'Task holder' }])).body._embedded.leads[0].id;
  });
  after(() => env.close());

  test('account?with=task_types: 1 FOLLOW_UP, 2 MEETING and two custom types', async () => {
    const r = await env.api.get('/api/v4/account?with=task_types');
    const types = r.body._embedded.task_types;
    assert.deepEqual(types.map((t) => [t.id, t.code]), [[1, 'FOLLOW_UP'], [2, 'MEETING'], [2190001, null], [2190002, null]]);
    assert.deepEqual(Object.keys(types[0]), ['id', 'name', 'color', 'icon_id', 'code']);
    assert.equal(types[0].name, 'Связаться');
    assert.equal(types[2].name, 'Send proposal');
  });

  test('seeded tasks: list shape, result [] when empty, {text} when completed; get by id; unknown → 204', async () => {
    const r = await env.api.get('/api/v4/tasks');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['_page', '_links', '_embedded']);
    const tasks = r.body._embedded.tasks;
    assert.equal(tasks.length, 6);
    assert.deepEqual(Object.keys(tasks[0]), TASK_KEYS);
    assert.deepEqual(tasks[0].result, []);
    const done = tasks.find((t) => t.is_completed);
    assert.deepEqual(done.result, { text: 'Proposal sent by e-mail' });
    assert.equal(done.task_type_id, 2190001);
    const standalone = tasks.find((t) => t.entity_id === null);
    assert.equal(standalone.entity_type, null);
    assert.equal((await env.api.get(`/api/v4/tasks/${tasks[0].id}`)).body.text, tasks[0].text);
    assert.equal((await env.api.get('/api/v4/tasks/1')).status, 204);
    // an open task sets its entity's closest_task_at
    assert.equal((await env.api.get('/api/v4/contacts/39000001')).body.closest_task_at, tasks[0].complete_till);
  });

  test('filters: responsible_user_id, is_completed, task_type(_id), entity_type + entity_id, id, updated_at; order', async () => {
    const get = async (qs) => ids(await env.api.get(`/api/v4/tasks?${qs}`));
    const all = await get('');
    assert.deepEqual(await get('filter[responsible_user_id]=8000002'), [all[2], all[5]]);
    assert.deepEqual(await get('filter[responsible_user_id][]=8000003&filter[responsible_user_id][]=8000004'), [all[1], all[4]]);
    assert.deepEqual(await get('filter[is_completed]=1'), [all[2]]);
    assert.deepEqual(await get('filter[is_completed][]=0'), [all[0], all[1], all[3], all[4], all[5]]);
    assert.deepEqual(await get('filter[task_type][]=2&filter[is_completed][]=1&limit=2'), []);
    assert.deepEqual(await get('filter[task_type][]=2190001'), [all[2]]);
    assert.deepEqual(await get('filter[task_type_id]=2'), [all[1]]);
    assert.deepEqual(await get('filter[entity_type]=companies'), [all[1], all[2]]);
    assert.deepEqual(await get('filter[entity_type]=companies&filter[entity_id][]=49000002'), [all[2]]);
    assert.deepEqual(await get('filter[entity_id]=49000002'), all, 'entity_id without entity_type is ignored');
    assert.deepEqual(await get(`filter[id][]=${all[3]}`), [all[3]]);
    assert.deepEqual(await get('filter[updated_at]=1705104000'), all, 'an int means "changed after"');
    assert.equal((await env.api.get('filter[updated_at]=1705104001'.replace(/^/, '/api/v4/tasks?'))).status, 204);
    assert.deepEqual(await get('filter[updated_at][from]=1&filter[updated_at][to]=1705104000&limit=1'), [all[0]]);
    assert.deepEqual(await get('order[complete_till]=desc&limit=2'), [all[5], all[3]]);
    // complete_till: not in amoCRM's filter list, used against live accounts.
    const tasks = (await env.api.get('/api/v4/tasks')).body._embedded.tasks;
    const by = [...tasks].sort((a, b) => a.complete_till - b.complete_till);
    const middle = by[2].complete_till;
    assert.deepEqual(await get(`filter[complete_till][from]=${middle}&order[complete_till]=asc`), by.slice(2).map((t) => t.id));
    assert.deepEqual(await get(`filter[complete_till][to]=${middle}&order[complete_till]=asc`), by.slice(0, 3).map((t) => t.id));
    assert.deepEqual(await get('order[id]=desc&limit=1'), [all[5]]);
    assert.equal((await env.api.get('/api/v4/tasks?filter[is_completed]=maybe')).status, 400);
    const page = await env.api.get('/api/v4/tasks?limit=3&page=2');
    assert.deepEqual(ids(page), all.slice(3));
    assert.ok(page.body._links.next);
    assert.equal((await env.api.get('/api/v4/tasks?limit=3&page=3')).status, 204);
  });

  test('POST batch: text and complete_till required, entity must exist, type 1/2/custom, user must exist; atomic', async () => {
    const before = env.emu.state.data.tasks.size;
    const r = await env.api.post('/api/v4/tasks', [
      { text: 'ok', complete_till: 1900000000 },
      { complete_till: 1900000000, request_id: 'no-text' },
      { text: 'no deadline' },
      { text: 'x', complete_till: 1900000000, entity_type: 'leads', entity_id: 1 },
      { text: 'x', complete_till: 1900000000, entity_type: 'deals', entity_id: lead },
      { text: 'x', complete_till: 1900000000, entity_type: 'leads' },
      { text: 'x', complete_till: 1900000000, task_type_id: 3 },
      { text: 'x', complete_till: 1900000000, responsible_user_id: 42 },
      { text: 'x', complete_till: '2030-01-01' },
    ]);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body['validation-errors'].map((e) => [e.request_id, e.errors[0].code, e.errors[0].path]), [
      ['no-text', 'FieldMissing', 'text'], ['2', 'FieldMissing', 'complete_till'], ['3', 'NotFound', 'entity_id'],
      ['4', 'NotSupportedChoice', 'entity_type'], ['5', 'FieldMissing', 'entity_id'], ['6', 'NotSupportedChoice', 'task_type_id'],
      ['7', 'NotSupportedChoice', 'responsible_user_id'], ['8', 'InvalidType', 'complete_till'],
    ]);
    assert.equal(env.emu.state.data.tasks.size, before);
  });

  test('POST → {id, request_id, _links}; defaults; entity closest_task_at; on every entity type', async () => {
    const r = await env.api.post('/api/v4/tasks', [
      { text: 'Call the lead', complete_till: 1900000000, entity_type: 'leads', entity_id: lead, request_id: 't1' },
      { text: 'Meet', complete_till: 1900000500, entity_type: 'customers', entity_id: 60000002, task_type_id: 2, responsible_user_id: 8000004, duration: 1800 },
      { text: 'Demo', complete_till: 1900001000, entity_type: 'companies', entity_id: 49000003, task_type_id: 2190002 },
    ]);
    assert.equal(r.status, 200, r.text);
    const [a, b] = r.body._embedded.tasks;
    assert.deepEqual(Object.keys(a), ['id', 'request_id', '_links']);
    assert.equal(a.request_id, 't1');
    const ta = (await env.api.get(`/api/v4/tasks/${a.id}`)).body;
    assert.equal(ta.task_type_id, 1);
    assert.equal(ta.responsible_user_id, 8000001);
    assert.equal(ta.created_by, 8000001);
    assert.equal(ta.is_completed, false);
    assert.equal((await env.api.get(`/api/v4/leads/${lead}`)).body.closest_task_at, 1900000000);
    const tb = (await env.api.get(`/api/v4/tasks/${b.id}`)).body;
    assert.equal(tb.group_id, 351001);
    assert.equal(tb.duration, 1800);
  });

  test('PATCH /{id} completes with a result; PATCH batch; unknown → 404 / 400', async () => {
    const id = (await env.api.post('/api/v4/tasks', [{ text: 'Finish me', complete_till: 1800000000, entity_type: 'leads', entity_id: lead }])).body._embedded.tasks[0].id;
    assert.equal((await env.api.get(`/api/v4/leads/${lead}`)).body.closest_task_at, 1800000000);
    let r = await env.api.patch(`/api/v4/tasks/${id}`, { is_completed: true, result: { text: 'Called, agreed on a demo' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body), ['id', 'updated_at', 'request_id', '_links']);
    let t = (await env.api.get(`/api/v4/tasks/${id}`)).body;
    assert.equal(t.is_completed, true);
    assert.deepEqual(t.result, { text: 'Called, agreed on a demo' });
    assert.equal((await env.api.get(`/api/v4/leads/${lead}`)).body.closest_task_at, 1900000000, 'the completed task no longer counts');
    r = await env.api.patch('/api/v4/tasks', [{ id, text: 'Renamed', complete_till: 1800000100, request_id: 'r' }, { id: 30000001, responsible_user_id: 8000003 }]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body._embedded.tasks.map((x) => x.request_id), ['r', '1']);
    t = (await env.api.get(`/api/v4/tasks/${id}`)).body;
    assert.equal(t.text, 'Renamed');
    assert.equal(t.complete_till, 1800000100);
    assert.equal((await env.api.get('/api/v4/tasks/30000001')).body.responsible_user_id, 8000003);
    assert.equal((await env.api.patch('/api/v4/tasks/1', { text: 'x' })).status, 404);
    r = await env.api.patch('/api/v4/tasks', [{ id, text: '' }, { id: 1 }, { text: 'no id' }, { id, result: 'done' }]);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body['validation-errors'].map((e) => [e.request_id, e.errors[0].code, e.errors[0].path]), [
      ['0', 'FieldMissing', 'text'], ['1', 'NotFound', 'id'], ['2', 'FieldMissing', 'id'], ['3', 'InvalidType', 'result'],
    ]);
    assert.equal((await env.api.get(`/api/v4/tasks/${id}`)).body.text, 'Renamed', 'atomic');
    r = await env.api.patch(`/api/v4/tasks/${id}`, { is_completed: false, result: null });
    assert.deepEqual((await env.api.get(`/api/v4/tasks/${id}`)).body.result, []);
    const stats = await env.admin('GET', '/_admin/stats');
    assert.ok(stats.calls['PATCH /api/v4/tasks/{id}']['200'] >= 2);
    assert.ok(stats.calls['GET /api/v4/tasks']['200'] >= 1);
  });
});
