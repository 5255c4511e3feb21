// HTTP plumbing shared by every emulator module: response descriptors, the
// problem+json / HAL / nginx-HTML bodies amoCRM really sends, bracket query
// parsing, body reading and a tiny router.
import { randomBytes } from 'node:crypto';

export const HAL = 'application/hal+json';
export const PROBLEM = 'application/problem+json';
export const JSON_TYPE = 'application/json';
export const HTML = 'text/html';

const TITLES = {
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 413: 'Payload Too Large',
  415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 429: 'Too Many Requests',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

// nginx spells a few reason phrases its own way; the HTML pages below copy it.
const NGINX_TITLES = { ...TITLES, 503: 'Service Temporarily Unavailable', 504: 'Gateway Time-out' };

export function statusTitle(status) {
  return TITLES[status] ?? 'Error';
}

/** A thrown response: handlers throw it, the server turns it into the reply. */
export class HttpError extends Error {
  constructor(status, body, contentType = PROBLEM, headers = {}) {
    super(typeof body === 'object' && body ? body.detail ?? statusTitle(status) : String(body));
    this.status = status;
    this.body = body;
    this.contentType = contentType;
    this.headers = headers;
  }
}

/** amoCRM's generic problem body: {title, type: https://httpstatus.es/N, status, detail}. */
export function problemBody(status, detail, extra = {}) {
  return { title: statusTitle(status), type: `https://httpstatus.es/${status}`, status, detail, ...extra };
}

export function problemError(status, detail, extra) {
  return new HttpError(status, problemBody(status, detail, extra));
}

/**
 * Reference "Errors and limits": 400 application/problem+json with the
 * `validation-errors` key first, then title/type/status/detail.
 * entries: [{request_id, errors: [{code, path, detail}]}]
 */
export function validationError(entries) {
  return new HttpError(400, {
    'validation-errors': entries,
    title: 'Bad Request',
    type: 'https://httpstatus.es/400',
    status: 400,
    detail: 'Request validation failed',
  });
}

/** nginx error page: reference says 403 (blocked) and 429 are nginx HTML, 429 without Retry-After. */
export function nginxHtml(status) {
  const t = `${status} ${NGINX_TITLES[status] ?? 'Error'}`;
  return `<html>\r\n<head><title>${t}</title></head>\r\n<body>\r\n<center><h1>${t}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

// ---- response descriptors -------------------------------------------------
export const hal = (body, status = 200) => ({ status, body, contentType: HAL });
export const json = (body, status = 200) => ({ status, body, contentType: JSON_TYPE });
export const noContent = () => ({ status: 204, body: null });
export const html = (body, status = 200, headers = {}) => ({ status, body, contentType: `${HTML}; charset=utf-8`, headers });
export const redirect = (location) => ({ status: 302, body: null, headers: { location } });

export function newRequestId() {
  return randomBytes(16).toString('hex');
}

/** Writes a descriptor. 204 (and any null body) goes out with no content-type and no body. */
export function writeResponse(res, resp, requestId) {
  if (res.headersSent || res.destroyed) return;
  const headers = { 'x-request-id': requestId, ...(resp.headers ?? {}) };
  let payload = null;
  if (resp.body !== null && resp.body !== undefined && resp.status !== 204 && resp.status !== 304) {
    payload = typeof resp.body === 'string' || Buffer.isBuffer(resp.body) ? resp.body : JSON.stringify(resp.body);
    headers['content-type'] = resp.contentType ?? JSON_TYPE;
    headers['content-length'] = Buffer.byteLength(payload);
  }
  res.writeHead(resp.status, headers);
  res.end(payload ?? undefined);
}

// ---- request bodies --------------------------------------------------------
export function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let failed = false;
    req.on('data', (c) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(problemError(413, `Request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => { if (!failed) resolve(Buffer.concat(chunks)); });
    req.on('error', (e) => { if (!failed) { failed = true; reject(e); } });
  });
}

/** Parses a JSON body; malformed JSON is a 400 problem+json, never a crash. */
export function parseJson(buf) {
  const text = buf.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw problemError(400, `Request body is not valid JSON: ${e.message}`);
  }
}

