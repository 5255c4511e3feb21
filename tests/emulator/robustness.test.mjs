// "Never crashes on bad input": garbage queries and bodies must give 4xx, never 5xx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './helpers.mjs';

let env;
before(async () => { env = await setup({ seed: { leads: 20, contactsPerLead: 1, maxNotesPerLead: 2 } }); });
after(() => env.close());

const GETS = [
  '/api/v4/leads?filter[statuses]=abc', '/api/v4/leads?filter[custom_fields_values]=x', '/api/v4/leads?filter[custom_fields_values][abc]=1',
  '/api/v4/leads?with[]=contacts', '/api/v4/leads?order=abc', '/api/v4/leads?filter=', '/api/v4/leads?filter[price][from]=x',
  '/api/v4/leads?%E0%A4%A=1', '/api/v4/leads/%zz', '/api/v4/leads?filter[statuses][0]=1', '/api/v4/leads?query[]=a', '/api/v4/leads?page[x]=1',
  '/api/v4/leads?limit[]=1', '/api/v4/leads?filter[name][a][b]=c', '/api/v4/leads?filter[__proto__][x]=1', '/api/v4/leads?__proto__[polluted]=1',
  '/api/v4/leads/notes?filter[updated_at][from][x]=1', '/api/v4/leads/links?filter[entity_id]=abc', '/api/v4/leads/tags?filter[name][0][1]=x',
  '/api/v4/contacts?query[]=1', '/api/v4/leads/custom_fields?filter[type][a][b]=', '/api/v4/webhooks?filter[destination][0]=x',
  '/api/v4/leads/notes?filter[note_type][a]=b', '/oauth?client_id[]=x', '/api/v4/leads?order[created_at][x]=desc', '/api/v4/leads?with=a,,b,,',
  '/api/v4/leads?filter[custom_fields_values][900001][a][b]=1', '/api/v4/leads/20000001/links?filter[to_entity_id][a]=1',
];
const BODIES = [
  'null', '"str"', '[null]', '[[]]', '[1]', '[{"_embedded":[]}]', '[{"custom_fields_values":[{"field_id":900001,"values":[null]}]}]',
  '[{"custom_fields_values":[null]}]', '[{"tags_to_delete":[{"name":"x"}]}]', '[{"_embedded":{"tags":"x","contacts":{},"companies":[null],"source":[]}}]',
  '[{"id":"20000001","name":1}]', '[{"id":20000001,"_embedded":{"tags":[{"id":"1"}]}}]', '{"a":1}', '[{"status_id":"142"}]',
  '[{"pipeline_id":null,"status_id":null}]', '[{"custom_fields_values":[{"field_id":"900001","values":[{"enum_id":"x"}]}]}]',
  '[{"custom_fields_values":[{"field_code":5}]}]', '[{"price":1e400}]', '[{"entity_id":20000001,"note_type":"common","params":null}]',
  '[{"to_entity_type":"contacts","to_entity_id":null}]', '[{"entity_id":"x"}]', '{"destination":5,"settings":"x"}',
  '[{"name":"x","_embedded":{"contacts":[{"custom_fields_values":"x"}],"companies":[1]}}]', '{"destination":"http://x","settings":[null]}',
  '{', '\u0000', '[{"name":"x"}]]',
];
const POSTS = ['/api/v4/leads', '/api/v4/leads/complex', '/api/v4/leads/notes', '/api/v4/leads/20000001/notes', '/api/v4/leads/link',
  '/api/v4/leads/unlink', '/api/v4/leads/20000001/link', '/api/v4/leads/20000001/unlink', '/api/v4/leads/tags', '/api/v4/contacts',
  '/api/v4/companies', '/api/v4/webhooks', '/oauth2/access_token', '/oauth/allow'];
const ADMIN = ['/_admin/faults', '/_admin/config', '/_admin/webhooks/emit', '/_admin/oauth/tokens', '/_admin/long-lived-token',
  '/_admin/tokens/expire', '/_admin/leads', '/_admin/clock', '/_admin/oauth/code'];

test('garbage queries and bodies never produce a 5xx', async () => {
  const headers = { authorization: `Bearer ${env.token}`, 'content-type': 'application/json' };
  const failures = [];
  const check = async (method, path, body) => {
    const r = await fetch(env.emu.url + path, { method, headers, body, redirect: 'manual' });
    const text = await r.text();
    if (r.status >= 500) failures.push(`${method} ${path} ${body ?? ''} → ${r.status} ${text}`);
  };
  for (const g of GETS) await check('GET', g);
  for (const p of POSTS) for (const b of BODIES) await check('POST', p, b);
  for (const p of ['/api/v4/leads', '/api/v4/leads/20000001', '/api/v4/leads/notes']) for (const b of BODIES) await check('PATCH', p, b);
  for (const b of BODIES) await check('DELETE', '/api/v4/webhooks', b);
  for (const p of ADMIN) for (const b of BODIES) await check('POST', p, b);
  const cid = env.emu.state.integration.clientId;
  await check('GET', `/oauth?client_id=${cid}&redirect_uri[]=x&state[a]=1&mode[x]=y`);
  await check('GET', `/oauth/allow?client_id=${cid}&state[a]=1`);
  for (const body of [`grant_type=authorization_code&client_id=${cid}&redirect_uri[a]=1`, 'client_id[x]=1&grant_type[]=refresh_token', `grant_type=refresh_token&client_id=${cid}&refresh_token[0]=x&redirect_uri=y`]) {
    const r = await fetch(`${env.emu.url}/oauth2/access_token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    if (r.status >= 500) failures.push(`token ${body} → ${r.status}`);
  }
  assert.deepEqual(failures, []);
  assert.equal(({}).polluted, undefined);
  assert.equal((await env.api.get('/api/v4/account')).status, 200); // still alive
});
