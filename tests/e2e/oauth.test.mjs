// OAuth 2.0 managed by the core, in a real n8n against the emulator's token
// endpoint (single-use rotating refresh tokens): the code exchange on first
// use, renewal after the access token expires, what gets persisted, the
// errors a user can run into, and the keep-alive of an idle refresh token.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { ACCOUNT_NODE, Amo, VERSIONS, amoNode, branches, emulator, expectOk, leadNode, n8nWithPackage, oauthCredential, textOf } from './support.mjs';

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

      test('keep-alive: 89 days idle, one use, 89 more days idle, and the credential still works', async () => {
        // Both clocks move 89 days at a time. amoCRM's (the emulator's admin
        // clock) decides token expiry there; the core decides from the
        // timestamps stored in the credential against n8n's real clock, so
        // its view moves by shifting every stored timestamp 89 days back.
        // Access tokens live 100 days here, so that no 401 renews anything:
        // only the keep-alive can. The control credential has no stored issue
        // time (as one saved before this version), so it gets no keep-alive.
        const DAY = 86_400_000;
        await amo.admin('POST', '/config', { accessTokenTtlSeconds: 100 * 86_400 });
        const [{ code: c1 }, { code: c2 }] = [await amo.admin('POST', '/oauth/code', {}), await amo.admin('POST', '/oauth/code', {})];
        const [kept, control] = await n8n.importCredentials([
          oauthCredential(amo, { authorizationCode: c1 }),
          oauthCredential(amo, { authorizationCode: c2 }),
        ]);
        const get = { operation: 'get', leadId: id(leadId), with: [] };
        // The README's recipe: AmoCRM Account → Check Connection (on a
        // weekly schedule) keeps the credential alive.
        const check = amoNode(ACCOUNT_NODE, 'Kept alive', { resource: 'account', operation: 'checkConnection' }, kept);
        const wf = await n8n.importWorkflow(branches('keep-alive', [check, leadNode('Control', get, control)]));
        const exportAll = async () => {
          const file = n8n.tmpFile('export');
          await n8n.cli(['export:credentials', '--all', '--decrypted', `--output=${file}`]);
          const list = JSON.parse(fs.readFileSync(file, 'utf8'));
          fs.rmSync(file, { force: true });
          return list.filter((c) => c.id === kept || c.id === control);
        };
        const idle89Days = async () => {
          await amo.admin('POST', '/clock', { seconds: 89 * 86_400 });
          const shifted = (await exportAll()).map((c) => {
            const data = { ...c.data, accessExpiresAt: Number(c.data.accessExpiresAt) - 89 * DAY };
            data.refreshIssuedAt = c.id === control ? '' : Number(c.data.refreshIssuedAt) - 89 * DAY;
            return { id: c.id, name: c.name, type: c.type, data };
          });
          await n8n.importCredentials(shifted);
        };
        try {
          expectOk(await n8n.execute(wf)); // connects both
          await idle89Days();
          await amo.resetStats();
          const day89 = expectOk(await n8n.execute(wf));
          assert.equal(day89.json('Kept alive')[0].connected, true, day89.describe());
          assert.equal(day89.json('Control')[0].id, leadId, 'its access token still works');
          let stats = await amo.stats();
          assert.equal(stats.tokenGrants.refresh_token, 1, 'the kept-alive credential renewed its refresh token');
          assert.equal(stats.calls['GET /api/v4/account']?.['401'] ?? 0, 0, 'before any request: no 401');
          await idle89Days();
          await amo.resetStats();
          const day178 = expectOk(await n8n.execute(wf));
          assert.equal(day178.json('Kept alive')[0].connected, true, day178.describe());
          assert.match(day178.json('Control')[0].error ?? '', /refresh token has expired.*3 months/);
          stats = await amo.stats();
          console.log(
            `[${version}] keep-alive: day 89 and day 178 uses work (${stats.tokenGrants.refresh_token} renewal on day 178); ` +
              `the control credential without keep-alive died on day 178: ${day178.json('Control')[0].error.slice(0, 120)}`,
          );
        } finally {
          amo.emu.state.clockOffsetMs = 0;
          await amo.admin('POST', '/config', { accessTokenTtlSeconds: 86_400 });
        }
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
