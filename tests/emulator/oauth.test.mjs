import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, tokenRequest, client, decodeJwt } from './helpers.mjs';

const OAUTH_TYPE = 'https://developers.amocrm.ru/v3/errors/OAuthProblemJson';

describe('OAuth token endpoint', () => {
  let env;
  let integ;
  before(async () => {
    env = await setup({ accessTokenTtlSeconds: 600 });
    integ = env.emu.state.integration;
  });
  after(() => env.close());

  const codeParams = (code, extra = {}) => ({
    client_id: integ.clientId, client_secret: integ.clientSecret, grant_type: 'authorization_code', code, redirect_uri: integ.redirectUri, ...extra,
  });
  const newCode = async () => (await env.admin('POST', '/_admin/oauth/code', {})).code;

  test('authorization_code (JSON) returns the real token shape with a JWT access token', async () => {
    const r = await tokenRequest(env.emu, codeParams(await newCode()));
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['token_type', 'expires_in', 'access_token', 'refresh_token', 'server_time']);
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.expires_in, 600);
    assert.match(r.body.refresh_token, /^def50200[0-9a-f]+$/);
    const parts = r.body.access_token.split('.');
    assert.equal(parts.length, 3);
    for (const p of parts) assert.match(p, /^[A-Za-z0-9_-]+$/);
    const [header, claims] = decodeJwt(r.body.access_token);
    assert.equal(header.alg, 'RS256');
    assert.equal(header.typ, 'JWT');
    assert.equal(claims.aud, integ.clientId);
    assert.equal(claims.jti, header.jti);
    assert.equal(claims.account_id, 31000001);
    assert.equal(claims.base_domain, 'amocrm.ru');
    assert.equal(claims.version, 2);
    assert.equal(claims.api_domain, `127.0.0.1:${env.emu.port}`);
    assert.equal(claims.grant_type, 'authorization_code');
    assert.equal(claims.exp - claims.iat, 600);
    assert.equal(claims.nbf, claims.iat);
    assert.equal(typeof claims.sub, 'string');
    assert.ok(Array.isArray(claims.scopes) && claims.scopes.includes('crm'));
    const acc = await client(env.emu, r.body.access_token).get('/api/v4/account');
    assert.equal(acc.status, 200);
  });

  test('authorization_code accepts a form-encoded body', async () => {
    const r = await tokenRequest(env.emu, codeParams(await newCode()), { form: true });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
  });

  test('a code is single use: reuse → 400 "Authorization code has been revoked", OAuthProblemJson without `error`', async () => {
    const code = await newCode();
    assert.equal((await tokenRequest(env.emu, codeParams(code))).status, 200);
    const r = await tokenRequest(env.emu, codeParams(code));
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.deepEqual(r.body, {
      hint: 'Authorization code has been revoked', title: 'Некорректный запрос', type: OAUTH_TYPE, status: 400,
      detail: 'В запросе отсутствует ряд параметров или параметры невалидны',
    });
    assert.equal('error' in r.body, false);
  });

  test('a code older than 20 minutes → 400 "Authorization code has expired"', async () => {
    const code = await newCode();
    await env.admin('POST', '/_admin/clock', { seconds: 20 * 60 + 1 });
    try {
      const r = await tokenRequest(env.emu, codeParams(code));
      assert.equal(r.status, 400);
      assert.equal(r.body.hint, 'Authorization code has expired');
    } finally {
      env.emu.state.clockOffsetMs = 0;
    }
  });

  test('wrong client_secret → 400 "Cannot decrypt the authorization code"; the code stays usable', async () => {
    const code = await newCode();
    const r = await tokenRequest(env.emu, codeParams(code, { client_secret: 'nope' }));
    assert.equal(r.status, 400);
    assert.equal(r.body.hint, 'Cannot decrypt the authorization code');
    assert.equal((await tokenRequest(env.emu, codeParams(code))).status, 200);
  });

  test('garbage code → 400 "Cannot decrypt the authorization code"', async () => {
    const r = await tokenRequest(env.emu, codeParams('def50200deadbeef'));
    assert.equal(r.status, 400);
    assert.equal(r.body.hint, 'Cannot decrypt the authorization code');
  });

  test('unknown client_id → 401 invalid client (no hint)', async () => {
    const r = await tokenRequest(env.emu, codeParams(await newCode(), { client_id: 'someone-else' }));
    assert.equal(r.status, 401);
    assert.equal(r.body.title, 'Некорректный клиент');
    assert.equal(r.body.detail, 'Авторизация клиента не прошла');
    assert.equal(r.body.type, OAUTH_TYPE);
    assert.equal('hint' in r.body, false);
  });

  test('redirect_uri: another URL → 401 invalid client; trailing-slash difference → 400 "Invalid redirect URI"; missing → 400', async () => {
    let r = await tokenRequest(env.emu, codeParams(await newCode(), { redirect_uri: 'https://evil.example/cb' }));
    assert.equal(r.status, 401);
    assert.equal(r.body.detail, 'Авторизация клиента не прошла');
    r = await tokenRequest(env.emu, codeParams(await newCode(), { redirect_uri: `${integ.redirectUri}/` }));
    assert.equal(r.status, 400);
    assert.equal(r.body.hint, 'Invalid redirect URI');
    const p = codeParams(await newCode());
    delete p.redirect_uri;
    r = await tokenRequest(env.emu, p);
    assert.equal(r.status, 400);
    assert.equal(r.body.hint, 'Check the `redirect_uri` parameter');
  });

  test('unsupported grant_type → 400 OAuthProblemJson', async () => {
    const r = await tokenRequest(env.emu, { grant_type: 'password', client_id: integ.clientId });
    assert.equal(r.status, 400);
    assert.equal(r.body.type, OAUTH_TYPE);
  });

  test('refresh rotates: new pair each time, the old refresh token is dead (401 "Token has been revoked")', async () => {
    const first = (await tokenRequest(env.emu, codeParams(await newCode()))).body;
    const refresh = (rt) => tokenRequest(env.emu, {
      client_id: integ.clientId, client_secret: integ.clientSecret, grant_type: 'refresh_token', refresh_token: rt, redirect_uri: integ.redirectUri,
    });
    const before = (await env.admin('GET', '/_admin/stats')).revokedTokenUses;
    const second = await refresh(first.refresh_token);
    assert.equal(second.status, 200);
    assert.notEqual(second.body.refresh_token, first.refresh_token);
    assert.notEqual(second.body.access_token, first.access_token);
    assert.equal(decodeJwt(second.body.access_token)[1].grant_type, 'refresh_token');
    const reuse = await refresh(first.refresh_token);
    assert.equal(reuse.status, 401);
    assert.equal(reuse.body.hint, 'Token has been revoked');
    assert.equal(reuse.body.title, 'Некорректный запрос');
    assert.equal('error' in reuse.body, false);
    const third = await refresh(second.body.refresh_token);
    assert.equal(third.status, 200);
    const stats = await env.admin('GET', '/_admin/stats');
    assert.equal(stats.revokedTokenUses, before + 1);
    assert.ok(stats.tokenGrants.refresh_token >= 2);
    assert.ok(stats.tokenGrants.authorization_code >= 1);
    // By default the previous access token keeps working until it expires.
    assert.equal((await client(env.emu, first.access_token).get('/api/v4/account')).status, 200);
  });

  test('refreshRequiresRedirectUri (default true): a refresh without redirect_uri → 400, token not spent', async () => {
    const pair = await env.admin('POST', '/_admin/oauth/tokens', {});
    const body = { grant_type: 'refresh_token', refresh_token: pair.refresh_token, client_id: integ.clientId, client_secret: integ.clientSecret };
    const r = await tokenRequest(env.emu, body, { form: true });
    assert.equal(r.status, 400);
    assert.equal(r.body.hint, 'Check the `redirect_uri` parameter');
    const ok = await tokenRequest(env.emu, { ...body, redirect_uri: integ.redirectUri });
    assert.equal(ok.status, 200);
  });

  test('refreshRequiresRedirectUri=false: n8n-style refresh (form body creds, or HTTP Basic) is accepted', async () => {
    await env.admin('POST', '/_admin/config', { refreshRequiresRedirectUri: false });
    try {
      const pair = await env.admin('POST', '/_admin/oauth/tokens', {});
      const r1 = await tokenRequest(env.emu, {
        refresh_token: pair.refresh_token, grant_type: 'refresh_token', client_id: integ.clientId, client_secret: integ.clientSecret,
      }, { form: true });
      assert.equal(r1.status, 200);
      const basic = Buffer.from(`${encodeURIComponent(integ.clientId)}:${encodeURIComponent(integ.clientSecret)}`).toString('base64');
      const r2 = await tokenRequest(env.emu, { refresh_token: r1.body.refresh_token, grant_type: 'refresh_token' }, {
        form: true, headers: { authorization: `Basic ${basic}` },
      });
      assert.equal(r2.status, 200);
      const log = (await env.admin('GET', '/_admin/requests?path=/oauth2/access_token')).requests;
      assert.match(log.at(-1).body, /grant_type=refresh_token/);
    } finally {
      await env.admin('POST', '/_admin/config', { refreshRequiresRedirectUri: true });
    }
  });

  test('refreshRevokesAccessToken=true: a refresh also kills the previous access token', async () => {
    await env.admin('POST', '/_admin/config', { refreshRevokesAccessToken: true });
    try {
      const pair = await env.admin('POST', '/_admin/oauth/tokens', {});
      const r = await tokenRequest(env.emu, {
        client_id: integ.clientId, client_secret: integ.clientSecret, grant_type: 'refresh_token', refresh_token: pair.refresh_token, redirect_uri: integ.redirectUri,
      });
      assert.equal(r.status, 200);
      assert.equal((await client(env.emu, pair.access_token).get('/api/v4/account')).status, 401);
      assert.equal((await client(env.emu, r.body.access_token).get('/api/v4/account')).status, 200);
    } finally {
      await env.admin('POST', '/_admin/config', { refreshRevokesAccessToken: false });
    }
  });

  test('refresh with a wrong secret → 401 "Cannot decrypt the refresh token"; refresh older than 3 months → 401 "Token has expired"', async () => {
    const pair = await env.admin('POST', '/_admin/oauth/tokens', {});
    const base = { grant_type: 'refresh_token', refresh_token: pair.refresh_token, client_id: integ.clientId, redirect_uri: integ.redirectUri };
    let r = await tokenRequest(env.emu, { ...base, client_secret: 'bad' });
    assert.equal(r.status, 401);
    assert.equal(r.body.hint, 'Cannot decrypt the refresh token');
    await env.admin('POST', '/_admin/clock', { seconds: 91 * 86400 });
    try {
      r = await tokenRequest(env.emu, { ...base, client_secret: integ.clientSecret });
      assert.equal(r.status, 401);
      assert.equal(r.body.hint, 'Token has expired');
    } finally {
      env.emu.state.clockOffsetMs = 0;
    }
  });
});

