// Writing leads in a real n8n against the emulator (amoCRM's 7 requests per
// second limit on): batching, pairing, per-item validation errors, a create
// that was applied although the client saw a 504, and every other operation
// that changes a lead.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Amo, VERSIONS, branches, chain, emulator, expectOk, leadNode, longLivedCredential, n8nWithPackage, pipeline } from './support.mjs';

const SOURCE_FIELD = 900001; // select: Сайт 500001, Реклама 500002, …
const BUDGET_FIELD = 900002; // numeric
const URGENT_FIELD = 900003; // checkbox
const SALES = 7000001;
const LOST = 143;
const TOO_EXPENSIVE = 3000001;

const id = (value) => ({ __rl: true, mode: 'id', value: String(value) });

describe('AmoCRM Lead › writes', { concurrency: 1 }, () => {
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

      test('1,000 items are created in 4 requests of 250, each output paired with its input', async () => {
        const list = Array.from({ length: 1000 }, (_, i) => ({ name: `Bulk lead ${i}`, price: i }));
        const wf = pipeline('bulk create', list, [
          leadNode('Create', { operation: 'create', name: '={{ $json.name }}', additionalFields: { price: '={{ $json.price }}' }, options: { batchSize: 250 } }, cred),
        ]);
        await amo.resetStats();
        const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
        const items = run.items('Create');
        assert.equal(items.length, 1000);
        assert.deepEqual(items.map((i) => i.pairedItem.item), [...Array(1000).keys()]);
        assert.equal(new Set(items.map((i) => i.json.id)).size, 1000);
        const calls = await amo.calls('POST /api/v4/leads');
        assert.deepEqual(calls, { 200: 4 });
        const stats = await amo.stats();
        assert.equal(stats.leadsCreated, 1000);
        assert.equal(stats.rateLimited, 0);
        // Pairing is by request_id: item 731's lead carries item 731's price.
        const lead = await amo.api(token, 'GET', `/api/v4/leads/${items[731].json.id}`);
        assert.equal(lead.body.name, 'Bulk lead 731');
        assert.equal(lead.body.price, 731);
      });

      test('a validation error lands on its item while the other items are created', async () => {
        const list = [0, 1, 2, 3, 4].map((i) => ({ name: `Checked ${i}`, user: i === 2 ? 99999999 : 8000001 }));
        const wf = pipeline('validation', list, [
          leadNode('Create', { operation: 'create', name: '={{ $json.name }}', additionalFields: { responsibleUserId: '={{ $json.user }}' } }, cred, { onError: 'continueRegularOutput' }),
        ]);
        await amo.resetStats();
        const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
        const out = run.items('Create');
        assert.equal(out.length, 5);
        const failed = out.filter((i) => i.json.error);
        assert.equal(failed.length, 1);
        assert.equal(failed[0].pairedItem.item, 2);
        assert.match(failed[0].json.error, /^Item 2: amoCRM rejected the lead: responsible_user_id/);
        assert.equal(out.filter((i) => i.json.id).length, 4);
        const stats = await amo.stats();
        assert.equal(stats.leadsCreated, 4);
        assert.deepEqual(stats.calls['POST /api/v4/leads'], { 200: 1, 400: 1 });
      });

      test('without Continue On Fail, a refused status says nothing of its batch was written, and names the batches that were', async () => {
        const list = [0, 1, 2, 3, 4].map((i) => ({ name: `Stopped ${i}`, status: i === 2 ? `${SALES}:999` : `${SALES}:142` }));
        const create = (options) =>
          pipeline('stop', list, [
            leadNode('Create', { operation: 'create', name: '={{ $json.name }}', additionalFields: { status: '={{ $json.status }}' }, options }, cred),
          ]);
        // One batch: nothing of it is written, and the message says so.
        await amo.resetStats();
        const one = await n8n.execute(await n8n.importWorkflow(create({})));
        assert.equal(one.ok, false);
        const error = one.task('Create').error;
        assert.match(error.message, /^Item 2: amoCRM rejected the lead: status_id/);
        assert.match(error.description, /nothing of the batch of items 0–4 was written/);
        assert.match(error.description, /Nothing was written to amoCRM before the node stopped/);
        assert.doesNotMatch(error.description, /were written|sent again/);
        let stats = await amo.stats();
        assert.equal(stats.leadsCreated, 0);
        assert.deepEqual(stats.calls['POST /api/v4/leads'], { 400: 1 });
        // Batches of two, one at a time: items 0 and 1 were written before the
        // refused batch, and the error names them with their IDs.
        await amo.resetStats();
        const few = await n8n.execute(await n8n.importWorkflow(create({ batchSize: 2 })));
        assert.equal(few.ok, false);
        const stopped = few.task('Create').error;
        stats = await amo.stats();
        assert.ok(stats.leadsCreated >= 2, `the first batch was written (${stats.leadsCreated})`);
        assert.match(stopped.description, /nothing of the batch of items 2, 3 was written/);
        assert.match(stopped.description, new RegExp(`Written to amoCRM before the node stopped \\(${stats.leadsCreated} of them`));
        assert.match(stopped.description, /items 0–1 → IDs \d+–\d+/);
      });

      test('with Continue On Fail, the refused item fails and the rest of its batch is sent again', async () => {
        const list = [0, 1, 2, 3, 4].map((i) => ({ name: `Resent ${i}`, status: i === 2 ? `${SALES}:999` : `${SALES}:142` }));
        const wf = pipeline('resend', list, [
          leadNode('Create', { operation: 'create', name: '={{ $json.name }}', additionalFields: { status: '={{ $json.status }}' } }, cred, { onError: 'continueRegularOutput' }),
        ]);
        await amo.resetStats();
        const out = expectOk(await n8n.execute(await n8n.importWorkflow(wf))).items('Create');
        assert.deepEqual(out.map((o) => (o.json.error ? 'error' : o.json.name)), ['Resent 0', 'Resent 1', 'error', 'Resent 3', 'Resent 4']);
        assert.match(out[2].json.description, /nothing of the batch of items 0–4 was written.*sent again without this one/s);
        const stats = await amo.stats();
        assert.equal(stats.leadsCreated, 4);
        assert.deepEqual(stats.calls['POST /api/v4/leads'], { 200: 1, 400: 1 });
      });

      test('fields mapped automatically: each item is written as it is, custom fields by name or ID, unknown fields refused by name', async () => {
        const list = [
          { name: 'Auto A', price: 100, status_id: 142, pipeline_id: SALES, tags: ['auto'], [String(BUDGET_FIELD)]: 5, Источник: 'Сайт' },
          { name: 'Auto B', price: '200', responsible_user_id: 8000002, custom_fields: { [String(URGENT_FIELD)]: true } },
          { name: 'Auto C', shoe_size: 44 },
        ];
        const wf = pipeline('auto', list, [
          leadNode('Create', { operation: 'create', mapping: 'auto', options: {} }, cred, { onError: 'continueRegularOutput' }),
          leadNode('Update', { operation: 'update', mapping: 'auto', options: { ignoreUnknownFields: true } }, cred, { onError: 'continueRegularOutput' }),
        ]);
        const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
        const [a, b, c] = run.json('Create');
        assert.equal(a.name, 'Auto A');
        assert.equal(a.price, 100);
        assert.equal(a.status_id, 142);
        assert.deepEqual(a._embedded.tags.map((t) => t.name), ['auto']);
        const value = (lead, id) => lead.custom_fields_values?.find((f) => f.field_id === id)?.values[0];
        assert.equal(Number(value(a, BUDGET_FIELD).value), 5);
        assert.equal(value(a, SOURCE_FIELD).value, 'Сайт');
        assert.equal(b.responsible_user_id, 8000002);
        assert.equal(value(b, URGENT_FIELD).value, true);
        assert.match(c.error, /^Item 2, field "shoe_size": is not a lead field .*nor a lead custom field of the account/);
        // The records read back go through Update as they are: read-only keys are ignored.
        const updated = run.json('Update');
        assert.deepEqual(updated.slice(0, 2).map((l) => l.name), ['Auto A', 'Auto B']);
      });

      test('a create applied although the client saw a 504 is reported, not sent again', async () => {
        const before = (await amo.admin('GET', '/leads/count')).count;
        await amo.admin('POST', '/faults', { method: 'POST', path: '/api/v4/leads', kind: 'after', status: 504 });
        const wf = pipeline('504', [{ name: 'Maybe A' }, { name: 'Maybe B' }], [
          leadNode('Create', { operation: 'create', name: '={{ $json.name }}', additionalFields: {} }, cred, { onError: 'continueRegularOutput' }),
        ]);
        await amo.resetStats();
        const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
        const out = run.json('Create');
        assert.equal(out.length, 2);
        for (const item of out) assert.match(item.error, /amoCRM answered 504 to the request that writes 2 leads \(items 0, 1\); it may have been applied anyway/);
        assert.deepEqual(await amo.calls('POST /api/v4/leads'), { 504: 1 });
        assert.equal((await amo.admin('GET', '/leads/count')).count, before + 2, 'created once, never duplicated');
      });

      test('Update, Create with Contact and Company, Link, Get Links, Unlink, Add Note, Get Notes, Custom API Call', async () => {
        const created = await amo.api(token, 'POST', '/api/v4/leads', [
          { name: 'To update', price: 5, _embedded: { tags: [{ name: 'old' }] }, custom_fields_values: [{ field_id: BUDGET_FIELD, values: [{ value: 10 }] }] },
          { name: 'To link' },
        ]);
        const [target, linked] = created.body._embedded.leads.map((l) => l.id);
        const contact = await amo.api(token, 'POST', '/api/v4/contacts', [{ name: 'Ivan Petrov' }]);
        const contactId = contact.body._embedded.contacts[0].id;
        const wf = chain('lead changes', [
          leadNode('Update', {
            operation: 'update',
            leadId: id(target),
            updateFields: { name: 'Updated', price: 777, status: `${SALES}:${LOST}`, lossReasonId: TOO_EXPENSIVE, tagsToAdd: 'new', tagsToRemove: 'old' },
            customFields: { mappingMode: 'defineBelow', value: { [SOURCE_FIELD]: 'Реклама', [URGENT_FIELD]: true } },
            customFieldsToClear: [String(BUDGET_FIELD)],
          }, cred),
          leadNode('Complex', {
            operation: 'createComplex',
            name: 'With contact',
            contact: { firstName: 'Anna', lastName: 'Smirnova', phone: '+7 900 111-22-33', email: 'anna@example.com' },
            company: { name: 'Smirnova LLC' },
            additionalFields: { price: 100 },
          }, cred),
          leadNode('Link', { operation: 'link', leadId: id(linked), contactIds: String(contactId), companyIds: '' }, cred),
          leadNode('Links after link', { operation: 'getLinks', leadId: id(linked), filters: {} }, cred),
          leadNode('Unlink', { operation: 'unlink', leadId: id(linked), contactIds: String(contactId), companyIds: '' }, cred),
          leadNode('Links after unlink', { operation: 'getLinks', leadId: id(linked), filters: {} }, cred, { alwaysOutputData: true }),
          leadNode('Note', { operation: 'addNote', leadId: id(linked), noteType: 'common', text: 'Called back, all good' }, cred),
          leadNode('Notes', { operation: 'getNotes', leadId: id(linked), returnAll: true, filters: {} }, cred),
          leadNode('Custom', { operation: 'customRequest', method: 'GET', path: '/api/v4/leads/pipelines', query: '{"with": "statuses"}' }, cred),
        ]);
        const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
        const errors = Object.fromEntries(run.nodeNames.map((n) => [n, run.json(n).find((i) => i.error)?.error]).filter(([, e]) => e));
        assert.deepEqual(errors, {});

        const lead = (await amo.api(token, 'GET', `/api/v4/leads/${target}?with=loss_reason`)).body;
        assert.equal(lead.name, 'Updated');
        assert.equal(lead.price, 777);
        assert.equal(lead.status_id, LOST);
        assert.equal(lead.loss_reason_id, TOO_EXPENSIVE);
        assert.deepEqual(lead._embedded.tags.map((t) => t.name), ['new']);
        const values = Object.fromEntries(lead.custom_fields_values.map((f) => [f.field_id, f.values[0]]));
        assert.equal(values[SOURCE_FIELD].enum_id, 500002);
        assert.equal(values[URGENT_FIELD].value, true);
        assert.equal(values[BUDGET_FIELD], undefined, 'cleared');

        const [complex] = run.json('Complex');
        assert.ok(complex.id && complex.contact_id && complex.company_id, JSON.stringify(complex));
        const withContact = (await amo.api(token, 'GET', `/api/v4/leads/${complex.id}?with=contacts`)).body;
        assert.equal(withContact._embedded.contacts[0].id, complex.contact_id);

        assert.deepEqual(run.json('Links after link').map((l) => [l.to_entity_type, l.to_entity_id]), [['contacts', contactId]]);
        assert.deepEqual(run.json('Links after unlink'), [{}], 'no links left (n8n shows one empty item)');
        const [note] = run.json('Note');
        assert.ok(note.id);
        assert.deepEqual(run.json('Notes').map((n) => n.params?.text), ['Called back, all good']);
        const [pipelines] = run.json('Custom');
        assert.ok(pipelines._embedded.pipelines.some((p) => p.id === SALES));
      });
    });
  }
});
