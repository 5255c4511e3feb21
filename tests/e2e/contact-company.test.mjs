// AmoCRM Contact and AmoCRM Company in a real n8n against the emulator: every
// operation, phones and e-mails with their types and the three update modes,
// and Find or Create, exact despite amoCRM's fuzzy search.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  Amo, COMPANY_NODE, CONTACT_NODE, LEAD_NODE, VERSIONS, amoNode, byId, chain, emulator, expectOk, longLivedCredential, n8nWithPackage,
} from './support.mjs';

const JOHN = 39000001; // +7 (900) 123-45-67 (MOB), John.Smith@Example.com
const SARAH = 39000004; // her note mentions 79001234567
const ACME = 49000001;
const PHONE = 900102;
const EMAIL = 900103;

const contact = (name, params, cred, extra) => amoNode(CONTACT_NODE, name, params, cred, extra);
const company = (name, params, cred, extra) => amoNode(COMPANY_NODE, name, params, cred, extra);
const phones = (record) => (record.custom_fields_values ?? []).find((f) => f.field_id === PHONE)?.values ?? [];

describe('AmoCRM Contact and AmoCRM Company', { concurrency: 1 }, () => {
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

      test('contacts: create with typed phones, get by ID and URL, search, update, links, notes, custom call', async () => {
        const lead = (await amo.api(token, 'POST', '/api/v4/leads', [{ name: 'Deal for linking' }])).body._embedded.leads[0].id;
        const wf = chain('contact operations', [
          contact('Create', {
            operation: 'create',
            name: 'Anna Smirnova',
            phones: { values: [{ value: '+7 911 000-00-01', type: 'MOB' }, { value: '8 (812) 000-00-02', type: 'WORK' }] },
            emails: { values: [{ value: 'anna@example.com', type: 'PRIV' }] },
            additionalFields: { firstName: 'Anna', lastName: 'Smirnova', tags: 'n8n' },
          }, cred),
          contact('Get', { operation: 'get', contactId: byId('={{ $json.id }}'), with: ['leads'] }, cred),
          contact('Get by URL', { operation: 'get', contactId: { __rl: true, mode: 'url', value: `={{ "${amo.url}/contacts/detail/" + $json.id }}` }, simplify: true }, cred),
          contact('Search', { operation: 'getMany', returnAll: true, query: 'Anna Smirnova', filters: {}, options: {} }, cred),
          contact('Update', {
            operation: 'update',
            contactId: byId(`={{ $('Create').item.json.id }}`),
            updateFields: { firstName: 'Anya', tagsToAdd: 'vip' },
            phones: { values: [{ value: '+7 911 000 00 03', type: 'HOME' }] },
            valuesMode: 'add',
          }, cred),
          contact('Link', { operation: 'link', contactId: byId(`={{ $('Create').item.json.id }}`), leadIds: String(lead), companyIds: String(ACME) }, cred),
          contact('Links', { operation: 'getLinks', contactId: byId(`={{ $('Create').item.json.id }}`), filters: {} }, cred),
          contact('Unlink', { operation: 'unlink', contactId: byId(`={{ $('Create').item.json.id }}`), leadIds: String(lead) }, cred),
          contact('Note', { operation: 'addNote', contactId: byId(`={{ $('Create').item.json.id }}`), noteType: 'common', text: 'Met at the fair' }, cred),
          contact('Notes', { operation: 'getNotes', contactId: byId(`={{ $('Create').item.json.id }}`), returnAll: true, filters: {} }, cred),
          contact('Custom', { operation: 'customRequest', method: 'GET', path: '/api/v4/contacts/custom_fields', query: '' }, cred),
        ]);
        const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
        const errors = Object.fromEntries(run.nodeNames.map((n) => [n, run.json(n).find((i) => i.error)?.error]).filter(([, e]) => e));
        assert.deepEqual(errors, {});
        const [created] = run.json('Create');
        // Create outputs the contact as amoCRM now has it, not only its ID.
        assert.equal(created.name, 'Anna Smirnova');
        assert.deepEqual(phones(created).map((v) => [v.value, v.enum_code]), [['+7 911 000-00-01', 'MOB'], ['8 (812) 000-00-02', 'WORK']]);
        assert.equal(run.json('Get')[0].id, created.id);
        const simple = run.json('Get by URL')[0];
        assert.equal(simple.id, created.id);
        assert.deepEqual(simple.tags, ['n8n']);
        assert.ok(run.json('Search').some((c) => c.id === created.id));
        const [updated] = run.json('Update');
        assert.equal(updated.first_name, 'Anya');
        assert.equal(phones(updated).length, 3, 'Add keeps the two phones and adds the third');
        assert.deepEqual(run.json('Links').map((l) => l.to_entity_type).sort(), ['companies', 'leads']);
        assert.deepEqual(run.json('Note')[0].entity_id, created.id);
        assert.equal(run.json('Notes')[0].params.text, 'Met at the fair');
        assert.ok(run.json('Custom').length >= 1);
        const stored = (await amo.api(token, 'GET', `/api/v4/contacts/${created.id}?with=leads`)).body;
        assert.deepEqual(stored._embedded.leads ?? [], [], 'unlinked from the lead');
      });

      test('adding a phone a contact has, written another way, leaves two; Replace and Remove do what they say', async () => {
        const [id] = (await amo.api(token, 'POST', '/api/v4/contacts', [{
          name: 'Two Phones',
          custom_fields_values: [{ field_id: PHONE, values: [{ value: '+7 900 100-00-01', enum_code: 'WORK' }, { value: '+7 900 100-00-02', enum_code: 'MOB' }] }],
        }])).body._embedded.contacts.map((c) => c.id);
        const update = (name, valuesMode, values) =>
          contact(name, { operation: 'update', contactId: byId(id), phones: { values }, valuesMode }, cred);
        const wf = chain('phone modes', [
          update('Add again', 'add', [{ value: '8 (900) 100 00 02', type: 'WORK' }]),
          update('Add new', 'add', [{ value: '89001000003', type: 'HOME' }]),
          update('Remove', 'remove', [{ value: '79001000001', type: 'WORK' }]),
          update('Replace', 'replace', [{ value: '+7 900 100-00-09', type: 'WORK' }]),
        ]);
        const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
        const values = (node) => phones(run.json(node)[0]).map((v) => v.value);
        assert.deepEqual(values('Add again'), ['+7 900 100-00-01', '+7 900 100-00-02']);
        assert.deepEqual(values('Add new'), ['+7 900 100-00-01', '+7 900 100-00-02', '89001000003']);
        assert.deepEqual(values('Remove'), ['+7 900 100-00-02', '89001000003']);
        assert.deepEqual(values('Replace'), ['+7 900 100-00-09']);
      });

      test('Find or Create matches the PHONE field only: a number in a name or a note is not a match', async () => {
        const wf = chain('find', [
          contact('Find John', { operation: 'findOrCreate', phone: '8 900 123 45 67', name: 'Should not be used', additionalFields: {}, options: {} }, cred),
          contact('Find by e-mail', { operation: 'findOrCreate', email: ' JOHN.smith@example.COM ', additionalFields: {}, options: { createIfMissing: false } }, cred),
          contact('Only in a note', { operation: 'findOrCreate', phone: '+7 900 123-45-67', additionalFields: {}, options: {} }, cred),
          contact('Unknown', { operation: 'findOrCreate', phone: '+7 999 000-00-00', additionalFields: {}, options: { createIfMissing: false } }, cred),
        ]);
        // Sarah's note mentions John's number: amoCRM's search returns her too.
        const hits = (await amo.api(token, 'GET', '/api/v4/contacts?query=9001234567')).body._embedded.contacts.map((c) => c.id);
        assert.ok(hits.includes(SARAH) && hits.includes(JOHN), `the search itself finds both (${hits})`);
        const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
        const [john] = run.json('Find John');
        assert.equal(john.id, JOHN);
        assert.equal(john.match, 'found');
        assert.equal(john.matched_by, 'phone');
        assert.equal(run.json('Find by e-mail')[0].id, JOHN);
        assert.equal(run.json('Only in a note')[0].id, JOHN, 'never Sarah');
        assert.deepEqual(run.json('Unknown')[0].match, 'none');
      });

      test('companies: create, find or create by name and tax number, update, links, notes', async () => {
        const wf = chain('companies', [
          company('Create', { operation: 'create', name: 'Umbrella Corp', phones: { values: [{ value: '+1 (212) 555-0111', type: 'WORK' }] }, additionalFields: { tags: 'partner' } }, cred),
          company('Find by name', { operation: 'findOrCreate', name: '  acme   CORP ', additionalFields: {}, options: {} }, cred),
          company('Find or create new', { operation: 'findOrCreate', name: 'Brand New LLC', additionalFields: {}, options: {} }, cred),
          company('Get', { operation: 'get', companyId: byId(ACME), with: ['contacts'] }, cred),
          company('Update', { operation: 'update', companyId: byId(`={{ $('Create').item.json.id }}`), updateFields: { name: 'Umbrella Corporation' }, emails: { values: [{ value: 'info@umbrella.example', type: 'WORK' }] }, valuesMode: 'add' }, cred),
          company('Link', { operation: 'link', companyId: byId(`={{ $('Create').item.json.id }}`), contactIds: String(JOHN) }, cred),
          company('Links', { operation: 'getLinks', companyId: byId(`={{ $('Create').item.json.id }}`), filters: {} }, cred),
          company('Note', { operation: 'addNote', companyId: byId(`={{ $('Create').item.json.id }}`), noteType: 'common', text: 'Signed NDA' }, cred),
          company('Many', { operation: 'getMany', returnAll: false, limit: 2, filters: {}, options: { sortBy: 'id', sortDirection: 'asc' } }, cred),
        ]);
        const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
        const errors = Object.fromEntries(run.nodeNames.map((n) => [n, run.json(n).find((i) => i.error)?.error]).filter(([, e]) => e));
        assert.deepEqual(errors, {});
        assert.equal(run.json('Create')[0].name, 'Umbrella Corp');
        const found = run.json('Find by name')[0];
        assert.deepEqual([found.id, found.match], [ACME, 'found']);
        const made = run.json('Find or create new')[0];
        assert.equal(made.match, 'created');
        assert.equal(made.name, 'Brand New LLC');
        assert.ok(run.json('Get')[0]._embedded.contacts.length >= 1);
        assert.equal(run.json('Update')[0].name, 'Umbrella Corporation');
        assert.ok(run.json('Links').some((l) => l.to_entity_id === JOHN));
        assert.equal(run.json('Many').length, 2);
      });

      test('Find or Create over 1,000 items with 650 distinct phones, 300 already in the account written differently', async () => {
        // The request count is the point here, not amoCRM's 7 per second.
        await amo.admin('POST', '/config', { rateLimit: 0 });
        // 300 existing contacts, stored as "8 (9xx) …", looked for as "+7 9xx …".
        const national = (i) => String(9_500_000_000 + i);
        const stored = (n) => `8 (${n.slice(0, 3)}) ${n.slice(3, 6)}-${n.slice(6, 8)}-${n.slice(8)}`;
        const typed = (n) => `+7 ${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;
        const existing = [];
        for (let i = 0; i < 300; i += 250) {
          const batch = Array.from({ length: Math.min(250, 300 - i) }, (_, k) => ({
            name: `Existing ${i + k}`,
            custom_fields_values: [{ field_id: PHONE, values: [{ value: stored(national(i + k)), enum_code: 'WORK' }] }],
          }));
          existing.push(...(await amo.api(token, 'POST', '/api/v4/contacts', batch)).body._embedded.contacts.map((c) => c.id));
        }
        // 1,000 items over 650 phones: 0–299 exist, 300–649 are new; items repeat phones.
        const list = Array.from({ length: 1000 }, (_, i) => ({ phone: typed(national(i % 650)), name: `Person ${i % 650}` }));
        const before = (await amo.api(token, 'GET', '/api/v4/contacts?limit=250&page=1')).status;
        assert.equal(before, 200);
        const { pipeline, runWorkflow } = await import('./support.mjs');
        const [fast] = await n8n.importCredentials([longLivedCredential(amo, token, { requestsPerSecond: 50 })]);
        const wf = pipeline('bulk find or create', list, [
          contact('Find or Create', { operation: 'findOrCreate', phone: '={{ $json.phone }}', name: '={{ $json.name }}', additionalFields: {}, options: {} }, fast),
        ]);
        await amo.resetStats();
        const run = await runWorkflow(n8n, wf);
        const stats = await amo.stats();
        const out = run.items('Find or Create');
        assert.equal(out.length, 1000);
        assert.deepEqual(out.map((o) => o.pairedItem.item), [...Array(1000).keys()]);
        const byPhone = new Map();
        for (const [i, o] of out.entries()) {
          assert.equal(o.json.error, undefined, `item ${i}: ${o.json.error}`);
          const p = i % 650;
          assert.equal(o.json.match, p < 300 ? 'found' : 'created', `item ${i}`);
          if (p < 300) assert.equal(o.json.id, existing[p], `item ${i} finds its contact`);
          if (byPhone.has(p)) assert.equal(o.json.id, byPhone.get(p), `item ${i} shares the contact of its phone`);
          byPhone.set(p, o.json.id);
        }
        assert.equal(new Set(out.map((o) => o.json.id)).size, 650, 'one contact per phone');
        const created = out.filter((o) => o.json.match === 'created');
        assert.equal(new Set(created.map((o) => o.json.id)).size, 350);
        // The README's figure: 1 field read + 650 searches + 2 per batch of 50 creates.
        const requests = stats.requests;
        const bound = 1 + 650 + 2 * Math.ceil(350 / 50);
        console.log(`[find or create] ${version}: 1,000 items, 650 phones → ${requests} requests (bound ${bound}), ${run.ms} ms`);
        assert.ok(requests <= bound, `${requests} requests, the README says at most ${bound}`);
        const calls = stats.calls['GET /api/v4/contacts'] ?? {};
        const searches = (calls['200'] ?? 0) + (calls['204'] ?? 0);
        assert.equal(searches, 650 + Math.ceil(350 / 50), 'each phone searched once, each batch of creates read back once');
      });
    });
  }
});
