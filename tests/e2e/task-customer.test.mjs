// AmoCRM Task and AmoCRM Customer in a real n8n against the emulator: every
// operation of both nodes, deadlines given in hours, at the end of the day or
// as a date (and one in the past refused before sending), customers switched
// off and on again, and 1,000 tasks for 1,000 leads in ⌈1,000 / 50⌉ creates.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  Amo, CUSTOMER_NODE, TASK_NODE, VERSIONS, amoNode, byId, chain, emulator, expectOk, longLivedCredential, n8nWithPackage, pipeline, runWorkflow,
} from './support.mjs';

const JOHN = 39000001;
const ACME = 49000001;
const ACME_SUPPLY = 60000001; // customer
const LOYALTY_CARD = 900301; // customer text field
const NEW_CUSTOMER = 62000001; // customer status
const SEND_PROPOSAL = 2190001; // the account's own task type
const MAIN_USER = 8000001;
const MARIA = 8000002;

const task = (name, params, cred, extra) => amoNode(TASK_NODE, name, params, cred, extra);
const customer = (name, params, cred, extra) => amoNode(CUSTOMER_NODE, name, params, cred, extra);
const iso = (ms) => new Date(ms).toISOString();
const HOUR = 3_600_000;

/** Every node's error items, by node, for one assertion with the whole picture. */
const errorsOf = (run, except = []) =>
  Object.fromEntries(
    run.nodeNames
      .filter((n) => !except.includes(n))
      .map((n) => [n, run.json(n).find((i) => i.error)?.error])
      .filter(([, e]) => e),
  );

