import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { setup, client } from './helpers.mjs';
import { RateLimiter } from './ratelimit.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('rate limit (7 req/s per token, sliding window)', () => {
  let env;
  before(async () => { env = await setup({ seed: 'base', rateLimit: 7 }); });
  after(() => env.close());

  const freshToken = async () => (await env.admin('POST', '/_admin/long-lived-token', { expiresInSeconds: 600 })).token;

  test('the 8th request within a second → 429 nginx HTML without Retry-After; other tokens unaffected', async () => {
    await sleep(1100);
    const token = await freshToken();
    const c = client(env.emu, token);
    await env.admin('POST', '/_admin/stats/reset');
    const results = await Promise.all(Array.from({ length: 10 }, () => c.get('/api/v4/leads/pipelines')));
    const codes = results.map((r) => r.status).sort();
    assert.deepEqual(codes, [200, 200, 200, 200, 200, 200, 200, 429, 429, 429]);
    const limited = results.find((r) => r.status === 429);
    assert.equal(limited.headers.get('content-type'), 'text/html');
    assert.equal(limited.headers.get('retry-after'), null);
    assert.match(limited.text, /^<html>\r?\n<head><title>429 Too Many Requests<\/title><\/head>/);
    assert.match(limited.text, /nginx/);
    const other = client(env.emu, await freshToken());
    assert.equal((await other.get('/api/v4/leads/pipelines')).status, 200);
    const stats = await env.admin('GET', '/_admin/stats');
    assert.equal(stats.rateLimited, 3);
    assert.equal(stats.calls['GET /api/v4/leads/pipelines']['429'], 3);
    assert.equal(stats.calls['GET /api/v4/leads/pipelines']['200'], 8);
  });

  test('a 429 does not perform the request', async () => {
    const c = client(env.emu, await freshToken());
    const before = (await env.admin('GET', '/_admin/leads/count')).count;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => c.post('/api/v4/leads', [{ name: `burst ${i}` }])));
    const ok = results.filter((r) => r.status === 200).length;
    assert.equal(ok, 7);
    assert.equal((await env.admin('GET', '/_admin/leads/count')).count, before + 7);
  });

  test('window slides: capacity returns 1 s after the accepted requests; 429s do not count', async () => {
    const c = client(env.emu, await freshToken());
    const t0 = Date.now();
    const accepted = await Promise.all(Array.from({ length: 7 }, () => c.get('/api/v4/account')));
    assert.ok(accepted.every((r) => r.status === 200));
    const tAccepted = Date.now();
    await sleep(Math.max(0, t0 + 500 - Date.now()));
    const rejected = await Promise.all(Array.from({ length: 8 }, () => c.get('/api/v4/account')));
    // Only meaningful while still inside the first window (a very slow machine may be past it).
    if (Date.now() - t0 < 950) assert.ok(rejected.every((r) => r.status === 429));
    await sleep(Math.max(0, tAccepted + 1050 - Date.now()));
    // Rejected requests do not use up the window: 1.1 s after the accepted ones, capacity is back.
    assert.equal((await c.get('/api/v4/account')).status, 200);
  });

  test('requests count when their headers arrived, as with nginx, whatever order their bodies finish in', () => {
    const limiter = new RateLimiter();
    // Seven requests arrive over 600 ms; the first one's big body is read last.
    for (const t of [100, 200, 300, 400, 500, 600]) assert.equal(limiter.take('k', 7, t), true);
    assert.equal(limiter.take('k', 7, 0), true, 'the first arrival, checked late');
    // At 1,050 ms the request that arrived at 0 has left the window: one more fits, then none.
    assert.equal(limiter.take('k', 7, 1050), true);
    assert.equal(limiter.take('k', 7, 1060), false);
    // Had the late body been counted when it finished (at 700), it would still hold its place.
    const byBody = new RateLimiter();
    for (const t of [100, 200, 300, 400, 500, 600, 700]) byBody.take('k', 7, t);
    assert.equal(byBody.take('k', 7, 1050), false);
  });

  test('repeated 429s ban the token (403 HTML for everything) until the admin resets; 429s spread out do not', async () => {
    await env.admin('POST', '/_admin/config', { banAfter429s: 5, ban429WindowMs: 2000 });
    try {
      await sleep(1100);
      const c = client(env.emu, await freshToken());
      await env.admin('POST', '/_admin/stats/reset');
      // 4 × 429 in one burst, then the window passes: not banned.
      let codes = (await Promise.all(Array.from({ length: 11 }, () => c.get('/api/v4/account')))).map((r) => r.status);
      assert.equal(codes.filter((s) => s === 429).length, 4);
      await sleep(2100);
      codes = (await Promise.all(Array.from({ length: 11 }, () => c.get('/api/v4/account')))).map((r) => r.status);
      assert.equal(codes.filter((s) => s === 429).length, 4, 'the first four are outside the window now');
      // A fifth within the window bans.
      codes = (await Promise.all(Array.from({ length: 2 }, () => c.get('/api/v4/account')))).map((r) => r.status);
      assert.deepEqual(codes, [429, 403]);
      await sleep(1100);
      const banned = await c.get('/api/v4/account');
      assert.equal(banned.status, 403);
      assert.match(banned.text, /403 Forbidden/);
      const other = client(env.emu, await freshToken());
      assert.equal((await other.get('/api/v4/account')).status, 200, 'other tokens are not banned');
      const stats = await env.admin('GET', '/_admin/stats');
      assert.equal(stats.rateLimited, 9);
      assert.equal(stats.banned, 2);
      assert.ok(stats.bannedAt);
      await env.admin('POST', '/_admin/reset', {});
      assert.equal((await c.get('/api/v4/account')).status, 200, 'lifted by the admin');
    } finally {
      await env.admin('POST', '/_admin/config', { banAfter429s: 0 });
    }
  });

  test('rateLimit can be switched off at runtime', async () => {
    await env.admin('POST', '/_admin/config', { rateLimit: 0 });
    try {
      const c = client(env.emu, await freshToken());
      const results = await Promise.all(Array.from({ length: 20 }, () => c.get('/api/v4/account')));
      assert.ok(results.every((r) => r.status === 200));
    } finally {
      await env.admin('POST', '/_admin/config', { rateLimit: 7 });
    }
  });
});