describe('Bearer authentication of /api/v4', () => {
  let env;
  before(async () => { env = await setup({ accessTokenTtlSeconds: 1 }); });
  after(() => env.close());

  const expect401 = async (res) => {
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.match(res.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
    assert.deepEqual(res.body, { title: 'Unauthorized', type: 'https://httpstatus.es/401', status: 401, detail: 'Неверный логин или пароль' });
  };

  test('missing or unknown token → 401 with x-request-id', async () => {
    await expect401(await client(env.emu, null).get('/api/v4/leads'));
    await expect401(await client(env.emu, 'not-a-token').get('/api/v4/leads'));
  });

  test('every API response carries x-request-id', async () => {
    const r = await env.api.get('/api/v4/account');
    assert.match(r.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
  });

  test('access tokens expire after accessTokenTtlSeconds', async () => {
    const pair = await env.admin('POST', '/_admin/oauth/tokens', {});
    assert.equal(pair.expires_in, 1);
    assert.equal((await client(env.emu, pair.access_token).get('/api/v4/account')).status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    await expect401(await client(env.emu, pair.access_token).get('/api/v4/account'));
    const log = (await env.admin('GET', '/_admin/requests?tokenKind=expired')).requests;
    assert.ok(log.length >= 1);
  });

  test('admin can expire an access token immediately', async () => {
    const pair = await env.admin('POST', '/_admin/oauth/tokens', { expiresInSeconds: 3600 });
    const c = client(env.emu, pair.access_token);
    assert.equal((await c.get('/api/v4/account')).status, 200);
    const r = await env.admin('POST', '/_admin/tokens/expire', { access_token: pair.access_token });
    assert.equal(r.expired, 1);
    await expect401(await c.get('/api/v4/account'));
  });

  test('long-lived token: works until revoked, then 401; uses of revoked tokens are counted', async () => {
    const { token } = await env.admin('POST', '/_admin/long-lived-token', { expiresInSeconds: 3600 });
    const [header, claims] = decodeJwt(token);
    assert.equal(header.alg, 'RS256');
    assert.equal(claims.exp - claims.iat, 3600);
    const c = client(env.emu, token);
    assert.equal((await c.get('/api/v4/account')).status, 200);
    const before = (await env.admin('GET', '/_admin/stats')).revokedTokenUses;
    await env.admin('POST', '/_admin/tokens/revoke', { access_token: token });
    await expect401(await c.get('/api/v4/account'));
    assert.equal((await env.admin('GET', '/_admin/stats')).revokedTokenUses, before + 1);
  });

  test('long-lived token expires', async () => {
    const { token } = await env.admin('POST', '/_admin/long-lived-token', { expiresInSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    await expect401(await client(env.emu, token).get('/api/v4/account'));
  });

  test('expire all', async () => {
    const a = await env.admin('POST', '/_admin/oauth/tokens', { expiresInSeconds: 3600 });
    const r = await env.admin('POST', '/_admin/tokens/expire', { all: true });
    assert.ok(r.expired >= 1);
    await expect401(await client(env.emu, a.access_token).get('/api/v4/account'));
  });
});

describe('authorize page (GET /oauth)', () => {
  let env;
  let integ;
  before(async () => { env = await setup(); integ = env.emu.state.integration; });
  after(() => env.close());

  test('shows an Allow page; Allow 302s to redirect_uri with code, state, referer, platform, client_id', async () => {
    const q = new URLSearchParams({ client_id: integ.clientId, state: 'xyz123', mode: 'popup', redirect_uri: integ.redirectUri });
    const page = await fetch(`${env.emu.url}/oauth?${q}`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    const htmlText = await page.text();
    assert.match(htmlText, /Allow access for .* to Demo Company/);
    assert.match(htmlText, /<form method="post" action="\/oauth\/allow">/);
    assert.match(htmlText, /name="state" value="xyz123"/);
    const res = await fetch(`${env.emu.url}/oauth/allow`, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: integ.clientId, state: 'xyz123', mode: 'popup', decision: 'allow' }).toString(),
    });
    assert.equal(res.status, 302);
    const loc = new URL(res.headers.get('location'));
    assert.equal(`${loc.origin}${loc.pathname}`, integ.redirectUri);
    assert.equal(loc.searchParams.get('state'), 'xyz123');
    assert.equal(loc.searchParams.get('referer'), `127.0.0.1:${env.emu.port}`);
    assert.equal(loc.searchParams.get('client_id'), integ.clientId);
    assert.ok(loc.searchParams.get('platform'));
    const code = loc.searchParams.get('code');
    const tok = await tokenRequest(env.emu, {
      client_id: integ.clientId, client_secret: integ.clientSecret, grant_type: 'authorization_code', code, redirect_uri: integ.redirectUri,
    });
    assert.equal(tok.status, 200);
  });

  test('?auto=1 skips the page (headless)', async () => {
    const q = new URLSearchParams({ client_id: integ.clientId, state: 's1', mode: 'post_message', auto: '1' });
    const res = await fetch(`${env.emu.url}/oauth?${q}`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.ok(new URL(res.headers.get('location')).searchParams.get('code'));
  });

  test('Deny redirects with error=access_denied; unknown client_id or foreign redirect_uri → 400 page', async () => {
    const deny = await fetch(`${env.emu.url}/oauth/allow?client_id=${integ.clientId}&state=s&decision=deny`, { redirect: 'manual' });
    assert.equal(deny.status, 302);
    assert.equal(new URL(deny.headers.get('location')).searchParams.get('error'), 'access_denied');
    assert.equal((await fetch(`${env.emu.url}/oauth?client_id=nope`)).status, 400);
    const foreign = await fetch(`${env.emu.url}/oauth?client_id=${integ.clientId}&redirect_uri=${encodeURIComponent('https://evil.example/')}`);
    assert.equal(foreign.status, 400);
  });

  test('runtime redirectUri change via /_admin/config (n8n callback URL)', async () => {
    const old = integ.redirectUri;
    await env.admin('POST', '/_admin/config', { redirectUri: 'http://127.0.0.1:9999/rest/oauth2-credential/callback' });
    try {
      const res = await fetch(`${env.emu.url}/oauth?client_id=${integ.clientId}&auto=1`, { redirect: 'manual' });
      assert.match(res.headers.get('location'), /^http:\/\/127\.0\.0\.1:9999\/rest\/oauth2-credential\/callback\?code=/);
    } finally {
      await env.admin('POST', '/_admin/config', { redirectUri: old });
    }
  });

  test('subdomain recovery endpoint answers {id, subdomain, domain, top_level_domain}', async () => {
    const pair = await env.admin('POST', '/_admin/oauth/tokens', {});
    const res = await fetch(`${env.emu.url}/oauth2/account/current/subdomain`, { headers: { 'x-refresh-token': pair.refresh_token } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: 31000001, subdomain: 'demo', domain: `127.0.0.1:${env.emu.port}`, top_level_domain: 'ru' });
  });
});
