import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startEmulator } from './server.mjs';
import { setup, client, adminCall } from './helpers.mjs';

const CLI = fileURLToPath(new URL('./cli.mjs', import.meta.url));

describe('admin API', () => {
  let env;
  before(async () => { env = await setup({ seed: 'base' }); });
  after(() => env.close());

  test('reset: back to the seed, faults/stats/log cleared, tokens kept unless {tokens:true}', async () => {
    await env.api.post('/api/v4/leads', [{ name: 'temporary' }]);
    await env.admin('POST', '/_admin/faults', { path: '/nowhere', status: 500 });
    assert.equal((await env.admin('GET', '/_admin/leads/count')).count, 1);
    const r = await env.admin('POST', '/_admin/reset', {});
    assert.equal(r.leads, 0);
    assert.equal((await env.admin('GET', '/_admin/leads/count')).count, 0);
    assert.deepEqual((await env.admin('GET', '/_admin/faults')).faults, []);
    assert.equal((await env.admin('GET', '/_admin/stats')).requests, 0);
    assert.deepEqual((await env.admin('GET', '/_admin/requests')).requests, []);
    assert.equal((await env.api.get('/api/v4/account')).status, 200);
    await env.admin('POST', '/_admin/reset', { tokens: true });
    assert.equal((await env.api.get('/api/v4/account')).status, 401);
    env.token = (await env.admin('POST', '/_admin/long-lived-token', { expiresInSeconds: 3600 })).token;
    env.api = client(env.emu, env.token);
  });

  test('seed {leads: 50000} is fast, and paging/filtering over it stays quick', async () => {
    const t0 = Date.now();
    const r = await env.admin('POST', '/_admin/seed', { leads: 50000 });
    const took = Date.now() - t0;
    assert.equal(r.total, 50000);
    assert.ok(took < 5000, `seeding took ${took} ms`);
    assert.equal((await env.admin('GET', '/_admin/leads/count')).count, 50000);
    const t1 = Date.now();
    const last = await env.api.get('/api/v4/leads?limit=250&page=200');
    assert.equal(last.body._embedded.leads.length, 250);
    assert.ok(last.body._links.next);
    assert.equal((await env.api.get('/api/v4/leads?limit=250&page=201')).status, 204);
    const q = await env.api.get(`/api/v4/leads?query=${encodeURIComponent('Ромашка')}&order[created_at]=desc&limit=250`);
    assert.equal(q.status, 200);
    assert.ok(Date.now() - t1 < 3000);
  });

  test('seed with contacts and append', async () => {
    const r = await env.admin('POST', '/_admin/seed', { leads: 100, contactsPerLead: 2, companyRatio: 0.5, maxNotesPerLead: 2 });
    assert.equal(r.total, 100);
    assert.equal(r.contacts, 200);
    assert.ok(r.companies > 20 && r.companies < 80);
    const a = await env.admin('POST', '/_admin/seed', { leads: 50, append: true });
    assert.equal(a.total, 150);
    const lead = (await env.api.get('/api/v4/leads/20000001?with=contacts')).body;
    assert.equal(lead._embedded.contacts.length, 2);
    assert.equal(lead._embedded.contacts.filter((c) => c.is_main).length, 1);
  });

  test('GET /_admin/leads/{id} returns raw state; unknown → 404; POST /_admin/leads validates', async () => {
    const raw = await env.admin('GET', '/_admin/leads/20000001');
    assert.equal(raw.id, 20000001);
    assert.ok('cf' in raw && 'is_deleted' in raw);
    assert.equal((await fetch(`${env.emu.url}/_admin/leads/1`)).status, 404);
    const bad = await fetch(`${env.emu.url}/_admin/leads`, { method: 'POST', body: JSON.stringify({ price: -1 }) });
    assert.equal(bad.status, 400);
    const ok = await env.admin('POST', '/_admin/leads', [{ name: 'from UI' }]);
    assert.equal(ok.ids.length, 1);
  });

  test('admin errors: bad JSON → 400, unknown route → 404, wrong method → 405', async () => {
    assert.equal((await fetch(`${env.emu.url}/_admin/seed`, { method: 'POST', body: '{' })).status, 400);
    assert.equal((await fetch(`${env.emu.url}/_admin/nothing`)).status, 404);
    assert.equal((await fetch(`${env.emu.url}/_admin/stats`, { method: 'DELETE' })).status, 405);
    const index = await adminCall(env.emu, 'GET', '/_admin');
    assert.ok(index.routes.includes('POST /_admin/faults'));
  });

  test('clock: advancing moves timestamps of new leads', async () => {
    const before = (await env.admin('GET', '/_admin/clock')).now;
    const { token } = await env.admin('POST', '/_admin/long-lived-token', { expiresInSeconds: 10 * 86400 });
    const c = client(env.emu, token);
    await env.admin('POST', '/_admin/clock', { seconds: 86400 });
    try {
      assert.equal((await env.api.get('/api/v4/account')).status, 401); // the 1-hour token expired meanwhile
      const id = (await c.post('/api/v4/leads', [{ name: 'tomorrow' }])).body._embedded.leads[0].id;
      const lead = (await c.get(`/api/v4/leads/${id}`)).body;
      assert.ok(lead.created_at >= before + 86400);
    } finally {
      await env.admin('POST', '/_admin/clock', { seconds: -86400 });
    }
  });
});

