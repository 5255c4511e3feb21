// OAuth mode of the AmoCRM API credential, driven the way n8n 2.8 drives it:
// preAuthentication when the access token is empty or after a 401, its result
// persisted into the stored credential, authenticate() on every request.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dist, json } from './fake-n8n.mjs';

const { AmoCrmKommoApi } = dist('credentials/AmoCrmKommoApi.credentials.js');
const { AmoCrmLead } = dist('nodes/AmoCrmLead/AmoCrmLead.node.js');

const SECRET = 'client-secret-XYZ';

// The core remembers exchanged codes and rotated tokens for the whole process,
// as n8n's process would; each test gets its own integration to stay apart.
let integration = 0;

function storedCredential(extra = {}) {
  integration += 1;
  return {
    environment: 'local',
    baseUrl: 'http://127.0.0.1:9',
    address: '',
    zone: 'amocrm.ru',
    connectionType: 'oauth',
    clientId: `client-${integration}`,
    clientSecret: SECRET,
    redirectUri: 'https://n8n.example/callback',
    authorizationCode: 'CODE-1',
    accessToken: '',
    refreshToken: '',
    accessExpiresAt: '',
    grantFingerprint: '',
    requestsPerSecond: 50,
    ...extra,
  };
}

/**
 * An amoCRM whose token endpoint rotates refresh tokens like the real one and
 * whose API accepts only the newest access token.
 */
function fakeAmo() {
  const amo = { tokenRequests: [], apiRequests: [], valid: new Set(), refreshable: new Set(), n: 0 };
  amo.token = async (request) => {
    amo.tokenRequests.push(request);
    const body = JSON.parse(request.body);
    await new Promise((r) => setImmediate(r));
    if (body.grant_type === 'refresh_token' && !amo.refreshable.has(body.refresh_token)) {
      amo.onRefused?.();
      return { status: 401, body: JSON.stringify({ hint: 'Token has been revoked', title: 'Некорректный запрос', status: 401 }) };
    }
    amo.refreshable.delete(body.refresh_token);
    amo.n += 1;
    const pair = { access_token: `AT${amo.n}`, refresh_token: `RT${amo.n}` };
    amo.valid.clear();
    amo.valid.add(pair.access_token);
    amo.refreshable.add(pair.refresh_token);
    return { status: 200, body: JSON.stringify({ token_type: 'Bearer', expires_in: 86400, ...pair }) };
  };
  amo.api = async (request) => {
    amo.apiRequests.push(request);
    const token = String(request.headers.Authorization ?? '').replace('Bearer ', '');
    if (!amo.valid.has(token)) return json(401, { title: 'Unauthorized', status: 401, detail: 'Неверный логин или пароль' });
    return json(200, { id: 1, name: 'Lead', account: token === 'x' });
  };
  return amo;
}

/**
 * n8n's httpRequestWithAuthentication with preAuthentication (both 2.8.4 and
 * 2.40.7), over `store` (the database row): the credential is read afresh for
 * every request; preAuthentication runs when the access token is empty, and
 * again with "expired" after an error with status 401 (an HTTP answer, or
 * authenticate() asking for a renewal); its result is persisted; errors come
 * out wrapped as 2.8.4's NodeApiError does: the message kept, the original
 * error object dropped.
 */
