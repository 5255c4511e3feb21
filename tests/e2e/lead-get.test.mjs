// Lead Get in a real n8n against the emulator: embeds, the 204 "not found"
// path, input validation, and an account address that must be refused.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Amo, VERSIONS, branches, emulator, expectOk, leadNode, longLivedCredential, n8nWithPackage, textOf } from './support.mjs';

describe('AmoCRM Lead › Get', { concurrency: 1 }, () => {
  for (const version of VERSIONS) {
    describe(`n8n ${version}`, { concurrency: 1 }, () => {
      /** @type {Amo} */ let amo;
      let n8n;
      let token;
      let run;
      let leadId;

      before(async () => {
        amo = await emulator({ seed: 'demo' });
        token = await amo.longLivedToken();
        const first = await amo.api(token, 'GET', '/api/v4/leads?limit=1&with=contacts');
        leadId = first.body._embedded.leads[0].id;
        n8n = await n8nWithPackage(version);
        const [good, refused] = await n8n.importCredentials([
          longLivedCredential(amo, token),
          // Reachable only through a non-loopback base URL: must be refused before any request.
          longLivedCredential(amo, token, { baseUrl: 'http://10.20.30.40:8080' }),
        ]);
        const id = await n8n.importWorkflow(
          branches('lead get', [
            leadNode('Get with embeds', { operation: 'get', leadId: { __rl: true, mode: 'id', value: String(leadId) }, with: ['contacts', 'loss_reason'] }, good),
            leadNode('Get by URL', { operation: 'get', leadId: { __rl: true, mode: 'url', value: `${amo.url}/leads/detail/${leadId}` }, with: [] }, good),
            leadNode('Get simplified', { operation: 'get', leadId: { __rl: true, mode: 'id', value: String(leadId) }, with: ['contacts'], simplify: true }, good),
            leadNode('Missing lead', { operation: 'get', leadId: { __rl: true, mode: 'id', value: '999999999' }, with: [] }, good),
            // From an expression, as bad data from upstream arrives (a literal is
            // already refused by the editor's own validation of the field).
            leadNode('Bad ID', { operation: 'get', leadId: { __rl: true, mode: 'id', value: '={{ "12" + "abc" }}' }, with: [] }, good),
            leadNode('Refused address', { operation: 'get', leadId: { __rl: true, mode: 'id', value: String(leadId) }, with: [] }, refused),
          ]),
        );
        await amo.resetStats();
        run = expectOk(await n8n.execute(id));
      });

      after(async () => {
        await n8n?.cleanup();
        await amo?.close();
      });

      test('Get returns the lead as amoCRM sends it, with the chosen embeds', async () => {
        const [lead] = run.json('Get with embeds');
        assert.equal(lead.id, leadId);
        assert.ok(Array.isArray(lead._embedded.contacts), 'contacts embedded');
        assert.ok(lead.custom_fields_values === null || Array.isArray(lead.custom_fields_values));
        const reqs = await amo.requests({ route: 'GET /api/v4/leads/{id}' });
        assert.ok(reqs.some((r) => r.path === `/api/v4/leads/${leadId}` && /with=contacts,loss_reason/.test(r.query ?? '')), textOf(reqs));
        assert.ok(reqs.every((r) => r.tokenKind === 'long_lived'));
      });

      test('a lead URL pasted from the browser finds the same lead', () => {
        assert.equal(run.json('Get by URL')[0].id, leadId);
      });

      test('Simplify flattens custom fields and embeds', () => {
        const [lead] = run.json('Get simplified');
        assert.equal(lead.id, leadId);
        assert.equal(lead._embedded, undefined);
        assert.equal(typeof lead.custom_fields, 'object');
        assert.ok(Array.isArray(lead.contacts));
      });

      test('a missing lead (204) is a clear "not found", not a crash', () => {
        const [item] = run.json('Missing lead');
        assert.equal(item.error, 'Lead 999999999 not found');
      });

      test('a bad ID names the item and the field, and sends nothing', async () => {
        const [item] = run.json('Bad ID');
        assert.match(item.error, /^Item 0, field "Lead": "12abc" is not a lead ID/);
      });

      test('a non-loopback custom address is refused before any request, without the token in the error', async () => {
        const [item] = run.json('Refused address');
        assert.match(item.error, /not a loopback address/);
        assert.ok(!textOf(run.run).includes(token), 'the token appears nowhere in the run data');
        const stats = await amo.stats();
        // Exactly the three good Get requests plus the missing lead reached amoCRM.
        assert.equal(stats.calls['GET /api/v4/leads/{id}']['200'], 3);
        assert.equal(stats.calls['GET /api/v4/leads/{id}']['204'], 1);
      });
    });
  }
});
