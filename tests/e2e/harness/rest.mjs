// Tiny HTTP client for n8n's internal REST API (/rest/...): keeps the auth
// cookie and sends a fixed `browser-id` header (n8n binds the auth cookie to
// it). Uses the global fetch of Node >= 18; no dependencies.
import { randomUUID } from 'node:crypto';

export class RestError extends Error {
  constructor(method, url, status, body) {
    super(`${method} ${url} -> ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`.slice(0, 2000));
    this.status = status;
    this.body = body;
  }
}

export class RestClient {
  constructor(baseUrl) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.cookies = new Map();
    this.browserId = randomUUID();
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  storeCookies(res) {
    const list = typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie() : [];
    for (const c of list) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      if (i > 0) this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
  }

  /**
   * Raw request. `path` is relative to the base URL (e.g. '/rest/login').
   * Returns {status, headers, body} with body parsed as JSON when possible.
   * Never throws on HTTP errors.
   */
  async raw(method, path, { body, headers = {}, redirect = 'manual' } = {}) {
    const url = /^https?:/.test(path) ? path : `${this.baseUrl}${path}`;
    const h = { 'browser-id': this.browserId, ...headers };
    if (this.cookies.size) h.cookie = this.cookieHeader();
    let payload;
    if (body !== undefined) {
      if (typeof body === 'string' || body instanceof Uint8Array) payload = body;
      else {
        payload = JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
    }
    const res = await fetch(url, { method, headers: h, body: payload, redirect });
    this.storeCookies(res);
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, headers: res.headers, body: parsed, url };
  }

  /** Like raw() but throws RestError on status >= 400 and unwraps n8n's `{data}` envelope. */
  async request(method, path, opts) {
    const r = await this.raw(method, path, opts);
    if (r.status >= 400) throw new RestError(method, r.url, r.status, r.body);
    return r.body && typeof r.body === 'object' && 'data' in r.body ? r.body.data : r.body;
  }

  get(path, opts) {
    return this.request('GET', path, opts);
  }
  post(path, body, opts) {
    return this.request('POST', path, { ...opts, body });
  }
  patch(path, body, opts) {
    return this.request('PATCH', path, { ...opts, body });
  }
  delete(path, opts) {
    return this.request('DELETE', path, opts);
  }
}