function n8nContext(store, amo, params) {
  const credentialType = new AmoCrmKommoApi();
  const helper = {
    helpers: {
      async httpRequest(options) {
        const r = await amo.token(options);
        return { statusCode: r.status, headers: {}, body: r.body };
      },
    },
  };
  const preAuth = async (creds, expired) => {
    if (creds.accessToken !== '' && !expired) return;
    const out = await credentialType.preAuthentication.call(helper, creds);
    if (out.accessToken === undefined) return;
    Object.assign(creds, out);
    Object.assign(store, out); // persisted
  };
  const wrap = (error) =>
    Object.assign(new Error(error.message), { httpCode: error.response ? String(error.response.status) : null });
  return {
    getInputData: () => [{ json: {} }],
    getNode: () => ({ name: 'AmoCRM Lead', type: 'n8n-nodes-amocrm-kommo.amoCrmLead', typeVersion: 1, parameters: {} }),
    continueOnFail: () => false,
    getCredentials: async () => ({ ...store }),
    getNodeParameter: (name, _i, fallback) => params[name] ?? fallback,
    helpers: {
      async httpRequestWithAuthentication(_type, options) {
        const creds = { ...store }; // n8n re-reads the credential for every request
        const send = async () => {
          const r = await amo.api(await credentialType.authenticate(creds, { ...options }));
          if (!options.ignoreHttpStatusErrors && r.status === 401) {
            throw Object.assign(new Error('Request failed with status code 401'), { response: { status: 401 } });
          }
          return { statusCode: r.status, headers: r.headers, body: options.encoding === 'arraybuffer' ? Buffer.from(r.body) : r.body };
        };
        try {
          await preAuth(creds, false);
          return await send();
        } catch (error) {
          if (error.response?.status !== 401) throw wrap(error);
          try {
            await preAuth(creds, true);
            return await send();
          } catch (inner) {
            throw wrap(inner);
          }
        }
      },
    },
  };
}

/**
 * Another n8n process (a queue-mode worker) renews with the stored refresh
 * token now and saves the new pair into the shared store `saveAfterMs` later.
 */
/**
 * Another process renews the stored pair and saves its new one `saveAfterMs`
 * after our refresh was refused (`'atRefusal'`: the moment it is).
 */
async function otherProcessRenews(store, amo, saveAfterMs) {
  const r = await amo.token({ body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: store.refreshToken }) });
  const pair = JSON.parse(r.body);
  assert.equal(r.status, 200);
  const save = () => Object.assign(store, { accessToken: pair.access_token, refreshToken: pair.refresh_token });
  amo.onRefused = () => {
    amo.onRefused = undefined;
    if (saveAfterMs === 'atRefusal') save();
    else setTimeout(save, saveAfterMs).unref();
  };
  return pair;
}

const params = { authentication: 'amoCrmKommoApi', operation: 'get', leadId: { __rl: true, mode: 'id', value: '1' }, with: [] };

test('first use exchanges the authorization code with all five parameters and persists the tokens', async () => {
  const store = storedCredential();
  const amo = fakeAmo();
  const [out] = await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
  assert.equal(out[0].json.id, 1);
  assert.equal(amo.tokenRequests.length, 1);
  const t = amo.tokenRequests[0];
  assert.equal(t.url, 'http://127.0.0.1:9/oauth2/access_token');
  assert.equal(t.method, 'POST');
  assert.deepEqual(JSON.parse(t.body), {
    client_id: store.clientId,
    client_secret: SECRET,
    grant_type: 'authorization_code',
    code: 'CODE-1',
    redirect_uri: 'https://n8n.example/callback',
  });
  assert.equal(store.accessToken, 'AT1');
  assert.equal(store.refreshToken, 'RT1');
  assert.ok(Math.abs(store.accessExpiresAt - (Date.now() + 86_400_000)) < 10_000);
  assert.match(store.grantFingerprint, /^[0-9a-f]{16}$/);
  assert.equal(amo.apiRequests.at(-1).headers.Authorization, 'Bearer AT1');
});

test('an expired access token is renewed once with redirect_uri, the request resent, the rotated refresh token kept', async () => {
  const store = storedCredential();
  const amo = fakeAmo();
  await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
  amo.valid.clear(); // AT1 expires
  const [out] = await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
  assert.equal(out[0].json.id, 1);
  assert.equal(amo.tokenRequests.length, 2);
  assert.deepEqual(JSON.parse(amo.tokenRequests[1].body), {
    client_id: store.clientId,
    client_secret: SECRET,
    grant_type: 'refresh_token',
    refresh_token: 'RT1',
    redirect_uri: 'https://n8n.example/callback',
  });
  assert.equal(store.refreshToken, 'RT2');
  assert.equal(store.accessToken, 'AT2');
  // The next execution uses the rotated pair without another refresh.
  await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
  assert.equal(amo.tokenRequests.length, 2);
});