// ---- query strings ---------------------------------------------------------
const UNSAFE = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses PHP-style bracket parameters (amoCRM's wire format, reference
 * "Filter"): `filter[id][0]=1&filter[statuses][0][pipeline_id]=2&filter[id][]=3`
 * into nested null-prototype objects. Repeated plain keys keep the last value.
 */
export function parseBracketParams(searchParams) {
  const root = Object.create(null);
  for (const [rawKey, value] of searchParams) {
    const m = /^([^[\]]+)((?:\[[^[\]]*\])*)(.*)$/.exec(rawKey);
    if (!m) continue;
    const path = [m[1]];
    if (m[2]) for (const seg of m[2].matchAll(/\[([^[\]]*)\]/g)) path.push(seg[1]);
    if (path.some((p) => UNSAFE.has(p))) continue;
    let node = root;
    for (let i = 0; i < path.length; i++) {
      let key = path[i];
      const last = i === path.length - 1;
      if (key === '') key = String(Object.keys(node).length); // `[]` appends
      if (last) {
        node[key] = value;
      } else {
        if (node[key] === undefined || typeof node[key] !== 'object') node[key] = Object.create(null);
        node = node[key];
      }
    }
  }
  return root;
}

/** Parses a form body with the same bracket rules. */
export function parseForm(text) {
  return parseBracketParams(new URLSearchParams(text));
}

/** A bracket value as a list: scalar → [v]; {0:a,1:b} → [a,b]; undefined → undefined. */
export function toList(v) {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v;
  if (v !== null && typeof v === 'object') {
    return Object.keys(v).sort((a, b) => Number(a) - Number(b)).map((k) => v[k]);
  }
  return [v];
}

/**
 * Only the string leaves of a bracket value, e.g. for `filter[name]`. Nested
 * junk like `filter[name][a][b]=c` is dropped instead of reaching String() on
 * a null-prototype object (which throws).
 */
export function scalars(v) {
  return (toList(v) ?? []).filter((x) => typeof x === 'string');
}

/** Flattens a nested object to bracket form pairs (used for webhook bodies). */
export function toBracketPairs(obj, prefix = '', out = []) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}[${k}]` : k;
    if (v === undefined) continue;
    if (v !== null && typeof v === 'object') toBracketPairs(v, key, out);
    else out.push([key, v === null ? '' : typeof v === 'boolean' ? (v ? '1' : '0') : String(v)]);
  }
  return out;
}

// ---- router ----------------------------------------------------------------
/**
 * Patterns use `{name}` for numeric path parameters, e.g. `/api/v4/leads/{id}`,
 * except `{uid}`: an unsorted uid, 8–64 hex characters (amoCRM's are 40), kept
 * as a string, and `{eventId}`, an event ID (26 base-32 characters). The pattern string doubles as the stats key ("GET /api/v4/leads/{id}").
 */
const STRING_PARAMS = { uid: '([0-9A-Fa-f]{8,64})', eventId: '([0-9a-z]{10,40})', groupId: '([A-Za-z0-9_]{1,80})' };

export class Router {
  constructor() {
    this.routes = [];
  }

  add(method, pattern, handler, opts = {}) {
    const names = [];
    const re = new RegExp(
      '^' + pattern.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{(\w+)\\?\}/g, (_, n) => { names.push(n); return STRING_PARAMS[n] ?? '(\\d+)'; }) + '$',
    );
    this.routes.push({ method, pattern, re, names, handler, ...opts });
    return this;
  }

  match(method, path) {
    let allowed = null;
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      if (r.method !== method) {
        (allowed ??= new Set()).add(r.method);
        continue;
      }
      const params = {};
      r.names.forEach((n, i) => { params[n] = STRING_PARAMS[n] ? m[i + 1].toLowerCase() : Number(m[i + 1]); });
      return { route: r, params };
    }
    return allowed ? { allowed: [...allowed] } : null;
  }
}

/** Strips a trailing slash so `/api/v4/leads/` routes like `/api/v4/leads`. */
export function normalizePath(p) {
  let path = p || '/';
  try { path = decodeURI(path); } catch { /* keep raw */ }
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}
