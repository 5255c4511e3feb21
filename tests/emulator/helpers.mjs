// Test helpers (not a test file): start an emulator per suite, talk to it with
// fetch, and run a local webhook receiver.
import http from 'node:http';
import { startEmulator } from './server.mjs';

/** Starts an emulator (rate limit off unless asked); call env.close() when done. */
export async function setup(options = {}) {
  const emu = await startEmulator({ rateLimit: 0, ...options });
  const admin = (method, path, body) => adminCall(emu, method, path, body);
  const { token } = await admin('POST', '/_admin/long-lived-token', { expiresInSeconds: 3600 });
  return { emu, admin, token, api: client(emu, token), close: () => emu.close() };
}

export async function adminCall(emu, method, path, body) {
  const res = await fetch(`${emu.url}${path}`, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`admin ${method} ${path} → ${res.status} ${text}`);
  return JSON.parse(text);
}

/** fetch wrapper: returns {status, headers, text, body (parsed JSON or null)}. */
export function client(emu, token) {
  const call = async (method, path, body, headers = {}) => {
    const h = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers };
    let payload;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${emu.url}${path}`, { method, headers: h, body: payload, redirect: 'manual' });
    const text = await res.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { /* HTML */ }
    return { status: res.status, headers: res.headers, text, body: parsed };
  };
  return {
    call,
    get: (p, h) => call('GET', p, undefined, h),
    post: (p, b, h) => call('POST', p, b, h),
    patch: (p, b, h) => call('PATCH', p, b, h),
    del: (p, b, h) => call('DELETE', p, b, h),
    withToken: (t) => client(emu, t),
  };
}

/** POST /oauth2/access_token with a JSON or form body. */
export async function tokenRequest(emu, params, { form = false, headers = {} } = {}) {
  const res = await fetch(`${emu.url}/oauth2/access_token`, {
    method: 'POST',
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
    body: form ? new URLSearchParams(params).toString() : JSON.stringify(params),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** A webhook receiver on 127.0.0.1 that records requests and answers `status`. */
export async function receiver({ status = 200, delayMs = 0 } = {}) {
  const requests = [];
  const waiters = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(r);
      for (const w of waiters.splice(0)) w();
      setTimeout(() => { res.writeHead(rcv.status); res.end('ok'); }, delayMs);
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const rcv = {
    status,
    requests,
    url: `http://127.0.0.1:${srv.address().port}/hook`,
    async waitFor(n, timeoutMs = 3000) {
      const until = Date.now() + timeoutMs;
      while (requests.length < n) {
        if (Date.now() > until) throw new Error(`receiver got ${requests.length} of ${n} requests`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 50); });
      }
      return requests;
    },
    close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(r); }),
  };
  return rcv;
}

/** Polls fn until it returns a truthy value. */
export async function eventually(fn, timeoutMs = 3000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const decodeJwt = (jwt) => jwt.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