test('ten executions hitting an expired token at once share one refresh, and none fails', async () => {
  const store = storedCredential();
  const amo = fakeAmo();
  await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
  amo.valid.clear();
  const runs = await Promise.allSettled(Array.from({ length: 10 }, () => new AmoCrmLead().execute.call(n8nContext(store, amo, params))));
  assert.deepEqual(runs.map((r) => r.status), Array(10).fill('fulfilled'));
  const refreshes = amo.tokenRequests.filter((r) => JSON.parse(r.body).grant_type === 'refresh_token');
  assert.equal(refreshes.length, 1);
  assert.equal(store.refreshToken, 'RT2');
});

test('a late execution still holding the spent refresh token gets the new pair instead of burning it', async () => {
  const store = storedCredential();
  const amo = fakeAmo();
  await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
  const stale = { ...store }; // read before the rotation below
  amo.valid.clear();
  await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
  amo.valid.clear();
  amo.valid.add('AT2');
  const late = n8nContext(stale, amo, params);
  const [out] = await new AmoCrmLead().execute.call(late);
  assert.equal(out[0].json.id, 1);
  assert.equal(amo.tokenRequests.length, 2, 'no refresh with the spent RT1');
  assert.equal(stale.refreshToken, 'RT2');
});

test('a revoked refresh token gives the clear error, with what to do and no secret in it', async () => {
  const store = storedCredential({ authorizationCode: '', refreshToken: 'RT-dead', accessToken: 'AT-dead', grantFingerprint: 'x' });
  const amo = fakeAmo();
  await assert.rejects(new AmoCrmLead().execute.call(n8nContext(store, amo, params)), (e) => {
    assert.match(e.message, /renewing the access token failed/);
    assert.match(e.message, /Token has been revoked/);
    assert.match(e.message, /authorization code/);
    const text = JSON.stringify(e) + e.message + (e.description ?? '');
    for (const secret of [SECRET, 'RT-dead', 'AT-dead']) assert.ok(!text.includes(secret), secret);
    return true;
  });
});

test('a failed first code exchange is one token request and one clear error, not retried as a network failure', async () => {
  const store = storedCredential();
  const amo = fakeAmo();
  amo.token = async (request) => {
    amo.tokenRequests.push(request);
    return { status: 400, body: JSON.stringify({ hint: 'Authorization code has expired', title: 'Некорректный запрос', status: 400 }) };
  };
  await assert.rejects(new AmoCrmLead().execute.call(n8nContext(store, amo, params)), (e) => {
    assert.match(e.message, /^Getting lead 1: amoCRM OAuth: The authorization code has expired/);
    assert.match(e.message, /valid 20 minutes/);
    assert.ok(!(e.message + JSON.stringify(e)).includes(SECRET));
    return true;
  });
  assert.equal(amo.tokenRequests.length, 1);
  assert.equal(amo.apiRequests.length, 0);
});

test('a refresh token another process has just spent: the credential is read again and the execution succeeds', async () => {
  for (const saveAfterMs of ['atRefusal', 1200]) {
    const store = storedCredential();
    const amo = fakeAmo();
    await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
    amo.valid.clear(); // AT1 expires
    // The other worker renews first; it saves at once, or only after our first re-read.
    const pair = await otherProcessRenews(store, amo, saveAfterMs);
    const ours = amo.tokenRequests.length;
    const [out] = await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
    assert.equal(out[0].json.id, 1, `saved after ${saveAfterMs} ms`);
    // One refresh, refused as spent; after that the spent token is refused here, never resent.
    assert.equal(amo.tokenRequests.length - ours, 1, `saved after ${saveAfterMs} ms`);
    assert.equal(amo.apiRequests.at(-1).headers.Authorization, `Bearer ${pair.access_token}`);
    assert.equal(store.refreshToken, pair.refresh_token);
  }
});

