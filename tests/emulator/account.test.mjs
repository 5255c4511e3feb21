// The Account node's endpoints: pipeline and status rules, loss reasons,
// users, roles, custom fields and groups, sources, calls, talks, salesbots,
// entity files and the drive on its own port.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setup } from './helpers.mjs';

let env;
before(async () => { env = await setup({ seed: 'demo' }); });
after(() => env.close());

test('pipelines: create with statuses, update, the main one and 142/143 are protected', async () => {
  const { api } = env;
  const created = await api.post('/api/v4/leads/pipelines', [{ name: 'Wholesale', sort: 30, is_main: false, is_unsorted_on: false, _embedded: { statuses: [{ name: 'New', sort: 10, color: '#fffeb2' }] } }]);
  assert.equal(created.status, 200, created.text);
  const p = created.body._embedded.pipelines[0];
  assert.deepEqual(p._embedded.statuses.map((s) => s.id).slice(-2), [142, 143]);
  assert.equal((await api.patch(`/api/v4/leads/pipelines/${p.id}`, { name: 'Wholesale EU' })).body.name, 'Wholesale EU');
  const bad = await api.post(`/api/v4/leads/pipelines/${p.id}/statuses`, [{ name: 'Pink', sort: 20, color: '#ff00ff' }]);
  assert.equal(bad.status, 400);
  const st = (await api.post(`/api/v4/leads/pipelines/${p.id}/statuses`, [{ name: 'Won?', sort: 20, color: '#98CBFF' }])).body._embedded.statuses[0];
  assert.equal(st.color, '#98cbff');
  assert.equal((await api.patch(`/api/v4/leads/pipelines/${p.id}/statuses/142`, { name: 'x' })).status, 403);
  assert.equal((await api.del(`/api/v4/leads/pipelines/${p.id}/statuses/${st.id}`)).status, 204);
  const main = (await api.get('/api/v4/leads/pipelines')).body._embedded.pipelines.find((x) => x.is_main);
  assert.equal((await api.del(`/api/v4/leads/pipelines/${main.id}`)).status, 422);
  assert.equal((await api.del(`/api/v4/leads/pipelines/${p.id}`)).status, 204);
});

test('custom fields and groups, loss reasons, sources, users and roles', async () => {
  const { api } = env;
  const f = await api.post('/api/v4/leads/custom_fields', [{ name: 'Channel', type: 'select', enums: [{ value: 'Web', sort: 10 }] }]);
  assert.equal(f.status, 201, f.text);
  const field = f.body._embedded.custom_fields[0];
  assert.equal((await api.post('/api/v4/leads/custom_fields', [{ name: 'X', type: 'select' }])).status, 400, 'a select needs options');
  assert.equal((await api.patch(`/api/v4/leads/custom_fields/${field.id}`, { name: 'Channel 2' })).body.name, 'Channel 2');
  const g = (await api.post('/api/v4/leads/custom_fields/groups', [{ name: 'Marketing', sort: 5 }])).body._embedded.custom_field_groups[0];
  assert.match(g.id, /^leads_\d+$/);
  assert.equal((await api.get('/api/v4/leads/custom_fields/groups/leads_1')).status, 404);
  assert.equal((await api.patch(`/api/v4/leads/custom_fields/groups/${g.id}`, { fields: [field.id] })).status, 200);
  assert.equal((await api.get(`/api/v4/leads/custom_fields/${field.id}`)).body.group_id, g.id);
  assert.equal((await api.del(`/api/v4/leads/custom_fields/groups/${g.id}`)).status, 204);
  assert.equal((await api.del(`/api/v4/leads/custom_fields/${field.id}`)).status, 204);
  const r = (await api.post('/api/v4/leads/loss_reasons', [{ name: 'Too expensive', sort: 5 }])).body._embedded.loss_reasons[0];
  assert.equal((await api.patch(`/api/v4/leads/loss_reasons/${r.id}`, { name: 'Price' })).body.name, 'Price');
  assert.equal((await api.del(`/api/v4/leads/loss_reasons/${r.id}`)).status, 204);
  const s = (await api.post('/api/v4/sources', [{ name: 'Shop', external_id: 'shop-1' }])).body._embedded.sources[0];
  assert.equal((await api.post('/api/v4/sources', [{ name: 'Again', external_id: 'shop-1' }])).status, 400);
  assert.equal((await api.patch('/api/v4/sources', [{ id: s.id, name: 'Shop 2' }])).body._embedded.sources[0].name, 'Shop 2');
  assert.equal((await api.del(`/api/v4/sources/${s.id}`)).status, 204);
  const u = await api.post('/api/v4/users', [{ name: 'Ann', email: 'ann@example.com', password: 'Secret12' }]);
  assert.equal(u.status, 201, u.text);
  assert.equal((await api.post('/api/v4/users', [{ name: 'Bob', email: 'bob@example.com', password: 'weak' }])).status, 400);
  assert.equal((await api.post('/api/v4/users', Array.from({ length: 11 }, (_, i) => ({ name: `U${i}`, email: `u${i}@x.io` })))).status, 400, 'at most 10 per request');
  assert.equal((await api.get('/api/v4/roles')).body._embedded.roles[0].name, 'Managers');
});

