// The AmoCRM Lead node's Get operation, driven through its real execute()
// with a fake n8n context: which request it asks n8n to send, what it emits.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dist, fakeContext, json, longLivedCredential } from './fake-n8n.mjs';

const { AmoCrmLead } = dist('nodes/AmoCrmLead/AmoCrmLead.node.js');

const node = new AmoCrmLead();
const getParams = (leadId, extra = {}) => ({ authentication: 'amoCrmKommoApi', operation: 'get', leadId, with: [], ...extra });

test('Get sends one authenticated GET per item with the chosen embeds, and returns the lead as amoCRM sent it', async () => {
  const lead = { id: 12345, name: 'Big deal', price: 9000000000123, _embedded: { contacts: [{ id: 1, is_main: true }] } };
  const ctx = fakeContext({
    params: getParams({ __rl: true, mode: 'id', value: '12345' }, { with: ['contacts', 'loss_reason'] }),
    respond: () => json(200, '{"id":12345,"name":"Big deal","price":9000000000123,"_embedded":{"contacts":[{"id":1,"is_main":true}]}}'),
  });
  const [out] = await node.execute.call(ctx);
  assert.equal(ctx.requests.length, 1);
  const r = ctx.requests[0];
  assert.equal(r.method, 'GET');
  assert.equal(r.url, 'http://127.0.0.1:9/api/v4/leads/12345?with=contacts,loss_reason');
  assert.equal(r.headers.Authorization, 'Bearer LLT-secret-token');
  assert.equal(r.body, undefined);
  assert.equal(r.encoding, 'arraybuffer');
  assert.equal(r.disableFollowRedirect, true);
  assert.deepEqual(out, [{ json: lead, pairedItem: { item: 0 } }]);
});

test('Get accepts a lead card URL and pairs each output with its input item', async () => {
  const ctx = fakeContext({
    items: [{ json: {} }, { json: {} }],
    params: (name, i) =>
      getParams(i === 0 ? { __rl: true, mode: 'url', value: 'http://127.0.0.1:9/leads/detail/7' } : { __rl: true, mode: 'id', value: '8' })[name],
    respond: (r) => json(200, { id: Number(r.url.split('/').pop()) }),
  });
  const [out] = await node.execute.call(ctx);
  assert.deepEqual(ctx.requests.map((r) => r.url).sort(), ['http://127.0.0.1:9/api/v4/leads/7', 'http://127.0.0.1:9/api/v4/leads/8']);
  assert.deepEqual(out, [
    { json: { id: 7 }, pairedItem: { item: 0 } },
    { json: { id: 8 }, pairedItem: { item: 1 } },
  ]);
});

test('a missing lead (204) is a clear error, or an error item under Continue on Fail', async () => {
  const params = getParams({ __rl: true, mode: 'id', value: '404' });
  const ctx = fakeContext({ params, respond: () => ({ status: 204, body: '' }) });
  await assert.rejects(node.execute.call(ctx), (e) => {
    assert.equal(e.message, 'Lead 404 not found');
    assert.equal(e.context?.itemIndex, 0);
    return true;
  });
  const lenient = fakeContext({ params, continueOnFail: true, respond: () => ({ status: 204, body: '' }) });
  const [out] = await node.execute.call(lenient);
  assert.equal(out.length, 1);
  assert.equal(out[0].json.error, 'Lead 404 not found');
  assert.deepEqual(out[0].pairedItem, { item: 0 });
});

test('a bad lead ID names the item and the field, and no request is sent', async () => {
  const ctx = fakeContext({
    items: [{ json: {} }, { json: {} }],
    params: (name, i) => getParams({ __rl: true, mode: 'id', value: i === 0 ? '1' : '12a' })[name],
    respond: () => json(200, { id: 1 }),
  });
  await assert.rejects(node.execute.call(ctx), /Item 1, field "Lead": "12a" is not a lead ID/);
  assert.equal(ctx.requests.length, 0);
});

test('a refused account address fails before any request, without the token in the message', async () => {
  const ctx = fakeContext({
    params: getParams({ __rl: true, mode: 'id', value: '1' }),
    credentials: longLivedCredential({ environment: 'local', baseUrl: 'http://10.0.0.5:80' }),
    respond: () => json(200, { id: 1 }),
  });
  await assert.rejects(node.execute.call(ctx), (e) => {
    assert.match(e.message, /not a loopback address/);
    assert.doesNotMatch(JSON.stringify(e), /LLT-secret-token/);
    return true;
  });
  assert.equal(ctx.requests.length, 0);
});

test('a 401 with a long-lived token is reported once, with what to do, and no token in the error', async () => {
  const ctx = fakeContext({
    params: getParams({ __rl: true, mode: 'id', value: '1' }),
    respond: () =>
      json(401, { title: 'Unauthorized', type: 'https://httpstatus.es/401', status: 401, detail: 'Неверный логин или пароль' }, { 'x-request-id': 'rid-1' }),
  });
  await assert.rejects(node.execute.call(ctx), (e) => {
    assert.equal(e.message, 'Getting lead 1: amoCRM did not accept the credential (401): Неверный логин или пароль');
    assert.match(e.description, /long-lived token/);
    assert.match(e.description, /rid-1/);
    assert.equal(e.httpCode, '401');
    assert.doesNotMatch(JSON.stringify(e), /LLT-secret-token/);
    return true;
  });
  assert.equal(ctx.requests.length, 1);
});

test('server errors on a read are retried, then succeed', async () => {
  let calls = 0;
  const ctx = fakeContext({
    params: getParams({ __rl: true, mode: 'id', value: '5' }),
    respond: () => (++calls === 1 ? { status: 503, body: '<html>503</html>', headers: { 'content-type': 'text/html' } } : json(200, { id: 5 })),
  });
  const [out] = await node.execute.call(ctx);
  assert.equal(ctx.requests.length, 2);
  assert.deepEqual(out[0].json, { id: 5 });
});

test('an OAuth2 credential never connected is named as such, in each shape n8n reports it, and nothing is retried', async () => {
  // n8n wraps its own refusal in a NodeApiError whose message is the OAuth
  // client's text; older data lacking the grant type gives the second one.
  for (const text of ['OAuth credentials not connected', 'Unable to sign without access token']) {
    let calls = 0;
    const ctx = fakeContext({
      params: getParams({ __rl: true, mode: 'id', value: '1' }),
      respond: () => {
        calls++;
        throw Object.assign(new Error(text), { name: 'NodeApiError', cause: new Error(text), description: undefined });
      },
    });
    await assert.rejects(node.execute.call(ctx), (e) => {
      assert.equal(e.message, 'Getting lead 1: This amoCRM credential is not connected yet: open it and click Connect my account');
      assert.match(e.description, /Connect my account/);
      return true;
    });
    assert.equal(calls, 1, text);
  }
});