describe('injected faults', () => {
  let env;
  before(async () => { env = await setup({ seed: { leads: 10 } }); });
  after(() => env.close());
  beforeEach(() => env.admin('DELETE', '/_admin/faults'));

  const count = async () => (await env.admin('GET', '/_admin/leads/count')).count;

  test('"the next 2 GET /api/v4/leads → 503": nginx HTML, fires twice and disappears; other paths untouched', async () => {
    const { faults } = await env.admin('POST', '/_admin/faults', { method: 'GET', path: '/api/v4/leads', status: 503, count: 2 });
    assert.equal(faults[0].kind, 'status');
    assert.equal((await env.api.get('/api/v4/leads/pipelines')).status, 200);
    assert.equal((await env.api.get('/api/v4/leads/20000001')).status, 200);
    assert.equal((await env.api.post('/api/v4/leads', [{ name: 'post is not GET' }])).status, 200);
    const a = await env.api.get('/api/v4/leads');
    assert.equal(a.status, 503);
    assert.equal(a.headers.get('content-type'), 'text/html');
    assert.match(a.text, /503 Service Temporarily Unavailable/);
    assert.equal((await env.api.get('/api/v4/leads?page=2')).status, 503);
    assert.equal((await env.api.get('/api/v4/leads')).status, 200);
    assert.deepEqual((await env.admin('GET', '/_admin/faults')).faults, []);
  });

  test('"next POST /api/v4/leads → apply it, then answer 504": the lead exists although the client saw 504', async () => {
    await env.admin('POST', '/_admin/faults', { method: 'POST', path: '/api/v4/leads', kind: 'after', status: 504 });
    const before = await count();
    const r = await env.api.post('/api/v4/leads', [{ name: 'ghost write' }]);
    assert.equal(r.status, 504);
    assert.match(r.text, /504 Gateway Time-out/);
    assert.equal(await count(), before + 1);
    const found = await env.api.get(`/api/v4/leads?query=${encodeURIComponent('ghost write')}`);
    assert.equal(found.body._embedded.leads.length, 1);
  });

  test('drop: the socket is destroyed without an answer and the request is not performed', async () => {
    await env.admin('POST', '/_admin/faults', { method: 'POST', path: '/api/v4/leads', kind: 'drop' });
    const before = await count();
    await assert.rejects(env.api.post('/api/v4/leads', [{ name: 'dropped' }]));
    assert.equal(await count(), before);
    assert.equal((await env.api.post('/api/v4/leads', [{ name: 'after drop' }])).status, 200);
    const log = (await env.admin('GET', '/_admin/requests?status=dropped')).requests;
    assert.equal(log.at(-1).fault, 'drop');
  });

  test('drop-after: performed, then the socket is destroyed', async () => {
    await env.admin('POST', '/_admin/faults', { method: 'POST', path: '/api/v4/leads', kind: 'drop-after' });
    const before = await count();
    await assert.rejects(env.api.post('/api/v4/leads', [{ name: 'applied then dropped' }]));
    assert.equal(await count(), before + 1);
  });

  test('delay N ms, then a normal answer', async () => {
    await env.admin('POST', '/_admin/faults', { path: '/api/v4/account', kind: 'delay', delayMs: 300 });
    const t0 = Date.now();
    const r = await env.api.get('/api/v4/account');
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 >= 290);
    const t1 = Date.now();
    await env.api.get('/api/v4/account');
    assert.ok(Date.now() - t1 < 250);
  });

  test('HTML 403 (nginx blocked), 402 Payment Required, 429, 401', async () => {
    await env.admin('POST', '/_admin/faults', [
      { path: '/api/v4/account', kind: 'html403' },
      { path: '/api/v4/account', kind: 'payment' },
      { path: '/api/v4/account', kind: 'rate-limit' },
      { path: '/api/v4/account', kind: 'unauthorized' },
    ]);
    const r403 = await env.api.get('/api/v4/account');
    assert.equal(r403.status, 403);
    assert.equal(r403.headers.get('content-type'), 'text/html');
    assert.match(r403.text, /<title>403 Forbidden<\/title>/);
    const r402 = await env.api.get('/api/v4/account');
    assert.equal(r402.status, 402);
    assert.equal(r402.body.status, 402);
    const r429 = await env.api.get('/api/v4/account');
    assert.equal(r429.status, 429);
    assert.equal(r429.headers.get('retry-after'), null);
    const r401 = await env.api.get('/api/v4/account');
    assert.equal(r401.status, 401);
    assert.equal(r401.body.detail, 'Неверный логин или пароль');
    assert.equal((await env.api.get('/api/v4/account')).status, 200);
  });

  test('matching: glob paths with {id} and *, skip, query subset, method any, persistent count -1', async () => {
    await env.admin('POST', '/_admin/faults', { path: '/api/v4/leads/{id}', status: 500, skip: 1 });
    assert.equal((await env.api.get('/api/v4/leads/20000001')).status, 200);
    assert.equal((await env.api.get('/api/v4/leads/20000002')).status, 500);
    assert.equal((await env.api.get('/api/v4/leads/20000002')).status, 200);
    await env.admin('POST', '/_admin/faults', { path: '/api/v4/leads', query: { page: '3' }, status: 502 });
    assert.equal((await env.api.get('/api/v4/leads?page=2&limit=2')).status, 200);
    assert.equal((await env.api.get('/api/v4/leads?page=3&limit=2')).status, 502);
    await env.admin('POST', '/_admin/faults', { path: '/api/v4/leads/*/notes', status: 503, count: -1 });
    for (let i = 0; i < 3; i++) assert.equal((await env.api.get('/api/v4/leads/20000001/notes')).status, 503);
    await env.admin('DELETE', '/_admin/faults');
    assert.equal((await env.api.get('/api/v4/leads/20000001/notes')).status, 204);
    await env.admin('POST', '/_admin/faults', { path: '/oauth2/access_token', status: 500 });
    const tok = await fetch(`${env.emu.url}/oauth2/access_token`, { method: 'POST', body: '{}' });
    assert.equal(tok.status, 500);
  });

  test('custom body/contentType for a status fault; invalid fault specs → 400', async () => {
    await env.admin('POST', '/_admin/faults', { path: '/api/v4/account', status: 500, body: { oops: true } });
    const r = await env.api.get('/api/v4/account');
    assert.equal(r.status, 500);
    assert.deepEqual(r.body, { oops: true });
    for (const bad of [{ kind: 'explode' }, { status: 503, count: 0 }, { status: 99 }, { kind: 'delay', delayMs: -5 }]) {
      const res = await fetch(`${env.emu.url}/_admin/faults`, { method: 'POST', body: JSON.stringify(bad) });
      assert.equal(res.status, 400, JSON.stringify(bad));
    }
  });

  test('request log and stats record method, path, query, status, token kind, time, fault', async () => {
    await env.admin('POST', '/_admin/stats/reset');
    await env.admin('POST', '/_admin/faults', { method: 'GET', path: '/api/v4/leads', status: 503 });
    await env.api.get('/api/v4/leads?limit=5');
    await env.api.get('/api/v4/leads?limit=5');
    await client(env.emu, null).get('/api/v4/leads');
    await env.api.get('/api/v4/leads?filter[id]=1');
    const stats = await env.admin('GET', '/_admin/stats');
    assert.deepEqual(stats.calls['GET /api/v4/leads'], { 503: 1, 200: 1, 401: 1, 204: 1 });
    assert.equal(stats.requests, 4);
    assert.equal(stats.faultsFired, 1);
    const { requests } = await env.admin('GET', '/_admin/requests?path=/api/v4/leads');
    assert.equal(requests.length, 4);
    const [first, second, third] = requests;
    assert.equal(first.method, 'GET');
    assert.equal(first.query, 'limit=5');
    assert.equal(first.status, 503);
    assert.equal(first.fault, 'status');
    assert.equal(second.tokenKind, 'long_lived');
    assert.equal(third.tokenKind, 'none');
    assert.ok(Date.parse(first.time) > 0);
    assert.equal(typeof first.durationMs, 'number');
    const only401 = (await env.admin('GET', '/_admin/requests?status=401')).requests;
    assert.equal(only401.length, 1);
  });
});