test('calls are matched by the last 10 digits; unmatched ones are reported by request_id', async () => {
  const { api, admin } = env;
  const contact = (await api.post('/api/v4/contacts', [{ name: 'Caller', custom_fields_values: [{ field_code: 'PHONE', values: [{ value: '+7 (912) 555-01-23' }] }] }])).body._embedded.contacts[0];
  const mixed = await api.post('/api/v4/calls', [
    { direction: 'inbound', duration: 60, source: 'pbx', phone: '89125550123', request_id: 'a' },
    { direction: 'inbound', duration: 5, source: 'pbx', phone: '+1 555 000 0000', request_id: 'b' },
  ]);
  assert.equal(mixed.status, 200, mixed.text);
  assert.equal(mixed.body._embedded.calls[0].entity_id, contact.id);
  assert.deepEqual(mixed.body.errors.map((e) => e.request_id), ['b']);
  const none = await api.post('/api/v4/calls', [{ direction: 'outbound', duration: 1, source: 'pbx', phone: '000' }]);
  assert.equal(none.status, 400);
  assert.equal(none.body.errors[0].title, 'Entity not found');
  void admin;
});

test('talks close once, salesbots run and stop', async () => {
  const { api } = env;
  assert.equal((await api.get('/api/v4/talks/501')).body.talk_id, 501);
  assert.equal((await api.get('/api/v4/talks/9')).status, 404);
  assert.equal((await api.post('/api/v4/talks/501/close', { force_close: true })).status, 202);
  assert.equal((await api.post('/api/v4/talks/501/close', { force_close: true })).status, 422);
  assert.equal((await api.post('/api/v2/salesbot/run', [{ bot_id: 77, entity_id: 20000001, entity_type: 2 }])).status, 202);
  assert.equal((await api.post('/api/v2/salesbot/77/stop', { entity_id: 20000001, entity_type: 2 })).status, 202);
});

test('the drive: a session, parts of max_part_size to next_url, the file, a link on a lead, the bytes back', async () => {
  const { api, emu, token } = env;
  const account = (await api.get('/api/v4/account?with=drive_url')).body;
  assert.equal(account.drive_url, emu.driveUrl);
  const bytes = Buffer.alloc(1_200_000, 7);
  const auth = { authorization: `Bearer ${token}` };
  assert.equal((await fetch(`${emu.driveUrl}/v1.0/sessions`, { method: 'POST', body: '{}' })).status, 401, 'the drive wants the token');
  let r = await (await fetch(`${emu.driveUrl}/v1.0/sessions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ file_name: 'a.bin', file_size: bytes.length, content_type: 'application/octet-stream' }) })).json();
  let url = r.upload_url;
  let file;
  for (let at = 0; at < bytes.length; at += r.max_part_size ?? 524288) {
    const res = await (await fetch(url, { method: 'POST', headers: auth, body: bytes.subarray(at, at + 524288) })).json();
    if (res.next_url) url = res.next_url;
    else file = res;
  }
  assert.equal(file.size, bytes.length);
  assert.equal((await api.call('PUT', '/api/v4/leads/20000001/files', [{ file_uuid: file.uuid }])).status, 202);
  assert.equal((await api.get('/api/v4/leads/20000001/files')).body._embedded.files[0].file_uuid, file.uuid);
  const back = Buffer.from(await (await fetch(file._links.download.href, { headers: auth })).arrayBuffer());
  assert.ok(back.equals(bytes));
});

test('driveUrls: each account read reports the next address, then the drive again; the drive logs who sent a token', async () => {
  const { api, admin, emu } = env;
  await admin('POST', '/_admin/config', { driveUrls: ['https://evil.test', 'http://user@127.0.0.1:9'] });
  const read = async () => (await api.get('/api/v4/account?with=drive_url')).body.drive_url;
  assert.deepEqual([await read(), await read(), await read()], ['https://evil.test', 'http://user@127.0.0.1:9', emu.driveUrl]);
  const before = emu.state.driveLog.length;
  await fetch(`${emu.driveUrl}/v1.0/files/none`);
  assert.deepEqual(emu.state.driveLog.slice(before).map((e) => [e.method, e.path, e.status, e.auth]), [['GET', '/v1.0/files/none', 401, false]]);
});
