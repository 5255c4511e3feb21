// AmoCRM Incoming Lead and AmoCRM Catalog in a real n8n against the
// emulator: every operation of both nodes; 500 web form submissions become
// 500 incoming leads in as few requests as the batch size allows; accepting
// 300 of them takes 300 requests, since amoCRM has no batch accept; a lead
// gets three products with quantities and reads them back.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';

import {
  Amo, CATALOG_NODE, INCOMING_LEAD_NODE, VERSIONS, amoNode, byId, chain, expectOk, longLivedCredential, perVersion, pipeline, runWorkflow,
} from './support.mjs';

const SALES = 7000001;
const FIRST_STAGE = 61000002; // Sales' first working stage
const PRODUCTS = 5001; // the base seed's products catalog
const SKU = 900401;
const PRICE = 900402; // type price
const BASIC = 600001; // LIC-BASIC, 15,000
const PRO = 600002;
const TRAINING = 600004;

const incoming = (name, params, cred, extra) => amoNode(INCOMING_LEAD_NODE, name, { resource: 'unsorted', ...params }, cred, extra);
const element = (name, params, cred, extra) =>
  amoNode(CATALOG_NODE, name, { resource: 'catalogElement', catalogId: PRODUCTS, ...params }, cred, extra);
const list = (name, params, cred, extra) => amoNode(CATALOG_NODE, name, { resource: 'catalog', ...params }, cred, extra);
const none = { mappingMode: 'defineBelow', value: null };

/** Errors of the nodes that ran, by node name (each node keeps going on errors). */
const errorsOf = (run) => Object.fromEntries(run.nodeNames.map((n) => [n, run.json(n).find((i) => i.error)?.error]).filter(([, e]) => e));

