// OAuth 2.0 managed by the core, in a real n8n against the emulator's token
// endpoint (single-use rotating refresh tokens): the code exchange on first
// use, renewal after the access token expires, what gets persisted, and the
// errors a user can run into.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Amo, VERSIONS, branches, emulator, expectOk, leadNode, n8nWithPackage, oauthCredential, textOf } from './support.mjs';

const id = (value) => ({ __rl: true, mode: 'id', value: String(value) });

describe('OAuth managed by the core', { concurrency: 1 }, () => {
  for (const version of VERSIONS) {
    describe(`n8n ${version}`, { concurrency: 1 }, () => {
      /** @type {Amo} */ let amo;
      let n8n;
      let leadId;
      let cred;
      let workflow;
      const spent = {};

      before(async () => {
        amo = await emulator({ seed: 'demo', rateLimit: 7 });
        const token = await amo.longLivedToken();
        leadId = (await amo.api(token, 'GET', '/api/v4/leads?limit=1')).body._embedded.leads[0].id;
        n8n = await n8nWithPackage(version);
        const { code } = await amo.admin('POST', '/oauth/code', {});
        [cred] = await n8n.importCredentials([oauthCredential(amo, { authorizationCode: code })]);
        workflow = await n8n.importWorkflow(branches('oauth get', [leadNode('Get', { operation: 'get', leadId: id(leadId), with: [] }, cred)]));
      });

      after(async () => {
        await n8n?.cleanup();
        await amo?.close();
      });

      test('first use exchanges the authorization code and persists the tokens', async () => {
        await amo.resetStats();
        const run = expectOk(await n8n.execute(workflow));
        assert.equal(run.json('Get')[0].id, leadId, run.describe());
        const stats = await amo.stats();
        assert.deepEqual(stats.tokenGrants, { authorization_code: 1, refresh_token: 0 });
        const { data } = await n8n.exportCredentials(cred);
        assert.match(data.accessToken, /^eyJ/, 'a JWT access token is stored');
        assert.ok(data.refreshToken.length > 20);
        assert.ok(Math.abs(data.accessExpiresAt - (Date.now() + 86_400_000)) < 120_000, `${data.accessExpiresAt}`);
        assert.match(data.grantFingerprint, /^[0-9a-f]{16}$/);
        spent.first = data.refreshToken;
        // No token in the run data shown to the user.
        assert.ok(!textOf(run.run).includes(data.accessToken) && !textOf(run.run).includes(data.refreshToken));
      });

      test('an expired access token is renewed once, the request resent, the rotated refresh token persisted and used next time', async () => {
        await amo.admin('POST', '/tokens/expire', { all: true });
        await amo.resetStats();
        const run = expectOk(await n8n.execute(workflow));
        assert.equal(run.json('Get')[0].id, leadId, run.describe());
        let stats = await amo.stats();
        assert.deepEqual(stats.tokenGrants, { authorization_code: 0, refresh_token: 1 });
        const { data } = await n8n.exportCredentials(cred);
        assert.notEqual(data.refreshToken, spent.first, 'rotated');
        spent.second = data.refreshToken;
        // The next execution uses the new access token: no refresh.
        expectOk(await n8n.execute(workflow));
        stats = await amo.stats();
        assert.equal(stats.tokenGrants.refresh_token, 1);
        // And when that one expires, the rotated refresh token works.
        await amo.admin('POST', '/tokens/expire', { all: true });
        expectOk(await n8n.execute(workflow));
        stats = await amo.stats();
        assert.equal(stats.tokenGrants.refresh_token, 2);
        assert.equal(stats.revokedTokenUses, 0);
        // The request that hit the expired token reached amoCRM once before the renewal, once after.
        const refresh = await amo.requests({ path: '/oauth2/access_token' });
        assert.ok(refresh.every((r) => JSON.parse(r.body).redirect_uri === amo.emu.state.integration.redirectUri), 'redirect_uri sent on refresh');
      });

      test('a revoked refresh token, an expired code, a wrong redirect URI and a wrong secret each give their clear error', async () => {
        const { code: expiring } = await amo.admin('POST', '/oauth/code', { expiresInSeconds: 1 });
        const { code: fresh1 } = await amo.admin('POST', '/oauth/code', {});
        const { code: fresh2 } = await amo.admin('POST', '/oauth/code', {});
        await new Promise((r) => setTimeout(r, 1500));
        const secret = amo.emu.state.integration.clientSecret;
        const [revoked, expired, redirect, wrongSecret] = await n8n.importCredentials([
          // A refresh token spent by the renewal above, with an access token that no longer works.
          oauthCredential(amo, { refreshToken: spent.first, accessToken: 'expired-access-token', grantFingerprint: 'exchanged' }),
          oauthCredential(amo, { authorizationCode: expiring }),
          oauthCredential(amo, { authorizationCode: fresh1, redirectUri: 'https://n8n.example/wrong/callback' }),
          oauthCredential(amo, { authorizationCode: fresh2, clientSecret: 'not-the-secret-0123456789' }),
        ]);
        const wf = await n8n.importWorkflow(
          branches('oauth errors', [
            leadNode('Revoked', { operation: 'get', leadId: id(leadId), with: [] }, revoked),
            leadNode('Expired code', { operation: 'get', leadId: id(leadId), with: [] }, expired),
            leadNode('Wrong redirect', { operation: 'get', leadId: id(leadId), with: [] }, redirect),
            leadNode('Wrong secret', { operation: 'get', leadId: id(leadId), with: [] }, wrongSecret),
          ]),
        );
        await amo.resetStats();
        const run = expectOk(await n8n.execute(wf));
        const message = (node) => run.json(node)[0].error ?? '';
        assert.match(message('Revoked'), /the refresh token was already used or revoked \("Token has been revoked"\)/);
        assert.match(message('Revoked'), /fresh authorization code/);
        assert.match(message('Expired code'), /The authorization code has expired.*valid for 20 minutes/);
        assert.match(message('Wrong redirect'), /did not recognise the integration.*redirect URI/);
        assert.match(message('Wrong secret'), /could not read the authorization code.*client secret is wrong/);
        for (const secretValue of [secret, spent.first, expiring, fresh1, fresh2, 'not-the-secret-0123456789']) {
          assert.ok(!textOf(run.run).includes(secretValue), 'no secret, code or token in the run data');
        }
        // Each credential asked the token endpoint once: failures are not retried.
        const stats = await amo.stats();
        assert.equal(stats.calls['POST /oauth2/access_token'] ? Object.values(stats.calls['POST /oauth2/access_token']).reduce((a, b) => a + b, 0) : 0, 4);
      });
    });
  }
});