test('a refresh token nobody saved a successor for fails after the pauses with the revoked message', async () => {
  const store = storedCredential();
  const amo = fakeAmo();
  await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
  amo.valid.clear();
  await otherProcessRenews(store, amo, 60_000_000); // never saved within the test
  const ours = amo.tokenRequests.length;
  const t0 = Date.now();
  await assert.rejects(new AmoCrmLead().execute.call(n8nContext(store, amo, params)), /Token has been revoked/);
  assert.equal(amo.tokenRequests.length - ours, 1, 'the spent token went to amoCRM once');
  assert.ok(Date.now() - t0 >= 7_000, 'it waited for the other process (0.5 + 1 + 2 + 4 s)');
});

const DAY = 86_400_000;

test('a refresh token older than 30 days is renewed before the request, with no 401, and its age restarts', async () => {
  const store = storedCredential();
  const amo = fakeAmo();
  await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
  assert.ok(Math.abs(store.refreshIssuedAt - Date.now()) < 10_000, 'the issue time is stored');
  // 29 days: nothing to do (the access token still works in this fake).
  store.refreshIssuedAt = Date.now() - 29 * DAY;
  await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
  assert.equal(amo.tokenRequests.length, 1);
  // 31 days: renewed first, then one API request with the new token.
  store.refreshIssuedAt = Date.now() - 31 * DAY;
  const api = amo.apiRequests.length;
  const [out] = await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
  assert.equal(out[0].json.id, 1);
  assert.equal(amo.tokenRequests.length, 2);
  assert.equal(JSON.parse(amo.tokenRequests[1].body).refresh_token, 'RT1');
  assert.equal(amo.apiRequests.length - api, 1, 'no request with the old token, no 401');
  assert.equal(amo.apiRequests.at(-1).headers.Authorization, 'Bearer AT2');
  assert.equal(store.refreshToken, 'RT2');
  assert.ok(Math.abs(store.refreshIssuedAt - Date.now()) < 10_000);
});

test('a keep-alive renewal that fails does not fail the request, and is not tried again within the hour', async () => {
  const store = storedCredential();
  const amo = fakeAmo();
  await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
  store.refreshIssuedAt = Date.now() - 40 * DAY;
  const token = amo.token;
  amo.token = async (request) => {
    amo.tokenRequests.push(request);
    return { status: 502, body: '<html>502</html>' };
  };
  const [out] = await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
  assert.equal(out[0].json.id, 1, 'sent with the access token it has');
  assert.equal(amo.tokenRequests.length, 2);
  assert.equal(amo.apiRequests.at(-1).headers.Authorization, 'Bearer AT1');
  await new AmoCrmLead().execute.call(n8nContext(store, amo, params));
  assert.equal(amo.tokenRequests.length, 2, 'held off');
  amo.token = token;
  assert.equal(store.refreshToken, 'RT1', 'nothing lost');
});

test("authenticate() checks the URL axios will send to, not a join of baseURL and an absolute url", async () => {
  const credential = new AmoCrmKommoApi();
  const creds = { environment: 'cloud', address: 'shop.amocrm.ru', zone: 'amocrm.ru', connectionType: 'longLivedToken', longLivedToken: 'LLT' };
  const own = 'https://shop.amocrm.ru';
  const refused = /Refused to send the amoCRM credential to another address/;
  // axios ignores baseURL for an absolute url: this goes to evil.test.
  await assert.rejects(credential.authenticate(creds, { url: 'https://evil.test/api/v4/leads', baseURL: own }), refused);
  // Protocol-relative is absolute to axios too.
  await assert.rejects(credential.authenticate(creds, { url: '//evil.test/api/v4/leads', baseURL: own }), refused);
  // A relative url is sent to the account, whatever baseURL a caller set.
  const rel = await credential.authenticate(creds, { url: '/api/v4/account', baseURL: 'https://evil.test' });
  assert.equal(rel.baseURL, own);
  assert.equal(rel.headers.Authorization, 'Bearer LLT');
  // allowAbsoluteUrls: false makes axios join them, onto the account.
  const joined = await credential.authenticate(creds, { url: 'https://evil.test/x', baseURL: own, allowAbsoluteUrls: false });
  assert.equal(joined.headers.Authorization, 'Bearer LLT');
  const abs = await credential.authenticate(creds, { url: `${own}/api/v4/leads` });
  assert.equal(abs.headers.Authorization, 'Bearer LLT');
});