describe('AmoCRM Task and AmoCRM Customer', { concurrency: 1 }, () => {
  for (const version of VERSIONS) {
    describe(`n8n ${version}`, { concurrency: 1 }, () => {
      /** @type {Amo} */ let amo;
      let n8n;
      let token;
      let cred;

      before(async () => {
        amo = await emulator({ seed: 'base', rateLimit: 7 });
        token = await amo.longLivedToken();
        n8n = await n8nWithPackage(version);
        [cred] = await n8n.importCredentials([longLivedCredential(amo, token)]);
      });

      after(async () => {
        await n8n?.cleanup();
        await amo?.close();
      });

      test('every operation of both nodes, with deadlines resolved at run time and customers switched off and on', async () => {
        const lead = (await amo.api(token, 'POST', '/api/v4/leads', [{ name: 'Deal with a task' }])).body._embedded.leads[0].id;
        const now = Date.now();
        const taskId = `={{ $('Create task').item.json.id }}`;
        const customerId = byId(`={{ $('Create customer').item.json.id }}`);
        const wf = chain('tasks and customers', [
          task('Create task', {
            operation: 'create', text: 'Call Anna back', deadline: 'inHours', deadlineHours: 3,
            attachTo: 'leads', leadId: byId(lead), additionalFields: { taskTypeId: 2, duration: 1800 },
          }, cred),
          task('Create at end of day', { operation: 'create', text: 'Send the offer', deadline: 'endOfDay', attachTo: 'contacts', contactId: byId(JOHN), additionalFields: {} }, cred),
          task('Create dated', {
            operation: 'create', text: 'Visit the office', deadline: 'date', deadlineDate: iso(now + 50 * HOUR),
            attachTo: 'companies', attachId: String(ACME), additionalFields: { taskTypeId: SEND_PROPOSAL },
          }, cred),
          task('Past deadline', { operation: 'create', text: 'Too late', deadline: 'date', deadlineDate: '2020-01-01T10:00:00Z', additionalFields: {} }, cred),
          task('Get task', { operation: 'get', taskId: byId(taskId) }, cred),
          task('Update task', {
            operation: 'update', taskId: byId(taskId), deadline: 'date', deadlineDate: iso(now + 48 * HOUR),
            attachTo: 'customers', attachId: String(ACME_SUPPLY), updateFields: { text: 'Call Anna back (moved)', responsibleUserId: MARIA },
          }, cred),
          task('Complete task', { operation: 'complete', taskId: byId(taskId), resultText: 'Called; she pays on Friday' }, cred),
          task('Done on the customer', {
            operation: 'getMany', returnAll: true, filters: { entityType: 'customers', entityIds: String(ACME_SUPPLY), completed: 'yes' }, options: {},
          }, cred),
          task('Due this week', {
            operation: 'getMany', returnAll: false, limit: 10,
            filters: { completeTillFrom: iso(now), completeTillTo: iso(now + 7 * 24 * HOUR), completed: 'no', taskTypeIds: ['1', String(SEND_PROPOSAL)], responsibleUserIds: [MAIN_USER] },
            options: { sortBy: 'complete_till', sortDirection: 'asc' },
          }, cred),
          task('Task custom call', { operation: 'customRequest', method: 'GET', path: '/api/v4/account', query: '{"with": "task_types"}' }, cred),
          customer('Create customer', {
            operation: 'create', name: 'Hooli annual supply', nextDate: iso(now + 30 * 24 * HOUR),
            additionalFields: { nextPrice: 5000, periodicity: 30, statusId: NEW_CUSTOMER, tags: 'n8n' },
            customFields: { mappingMode: 'defineBelow', value: { [LOYALTY_CARD]: 'LC-42' } },
          }, cred),
          customer('Get customer', { operation: 'get', customerId, with: ['contacts'], simplify: true }, cred),
          customer('Find customers', { operation: 'getMany', returnAll: true, filters: { statusIds: [String(NEW_CUSTOMER)], names: 'Hooli annual supply' } }, cred),
          customer('Update customer', { operation: 'update', customerId, updateFields: { nextPrice: 7000, tagsToAdd: 'vip' } }, cred),
          customer('Link contact', { operation: 'link', customerId, contactIds: String(JOHN) }, cred),
          customer('Customer links', { operation: 'getLinks', customerId, filters: {} }, cred),
          customer('Unlink contact', { operation: 'unlink', customerId, contactIds: String(JOHN) }, cred),
          customer('Customer note', { operation: 'addNote', customerId, noteType: 'common', text: 'Renewal talk in May' }, cred),
          customer('Customer notes', { operation: 'getNotes', customerId, returnAll: true, filters: {} }, cred),
          customer('Add purchase', { operation: 'addTransaction', customerId, price: 1200, additionalFields: { comment: 'Order 77', nextPrice: 1500 } }, cred),
          customer('Purchases', { operation: 'getTransactions', customerId, returnAll: true }, cred),
          customer('All purchases', { operation: 'getTransactions', customerId: { __rl: true, mode: 'list', value: '' }, returnAll: false, limit: 3 }, cred),
          customer('Delete purchase', { operation: 'deleteTransaction', transactionId: `={{ $('Add purchase').item.json.id }}` }, cred),
          customer('Switch off', { operation: 'customRequest', method: 'PATCH', path: '/api/v4/customers/mode', body: '{"mode": "periodicity", "is_enabled": false}' }, cred),
          customer('Customers off', { operation: 'get', customerId: byId(ACME_SUPPLY) }, cred),
          customer('Switch on', { operation: 'customRequest', method: 'PATCH', path: '/api/v4/customers/mode', body: '{"mode": "periodicity", "is_enabled": true}' }, cred),
        ]);
        await amo.resetStats();
        const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
        assert.deepEqual(errorsOf(run, ['Past deadline', 'Customers off']), {});

        // Tasks. Deadlines are Unix seconds computed when the node ran.
        const [created] = run.json('Create task');
        assert.equal(created.text, 'Call Anna back');
        assert.deepEqual([created.entity_type, created.entity_id, created.task_type_id, created.duration], ['leads', lead, 2, 1800]);
        assert.ok(Math.abs(created.complete_till * 1000 - (now + 3 * HOUR)) < 5 * 60_000, `${created.complete_till}`);
        const [eod] = run.json('Create at end of day');
        // 23:59 in the account's zone (Europe/Moscow, +03:00): 20:59 UTC.
        assert.equal(new Date(eod.complete_till * 1000).toISOString().slice(11), '20:59:00.000Z');
        assert.ok(eod.complete_till * 1000 > now && eod.complete_till * 1000 - now <= 24 * HOUR);
        assert.deepEqual([eod.entity_type, eod.entity_id], ['contacts', JOHN]);
        const [dated] = run.json('Create dated');
        assert.equal(dated.complete_till, Math.floor((now + 50 * HOUR) / 1000));
        assert.deepEqual([dated.entity_type, dated.task_type_id], ['companies', SEND_PROPOSAL]);
        const [past] = run.json('Past deadline');
        assert.match(past.error, /^Item 0, field "Deadline": 2020-01-01T10:00:00Z is in the past/);
        assert.equal(run.json('Get task')[0].id, created.id);
        const [updated] = run.json('Update task');
        assert.deepEqual(
          [updated.text, updated.entity_type, updated.entity_id, updated.responsible_user_id, updated.complete_till],
          ['Call Anna back (moved)', 'customers', ACME_SUPPLY, MARIA, Math.floor((now + 48 * HOUR) / 1000)],
        );
        const [completed] = run.json('Complete task');
        assert.equal(completed.is_completed, true);
        assert.deepEqual(completed.result, { text: 'Called; she pays on Friday' });
        assert.ok(run.json('Done on the customer').some((t) => t.id === created.id));
        assert.deepEqual(run.json('Due this week').map((t) => t.id), [eod.id, dated.id], 'open, due within the week, in deadline order');
        assert.ok(run.json('Task custom call')[0]._embedded.task_types.some((t) => t.id === SEND_PROPOSAL));
        // Nothing was sent for the past deadline: three creates, one update, one complete.
        const stats = await amo.stats();
        assert.deepEqual(stats.calls['POST /api/v4/tasks'], { 200: 3 });
        assert.deepEqual(stats.calls['PATCH /api/v4/tasks'], { 200: 2 });

        // Customers.
        const [hooli] = run.json('Create customer');
        assert.deepEqual([hooli.name, hooli.next_price, hooli.periodicity, hooli.status_id], ['Hooli annual supply', 5000, 30, NEW_CUSTOMER]);
        const simple = run.json('Get customer')[0];
        assert.deepEqual([simple.id, simple.custom_fields['Loyalty card'], simple.tags], [hooli.id, 'LC-42', ['n8n']]);
        assert.deepEqual(run.json('Find customers').map((c) => c.id), [hooli.id]);
        const [changed] = run.json('Update customer');
        assert.equal(changed.next_price, 7000);
        assert.deepEqual(changed._embedded.tags.map((t) => t.name).sort(), ['n8n', 'vip']);
        assert.deepEqual(run.json('Customer links').map((l) => [l.to_entity_type, l.to_entity_id]), [['contacts', JOHN]]);
        assert.equal(run.json('Unlink contact')[0].unlinked, true);
        assert.equal(run.json('Customer notes')[0].params.text, 'Renewal talk in May');
        const [purchase] = run.json('Add purchase');
        assert.deepEqual([purchase.price, purchase.comment, purchase.customer_id], [1200, 'Order 77', hooli.id]);
        assert.deepEqual(run.json('Purchases').map((t) => t.id), [purchase.id]);
        assert.equal(run.json('All purchases').length, 3, 'every customer\'s, limited');
        assert.deepEqual(run.json('Delete purchase')[0], { id: purchase.id, deleted: true });
        const [off] = run.json('Customers off');
        assert.match(off.error, /Customers are switched off in this amoCRM account/);
        assert.match(off.description, /Settings → General settings → Customers/);
        assert.equal(run.json('Switch on')[0].is_enabled, true);
        // The run used the second's budget of 7 requests: let it pass.
        await new Promise((resolve) => setTimeout(resolve, 1100));
        const stored = (await amo.api(token, 'GET', `/api/v4/customers/${hooli.id}?with=contacts`)).body;
        assert.deepEqual([stored.ltv, stored.purchases_count, stored.next_price], [0, 0, 1500], 'the deleted purchase is taken back; its next price stays');
        assert.deepEqual(stored._embedded.contacts ?? [], [], 'unlinked from John');
      });

      test('1,000 tasks for 1,000 leads in ⌈1,000 / 50⌉ creates; 1,000 customers in 4 of 250', async () => {
        // The request count is the point here, not amoCRM's 7 per second.
        await amo.admin('POST', '/config', { rateLimit: 0 });
        const { ids } = await amo.admin('POST', '/leads', Array.from({ length: 1000 }, (_, i) => ({ name: `Lead to call ${i}` })));
        const [fast] = await n8n.importCredentials([longLivedCredential(amo, token, { requestsPerSecond: 50 })]);
        const wf = pipeline('bulk tasks', ids.map((lead, i) => ({ lead, i })), [
          task('Tasks', {
            operation: 'create', text: '={{ "Call lead " + $json.i }}', deadline: 'inHours', deadlineHours: 48,
            attachTo: 'leads', leadId: byId('={{ $json.lead }}'), additionalFields: {},
          }, fast),
          customer('Customers', {
            operation: 'create', name: '={{ "Buyer of task " + $json.id }}', nextDate: iso(Date.now() + 90 * 24 * HOUR),
            additionalFields: {}, options: { batchSize: 250 },
          }, fast),
        ]);
        await amo.resetStats();
        const run = await runWorkflow(n8n, wf);
        const stats = await amo.stats();
        await amo.admin('POST', '/config', { rateLimit: 7 });
        const tasks = run.items('Tasks');
        assert.equal(tasks.length, 1000);
        assert.deepEqual(tasks.map((t) => t.pairedItem.item), [...Array(1000).keys()]);
        for (const [i, t] of tasks.entries()) {
          assert.equal(t.json.error, undefined, `item ${i}: ${t.json.error}`);
          assert.deepEqual([t.json.entity_type, t.json.entity_id, t.json.text], ['leads', ids[i], `Call lead ${i}`], `item ${i}`);
        }
        const creates = stats.calls['POST /api/v4/tasks'];
        const readBacks = stats.calls['GET /api/v4/tasks'];
        console.log(`[tasks] ${version}: 1,000 tasks for 1,000 leads → ${creates[200]} creates (+ ${readBacks[200]} read-backs), ${stats.requests} requests in all, ${run.ms} ms`);
        assert.deepEqual(creates, { 200: Math.ceil(1000 / 50) });
        assert.deepEqual(readBacks, { 200: Math.ceil(1000 / 50) }, 'one read of the new tasks per batch');
        const customers = run.items('Customers');
        assert.equal(customers.length, 1000);
        assert.equal(customers[999].json.name, `Buyer of task ${tasks[999].json.id}`);
        assert.deepEqual(stats.calls['POST /api/v4/customers'], { 200: 4 });
      });
    });
  }
});
