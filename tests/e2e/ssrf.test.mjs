// The local-address mode of the credential (a loopback base URL, for the
// emulator) follows n8n's SSRF protection: node code cannot read environment
// variables, so the package leaves the decision to the platform and sends
// every request, token requests included, through the helpers that apply it.
//   - n8n 2.40.7 with N8N_SSRF_PROTECTION_ENABLED=true: loopback is refused,
//     for API and token requests alike, and nothing reaches the emulator;
//     with N8N_SSRF_ALLOWED_IP_RANGES=127.0.0.0/8 both work.
//   - n8n 2.8.4 has no SSRF protection: the variable changes nothing.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Amo, VERSIONS, branches, byId, emulator, leadNode, longLivedCredential, n8nWithPackage, oauthCredential, textOf } from './support.mjs';

const PROTECTED = { N8N_SSRF_PROTECTION_ENABLED: 'true' };
const ALLOWED = { ...PROTECTED, N8N_SSRF_ALLOWED_IP_RANGES: '127.0.0.0/8' };

describe("n8n's SSRF protection and the local-address mode", { concurrency: 1 }, () => {
  for (const version of VERSIONS) {
    describe(`n8n ${version}`, { concurrency: 1 }, () => {
      /** @type {Amo} */ let amo;
      let n8n;
      let workflow;
      let leadId;
      let token;

      before(async () => {
        amo = await emulator({ seed: 'demo', rateLimit: 0 });
        token = await amo.longLivedToken();
        leadId = (await amo.api(token, 'GET', '/api/v4/leads?limit=1')).body._embedded.leads[0].id;
        const { code } = await amo.admin('POST', '/oauth/code', {});
        n8n = await n8nWithPackage(version);
        const [longLived, oauth] = await n8n.importCredentials([
          longLivedCredential(amo, token),
          oauthCredential(amo, { authorizationCode: code }),
        ]);
        const get = { operation: 'get', leadId: byId(leadId), with: [] };
        workflow = await n8n.importWorkflow(
          branches('ssrf', [leadNode('Long-lived', get, longLived), leadNode('OAuth', get, oauth)]),
        );
        await amo.resetStats();
      });

      after(async () => {
        await n8n?.cleanup();
        await amo?.close();
      });

      const outcome = (run, node) => run.json(node)[0] ?? {};

      if (version === '2.8.4') {
        test('2.8.4 has no SSRF protection: N8N_SSRF_PROTECTION_ENABLED changes nothing', async () => {
          const run = await n8n.execute(workflow, { env: PROTECTED });
          assert.equal(outcome(run, 'Long-lived').id, leadId, run.describe());
          assert.equal(outcome(run, 'OAuth').id, leadId, run.describe());
          console.log('[ssrf 2.8.4] with N8N_SSRF_PROTECTION_ENABLED=true, loopback requests and token requests still go out (no such feature)');
        });
        return;
      }

      test('protection on: loopback is refused for API and token requests, and nothing reaches the emulator', async () => {
        const run = await n8n.execute(workflow, { env: PROTECTED });
        for (const node of ['Long-lived', 'OAuth']) {
          const error = outcome(run, node).error;
          assert.ok(error, `${node}: ${textOf(run.json(node)).slice(0, 400)}`);
          assert.match(String(error), /SSRF protection refused/);
          console.log(`[ssrf ${version}] protection on, ${node}: ${String(error).slice(0, 200)}`);
        }
        const stats = await amo.stats();
        assert.equal(stats.requests, 0, `the emulator saw ${stats.requests} requests`);
        assert.deepEqual(stats.tokenGrants, { authorization_code: 0, refresh_token: 0 });
        assert.ok(!textOf(run.run).includes(token));
      });

      test('protection on with 127.0.0.0/8 allowed: both work, the code exchange included', async () => {
        const run = await n8n.execute(workflow, { env: ALLOWED });
        assert.equal(outcome(run, 'Long-lived').id, leadId, run.describe());
        assert.equal(outcome(run, 'OAuth').id, leadId, run.describe());
        const stats = await amo.stats();
        assert.equal(stats.tokenGrants.authorization_code, 1);
        console.log(`[ssrf ${version}] protection on, 127.0.0.0/8 allowed: both credentials work (${stats.requests} requests reached the emulator)`);
      });
    });
  }
});