describe('AmoCRM Incoming Lead and AmoCRM Catalog', { concurrency: 1 }, () => {
  for (const version of VERSIONS) {
    describe(`n8n ${version}`, { concurrency: 1 }, () => {
      const env = perVersion(version);

      test('every operation of both nodes, an incoming lead accepted twice, a chat linked to a lead', async () => {
        /** @type {{amo: Amo}} */ const { amo, n8n, token, cred } = env;
        const target = (await amo.api(token, 'POST', '/api/v4/leads', [{ name: 'Existing deal' }])).body._embedded.leads[0].id;
        // Chats come from amoCRM's channels, not the API: the emulator's admin delivers one.
        const chat = await amo.admin('POST', '/unsorted', {
          category: 'chats', source_uid: 'tg', source_name: 'Telegram',
          metadata: { from: 'Ann', service: 'telegram', received_at: 1700000000 },
          _embedded: { contacts: [{ name: 'Ann from Telegram' }] },
        });
        const form = `$('Form').item.json.uid`;
        const wf = chain('incoming leads and catalogs', [
          incoming('Form', {
            operation: 'createForm', formId: 'callback', formName: 'Call me back', formPage: 'https://shop.example/contacts',
            ip: '192.0.2.10', sentAt: '2026-05-01T10:00:00Z', referer: 'https://www.google.com/',
            pipelineId: SALES, name: 'Website request', additionalFields: { price: 1500, tags: 'web' },
            contact: { name: 'Lucy Gray', phone: '+7 921 555-01-02', email: 'lucy@example.org' }, company: { name: 'Gray & Co' },
            customFields: none, options: { sourceName: 'shop.example' },
          }, cred),
          incoming('Call', {
            operation: 'createSip', from: '+7 900 000-00-01', to: '8000002', duration: 54, link: 'https://pbx.example/rec/1.mp3',
            serviceCode: 'pbx', callId: 'call-1', contact: { name: 'Caller' }, customFields: none, options: {},
          }, cred),
          incoming('Get', { operation: 'get', uid: `={{ ${form} }}` }, cred),
          incoming('Many', { operation: 'getMany', returnAll: true, filters: { categories: ['forms', 'sip'], pipelineId: SALES }, options: { sortBy: 'created_at', sortDirection: 'asc' } }, cred),
          incoming('Accept', { operation: 'accept', uid: `={{ ${form} }}`, status: `${SALES}:${FIRST_STAGE}`, userId: 8000002 }, cred),
          incoming('Accept again', { operation: 'accept', uid: `={{ ${form} }}` }, cred),
          incoming('Decline', { operation: 'decline', uid: `={{ $('Call').item.json.uid }}` }, cred),
          incoming('Link', { operation: 'link', uid: chat.uid, leadId: String(target) }, cred),
          incoming('Summary', { operation: 'summary', filters: { pipelineId: SALES } }, cred),
          incoming('Custom', { operation: 'customRequest', method: 'GET', path: '/api/v4/leads/unsorted/summary', query: '{"filter": {"category": ["chats"]}}' }, cred),
          list('Lists', { operation: 'getMany', returnAll: true }, cred),
          list('New list', { operation: 'create', mapping: 'manual', name: 'Services e2e', additionalFields: { type: 'regular', sort: 30 }, options: {} }, cred),
          list('Rename list', { operation: 'update', mapping: 'manual', listId: byId(`={{ $('New list').item.json.id }}`), updateFields: { name: 'Services (e2e)', canShowInCards: true }, options: {} }, cred),
          list('List call', { operation: 'customRequest', method: 'GET', path: '={{ "/api/v4/catalogs/" + $("New list").item.json.id }}', query: '' }, cred),
          element('New element', { operation: 'create', mapping: 'manual', name: 'Onboarding workshop', customFields: { mappingMode: 'defineBelow', value: { [SKU]: 'WS-1', [PRICE]: 25000 } }, options: {} }, cred),
          element('Element', { operation: 'get', elementId: byId(`={{ $('New element').item.json.id }}`), simplify: true }, cred),
          element('Elements', { operation: 'getMany', returnAll: true, query: 'LIC', filters: {} }, cred),
          element('Reprice', { operation: 'update', mapping: 'manual', elementId: byId(`={{ $('New element').item.json.id }}`), updateFields: { name: 'Onboarding workshop (2 days)' }, customFields: { mappingMode: 'defineBelow', value: { [PRICE]: 40000 } }, customFieldsToClear: [], options: {} }, cred),
          element('To lead', { operation: 'linkToLead', leadId: String(target), elementId: byId(`={{ $('New element').item.json.id }}`), quantity: 2, priceId: PRICE }, cred),
          element('Products', { operation: 'getLeadProducts', leadId: String(target) }, cred),
          element('Element call', { operation: 'customRequest', method: 'GET', path: `/api/v4/catalogs/${PRODUCTS}/custom_fields`, query: '' }, cred),
        ]);
        const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
        assert.deepEqual(errorsOf(run), {});

        // Incoming Lead
        const [made] = run.json('Form');
        assert.match(made.uid, /^[0-9a-f]{40}$/);
        assert.equal(made.category, 'forms');
        assert.ok(made.lead_id && made.contact_id && made.company_id, JSON.stringify(made));
        const [got] = run.json('Get');
        assert.equal(got.uid, made.uid);
        assert.deepEqual(
          [got.source_name, got.source_uid, got.metadata.form_id, got.metadata.form_name, got.metadata.ip, got.metadata.form_sent_at],
          ['shop.example', 'callback', 'callback', 'Call me back', '192.0.2.10', 1777629600],
        );
        const [call] = run.json('Call');
        assert.equal(call.category, 'sip');
        assert.deepEqual(run.json('Many').map((u) => u.uid), [made.uid, call.uid]);
        const [accepted] = run.json('Accept');
        assert.deepEqual([accepted.uid, accepted.accepted, accepted.lead_id], [made.uid, true, made.lead_id]);
        const [again] = run.json('Accept again');
        assert.equal(again.accepted, false, 'a second accept is an item saying so, not an error');
        assert.match(again.reason, /already been accepted/);
        assert.deepEqual([run.json('Decline')[0].declined, run.json('Decline')[0].lead_id], [true, call.lead_id]);
        assert.deepEqual([run.json('Link')[0].linked, run.json('Link')[0].lead_id], [true, target]);
        const [summary] = run.json('Summary');
        assert.deepEqual([summary.total, summary.accepted, summary.declined], [3, 2, 1], 'form accepted, chat linked, call declined');
        assert.equal(run.json('Custom')[0].categories.chats.total, 1);
        const lead = (await amo.api(token, 'GET', `/api/v4/leads/${made.lead_id}`)).body;
        assert.deepEqual([lead.name, lead.price, lead.status_id, lead.updated_by], ['Website request', 1500, FIRST_STAGE, 8000002]);

        // Catalog: lists
        assert.ok(run.json('Lists').some((l) => l.id === PRODUCTS && l.type === 'products'));
        const [newList] = run.json('New list');
        assert.deepEqual([newList.name, newList.type, newList.sort], ['Services e2e', 'regular', 30]);
        assert.deepEqual([run.json('Rename list')[0].name, run.json('Rename list')[0].can_show_in_cards], ['Services (e2e)', true]);
        assert.equal(run.json('List call')[0].name, 'Services (e2e)');

        // Catalog: elements
        const [newElement] = run.json('New element');
        assert.equal(newElement.catalog_id, PRODUCTS);
        const simple = run.json('Element')[0];
        assert.deepEqual([simple.name, simple.custom_fields.SKU, String(simple.custom_fields.Price)], ['Onboarding workshop', 'WS-1', '25000']);
        assert.ok(run.json('Elements').some((e) => e.id === BASIC) && run.json('Elements').every((e) => e.catalog_id === PRODUCTS));
        const [repriced] = run.json('Reprice');
        assert.equal(repriced.name, 'Onboarding workshop (2 days)');
        assert.deepEqual(run.json('To lead')[0], { lead_id: target, element_id: newElement.id, catalog_id: PRODUCTS, quantity: 2, price_id: PRICE });
        assert.deepEqual(
          run.json('Products').map((p) => [p.element_id, p.name, p.quantity, p.price]),
          [[newElement.id, 'Onboarding workshop (2 days)', 2, 40000]],
        );
        assert.match(JSON.stringify(run.json('Element call')), new RegExp(`"id":${PRICE},`), "the catalog's fields, price among them");
      });

      test('a lead gets three products with quantities, and reading its products gives them back', async () => {
        /** @type {{amo: Amo}} */ const { amo, n8n, token, cred } = env;
        const deal = (await amo.api(token, 'POST', '/api/v4/leads', [{ name: 'Licences for Acme' }])).body._embedded.leads[0].id;
        const wf = pipeline('three products', [
          { element: BASIC, quantity: 2 },
          { element: PRO, quantity: 1 },
          { element: TRAINING, quantity: 3.5 },
        ], [
          element('Add product', { operation: 'linkToLead', leadId: String(deal), elementId: byId('={{ $json.element }}'), quantity: '={{ $json.quantity }}', priceId: PRICE }, cred),
          element('Products', { operation: 'getLeadProducts', leadId: String(deal) }, cred, { executeOnce: true }),
        ]);
        const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
        assert.deepEqual(run.json('Add product').map((l) => [l.element_id, l.quantity]), [[BASIC, 2], [PRO, 1], [TRAINING, 3.5]]);
        const products = run.json('Products');
        const prices = Object.fromEntries((await amo.api(token, 'GET', `/api/v4/catalogs/${PRODUCTS}/elements?filter[id][]=${BASIC}&filter[id][]=${PRO}&filter[id][]=${TRAINING}`))
          .body._embedded.elements.map((e) => [e.id, Number(e.custom_fields_values.find((f) => f.field_id === PRICE).values[0].value)]));
        assert.deepEqual(
          products.map((p) => [p.element_id, p.quantity, p.price_id, p.price]).sort((a, b) => a[0] - b[0]),
          [[BASIC, 2, PRICE, prices[BASIC]], [PRO, 1, PRICE, prices[PRO]], [TRAINING, 3.5, PRICE, prices[TRAINING]]],
        );
        assert.deepEqual(products.map((p) => p.name).sort(), products.map((p) => p.element.name).sort());
        console.log(`[products] ${version}: 3 products linked to lead ${deal}: ${products.map((p) => `${p.name} × ${p.quantity} at ${p.price}`).join(', ')}`);
      });

      test('500 web form submissions become 500 incoming leads in 10 requests; accepting 300 takes 300 requests', async () => {
        /** @type {{amo: Amo}} */ const { amo, n8n, token, cred } = env;
        // The request counts are the point here, not amoCRM's 7 per second.
        await amo.admin('POST', '/config', { rateLimit: 0 });
        const [fast] = await n8n.importCredentials([longLivedCredential(amo, token, { requestsPerSecond: 50 })]);
        const submissions = Array.from({ length: 500 }, (_, i) => ({
          name: `Visitor ${i}`, phone: `+7 999 ${String(1000000 + i).slice(1, 4)}-${String(i).padStart(4, '0')}`, message: `Request ${i}`,
        }));
        const limit = { id: randomUUID(), name: 'First 300', type: 'n8n-nodes-base.limit', typeVersion: 1, position: [800, 0], parameters: { maxItems: 300 } };
        const wf = pipeline('500 submissions', submissions, [
          incoming('Incoming', {
            operation: 'createForm', formId: 'callback', formName: 'Call me back', formPage: 'https://shop.example/contacts',
            name: '={{ $json.message }}', contact: { name: '={{ $json.name }}', phone: '={{ $json.phone }}' }, customFields: none, options: {},
          }, fast),
          limit,
          incoming('Accept', { operation: 'accept', uid: '={{ $json.uid }}', status: `${SALES}:${FIRST_STAGE}` }, fast),
        ]);
        const acceptedBefore = (await amo.api(token, 'GET', '/api/v4/leads/unsorted/summary')).body.accepted;
        await amo.resetStats();
        const run = await runWorkflow(n8n, wf);
        const stats = await amo.stats();
        const created = run.items('Incoming');
        assert.equal(created.length, 500);
        assert.deepEqual(created.map((o) => o.pairedItem.item), [...Array(500).keys()]);
        assert.equal(new Set(created.map((o) => o.json.uid)).size, 500);
        const accepted = run.json('Accept');
        assert.equal(accepted.length, 300);
        assert.ok(accepted.every((a) => a.accepted === true), JSON.stringify(accepted.find((a) => a.accepted !== true)));
        const posts = stats.calls['POST /api/v4/leads/unsorted/forms']?.['200'];
        const accepts = stats.calls['POST /api/v4/leads/unsorted/{uid}/accept']?.['200'];
        console.log(
          `[incoming leads] ${version}: 500 submissions → ${posts} create requests (50 per request); 300 accepts → ${accepts} requests (amoCRM has no batch accept); ${stats.requests} requests in all, ${run.ms} ms`,
        );
        assert.equal(posts, 10, 'as few requests as the batch size (50) allows');
        assert.equal(accepts, 300, 'one per incoming lead: amoCRM offers no batch form of accept');
        const waiting = (await amo.api(token, 'GET', '/api/v4/leads/unsorted/summary')).body;
        assert.equal(waiting.accepted - acceptedBefore, 300);
      });
    });
  }
});
