// Injectable faults (admin API). A fault matches method + path pattern (+
// optional query subset), optionally lets `skip` matching requests through,
// fires `count` times (default 1) and disappears. First matching fault wins;
// one fault per request.
import { HTML, PROBLEM, nginxHtml, problemBody, HttpError } from './http.mjs';

/**
 * kinds:
 *   status        answer `status` (default 503) without performing the request
 *   after         perform the request, then answer `status` (default 504) instead of the real reply
 *   drop          destroy the socket without answering, request not performed
 *   drop-after    perform the request, then destroy the socket
 *   delay         wait `delayMs`, then handle normally
 *   html403       nginx HTML 403 (reference: blocked API/IP/account)
 *   payment       402 Payment Required (reference: unsourced, assume unpaid account)
 *   rate-limit    nginx HTML 429 without Retry-After, like the real limiter
 *   unauthorized  the standard 401 problem, as if the token had died
 * Any kind also accepts `delayMs` (applied first).
 */
export const KINDS = ['status', 'after', 'drop', 'drop-after', 'delay', 'html403', 'payment', 'rate-limit', 'unauthorized'];
const ALIASES = { 402: 'payment', 403: 'html403', 429: 'rate-limit', 401: 'unauthorized', timeout: 'drop', 'apply-then-status': 'after' };

function badFault(detail) {
  return new HttpError(400, problemBody(400, detail));
}

/** `path` is a glob: `*` = one segment, `**` = anything, `{id}` = digits. `pathRegex` is a RegExp source. */
function compilePath(pattern, regex) {
  if (regex !== undefined) {
    let re;
    try { re = new RegExp(regex); } catch (e) { throw badFault(`bad pathRegex: ${e.message}`); }
    return (p) => re.test(p);
  }
  if (pattern === undefined || pattern === null || pattern === '' || pattern === '*' || pattern === '**') return () => true;
  if (typeof pattern !== 'string') throw badFault('fault.path must be a string');
  const src = pattern.replace(/\/+$/, '')
    .replace(/[.+?^$()|[\]\\]/g, '\\$&')
    .replace(/\{\w+\}/g, '\\d+')
    .replace(/\*\*/g, '\u0000')
    .replace(/\*/g, '[^/]*')
    .replace(/\u0000/g, '.*');
  const re = new RegExp(`^${src}$`);
  return (p) => re.test(p);
}

export function normalizeFault(spec, id) {
  if (!spec || typeof spec !== 'object') throw badFault('fault must be an object');
  let kind = spec.kind ?? spec.type ?? (spec.drop ? 'drop' : spec.status !== undefined ? 'status' : spec.delayMs !== undefined ? 'delay' : undefined);
  kind = ALIASES[kind] ?? kind;
  if (kind === 'status' && spec.afterApply) kind = 'after';
  if (!KINDS.includes(kind)) throw badFault(`fault.kind must be one of ${KINDS.join(', ')}`);
  const count = spec.count === undefined ? 1 : Number(spec.count);
  if (!Number.isInteger(count) || count === 0 || count < -1) throw badFault('fault.count must be a positive integer (or -1 for "until cleared")');
  const status = spec.status === undefined ? (kind === 'after' ? 504 : 503) : Number(spec.status);
  if ((kind === 'status' || kind === 'after') && !(status >= 100 && status <= 599)) throw badFault('fault.status must be an HTTP status');
  const delayMs = spec.delayMs === undefined ? 0 : Number(spec.delayMs);
  if (!(delayMs >= 0)) throw badFault('fault.delayMs must be ≥ 0');
  const method = spec.method ? String(spec.method).toUpperCase() : '*';
  return {
    id, kind, method, path: spec.path ?? '*', query: spec.query ?? null, count, remaining: count,
    skip: Number(spec.skip ?? 0), status, delayMs, body: spec.body, contentType: spec.contentType, headers: spec.headers ?? {},
    pathRegex: spec.pathRegex ?? null, fired: 0, match: compilePath(spec.path, spec.pathRegex),
  };
}

export function addFaults(state, input) {
  const list = Array.isArray(input) ? input : Array.isArray(input?.faults) ? input.faults : [input];
  const added = list.map((spec) => normalizeFault(spec, ++state.faultSeq));
  state.faults.push(...added);
  return added.map(publicFault);
}

export function publicFault(f) {
  const { match, ...rest } = f;
  return rest;
}

export function clearFaults(state, id) {
  const before = state.faults.length;
  state.faults = id === undefined ? [] : state.faults.filter((f) => f.id !== id);
  return { removed: before - state.faults.length };
}

/** Finds, consumes and returns the fault for this request, or null. */
export function takeFault(state, method, path, searchParams) {
  for (const f of state.faults) {
    if (f.method !== '*' && f.method !== method) continue;
    if (!f.match(path)) continue;
    if (f.query && !Object.entries(f.query).every(([k, v]) => searchParams.get(k) === String(v))) continue;
    if (f.skip > 0) { f.skip--; continue; }
    f.fired++;
    if (f.remaining > 0 && --f.remaining === 0) state.faults = state.faults.filter((x) => x !== f);
    state.stats.faultsFired++;
    return f;
  }
  return null;
}

/** The reply a fault substitutes for the real one. */
export function faultResponse(f) {
  const headers = { ...f.headers };
  switch (f.kind) {
    case 'html403': return { status: 403, body: nginxHtml(403), contentType: HTML, headers };
    case 'rate-limit': return { status: 429, body: nginxHtml(429), contentType: HTML, headers };
    case 'payment': return { status: 402, body: f.body ?? problemBody(402, 'Account is not paid'), contentType: f.contentType ?? PROBLEM, headers };
    case 'unauthorized':
      return { status: 401, body: { title: 'Unauthorized', type: 'https://httpstatus.es/401', status: 401, detail: 'Неверный логин или пароль' }, contentType: PROBLEM, headers };
    default: {
      if (f.body !== undefined) {
        const isText = typeof f.body === 'string';
        return { status: f.status, body: f.body, contentType: f.contentType ?? (isText ? HTML : 'application/json'), headers };
      }
      // 5xx come from amoCRM's nginx gateway as HTML pages; 4xx as problem+json.
      if (f.status >= 500) return { status: f.status, body: nginxHtml(f.status), contentType: HTML, headers };
      if (f.status === 204) return { status: 204, body: null, headers };
      return { status: f.status, body: problemBody(f.status, 'Injected fault'), contentType: PROBLEM, headers };
    }
  }
}
