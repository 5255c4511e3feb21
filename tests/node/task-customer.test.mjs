// The AmoCRM Task and AmoCRM Customer nodes through their execute(), with a
// fake n8n: what they offer n8n and AI agents, a deadline settled when the
// node runs, a past one refused before any request, and customers switched
// off explained.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dist, fakeContext, json } from './fake-n8n.mjs';

const { AmoCrmTask } = dist('nodes/AmoCrmTask/AmoCrmTask.node.js');
const { AmoCrmCustomer } = dist('nodes/AmoCrmCustomer/AmoCrmCustomer.node.js');

const operations = (node) => node.description.properties.find((p) => p.name === 'operation').options.map((o) => o.value);
const property = (node, name, operation) =>
  node.description.properties.find((p) => p.name === name && p.displayOptions?.show?.operation?.includes(operation));

test('both nodes are tools with every operation, the Custom API Call last', () => {
  const task = new AmoCrmTask();
  const customer = new AmoCrmCustomer();
  assert.equal(task.description.usableAsTool, true);
  assert.equal(customer.description.usableAsTool, true);
  assert.deepEqual(operations(task), ['complete', 'create', 'get', 'getMany', 'update', 'customRequest']);
  assert.deepEqual(operations(customer), [
    'addNote', 'addTransaction', 'create', 'deleteTransaction', 'get', 'getLinks', 'getMany', 'getNotes', 'getTransactions', 'link',
    'unlink', 'update', 'customRequest',
  ]);
  // Tasks are named by ID (amoCRM has no text search over them); their lead is picked among leads.
  assert.deepEqual(property(task, 'taskId', 'get').modes.map((m) => m.name), ['id']);
  assert.equal(property(task, 'leadId', 'create').modes[0].typeOptions.searchListMethod, 'searchLeads');
  assert.equal(property(task, 'query', 'getMany'), undefined, 'no Search for tasks');
  assert.deepEqual(Object.keys(task.methods.listSearch).sort(), ['searchContacts', 'searchLeads', 'searchRecords']);
});

const taskParams = (extra) => (name) => ({ authentication: 'amoCrmKommoApi', operation: 'create', mapping: 'manual', text: 'Call back', additionalFields: {}, options: {}, ...extra })[name];

test('a deadline in hours is settled when the node runs; one in the past fails before any request', async () => {
  const before = Date.now();
  const ctx = fakeContext({
    params: taskParams({ deadline: 'inHours', deadlineHours: 2, attachTo: 'contacts', contactId: { __rl: true, mode: 'id', value: '39000001' } }),
    respond: (r) => (r.method === 'POST' ? json(200, { _embedded: { tasks: [{ id: 30000009, request_id: '0' }] } }) : json(200, { _embedded: { tasks: [{ id: 30000009, text: 'Call back' }] } })),
  });
  const [out] = await new AmoCrmTask().execute.call(ctx);
  const [sent] = JSON.parse(ctx.requests[0].body);
  assert.equal(ctx.requests[0].url, 'http://127.0.0.1:9/api/v4/tasks');
  assert.deepEqual([sent.text, sent.entity_type, sent.entity_id], ['Call back', 'contacts', 39000001]);
  assert.ok(sent.complete_till >= Math.floor(before / 1000) + 7200 && sent.complete_till <= Math.floor(Date.now() / 1000) + 7200);
  assert.deepEqual(out[0].json, { id: 30000009, text: 'Call back' });

  const past = fakeContext({ params: taskParams({ deadline: 'date', deadlineDate: '2020-01-01T10:00:00Z' }), respond: () => assert.fail('nothing is sent') });
  await assert.rejects(new AmoCrmTask().execute.call(past), /Item 0, field "Deadline": 2020-01-01T10:00:00Z is in the past/);
});

test('customers switched off: the error says where to switch them on', async () => {
  const ctx = fakeContext({
    params: (name) => ({ authentication: 'amoCrmKommoApi', operation: 'get', customerId: { __rl: true, mode: 'id', value: '60000001' }, with: [], simplify: false })[name],
    respond: () => ({ status: 422, headers: { 'content-type': 'application/problem+json' }, body: JSON.stringify({ title: 'Unprocessable Entity', status: 422, detail: 'Customers are disabled in the account' }) }),
    continueOnFail: true,
  });
  const [out] = await new AmoCrmCustomer().execute.call(ctx);
  assert.match(out[0].json.error, /Customers are switched off in this amoCRM account, or set to another mode \(422\)/);
  assert.match(out[0].json.description, /Settings → General settings → Customers/);
});