describe('in-process JS admin API and seed determinism', () => {
  test('emu.admin mirrors the HTTP admin API', async () => {
    const emu = await startEmulator({ seed: 'base', rateLimit: 0 });
    try {
      emu.admin.seed({ leads: 5 });
      const pair = emu.admin.issueTokens({});
      const c = client(emu, pair.access_token);
      assert.equal((await c.get('/api/v4/leads')).body._embedded.leads.length, 5);
      emu.admin.addFaults({ path: '/api/v4/leads', status: 503 });
      assert.equal((await c.get('/api/v4/leads')).status, 503);
      assert.equal(emu.admin.stats().calls['GET /api/v4/leads']['503'], 1);
      emu.admin.expireTokens({ all: true });
      assert.equal((await c.get('/api/v4/leads')).status, 401);
      assert.equal(typeof emu.admin.issueCode({}).code, 'string');
      assert.equal(emu.admin.leadCount().count, 5);
    } finally {
      await emu.close();
    }
  });

  test('the same seed gives the same data; another PRNG seed differs', async () => {
    const snapshot = async (seed) => {
      const emu = await startEmulator({ seed, rateLimit: 0 });
      try {
        const c = client(emu, emu.admin.longLivedToken({}).token);
        const r = await c.get('/api/v4/leads?limit=250&with=contacts');
        return JSON.stringify(r.body._embedded.leads).replaceAll(emu.url, '');
      } finally {
        await emu.close();
      }
    };
    const a = await snapshot('demo');
    const b = await snapshot('demo');
    assert.equal(a, b);
    const c = await snapshot({ demo: true, random: 7 });
    assert.notEqual(a, c);
  });

  test('demo seed: hundreds of leads with names, prices, fields, tags, contacts, companies and notes', async () => {
    const t0 = Date.now();
    const emu = await startEmulator({ seed: 'demo', rateLimit: 0 });
    const started = Date.now() - t0;
    try {
      assert.ok(started < 1000, `start took ${started} ms`);
      const d = emu.state.data;
      assert.ok(d.leads.size >= 200 && d.leads.size <= 1000);
      assert.ok(d.contacts.size >= 200);
      assert.ok(d.companies.size >= 100);
      assert.ok(d.notes.size >= 100);
      const leads = [...d.leads.values()];
      // The demo speaks the README's language: English names throughout.
      assert.ok(leads.every((l) => !/[а-яё]/i.test(l.name)), 'lead names in English');
      const statuses = [...d.pipelines.values()].flatMap((p) => p.statuses.map((s) => s.name));
      assert.ok(statuses.includes('Closed - won') && statuses.every((n) => !/[а-яё]/i.test(n)), statuses.join(', '));
      assert.ok([...d.users.values()].every((u) => !/[а-яё]/i.test(u.name)));
      assert.ok(leads.some((l) => l.tags.length) && leads.some((l) => Object.keys(l.cf).length));
      assert.ok(leads.some((l) => l.status_id === 142) && leads.some((l) => l.status_id === 143));
      assert.ok(new Set(leads.map((l) => l.pipeline_id)).size === 2);
    } finally {
      await emu.close();
    }
  });

  test('base start is well under a second and listens on 127.0.0.1 only', async () => {
    const t0 = Date.now();
    const emu = await startEmulator();
    try {
      assert.ok(Date.now() - t0 < 500);
      assert.match(emu.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(emu.server.address().address, '127.0.0.1');
      assert.equal(emu.port, emu.server.address().port);
    } finally {
      await emu.close();
    }
  });
});

describe('cli.mjs', () => {
  const run = (args) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const firstLine = new Promise((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (c) => {
        buf += c;
        const i = buf.indexOf('\n');
        if (i >= 0) resolve(buf.slice(0, i));
      });
      child.once('exit', (code) => reject(new Error(`exited ${code} before printing`)));
    });
    return { child, firstLine };
  };

  test('prints one JSON line once listening, serves the API, stops cleanly on SIGTERM', async () => {
    const { child, firstLine } = run(['--seed-demo', '--rate-limit', '0', '--token-ttl', '120', '--leads', '500']);
    try {
      const info = JSON.parse(await firstLine);
      assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(info.url, `http://127.0.0.1:${info.port}`);
      assert.equal(typeof info.longLivedToken, 'string');
      const c = client({ url: info.url }, info.longLivedToken);
      assert.equal((await c.get('/api/v4/account')).body.subdomain, 'demo');
      assert.equal((await adminCall({ url: info.url }, 'GET', '/_admin/leads/count')).count, 500);
      const pair = await adminCall({ url: info.url }, 'POST', '/_admin/oauth/tokens', {});
      assert.equal(pair.expires_in, 120);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });

  test('SIGINT also stops it; --help exits 0; a bad flag exits 2', async () => {
    const { child, firstLine } = run(['--port', '0']);
    await firstLine;
    child.kill('SIGINT');
    assert.equal((await once(child, 'exit'))[0], 0);
    const help = spawn(process.execPath, [CLI, '--help'], { stdio: 'ignore' });
    assert.equal((await once(help, 'exit'))[0], 0);
    const bad = spawn(process.execPath, [CLI, '--rate-limit', 'lots'], { stdio: 'ignore' });
    assert.equal((await once(bad, 'exit'))[0], 2);
  });
});
