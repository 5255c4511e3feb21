// OAuth 2.0 as amoCRM runs it (reference "OAuth 2.0"): authorization codes,
// single-use rotating refresh tokens, JWT-shaped access tokens, long-lived
// tokens, the authorize page and Bearer authentication of /api/v4.
//
// amoCRM's token endpoint is built on league/oauth2-server (its hints are that
// library's messages), so errors follow its order of checks: client → code or
// refresh token decryption (secret) → expiry → revocation → redirect_uri.
import { createHmac, createHash, randomBytes, randomUUID } from 'node:crypto';
import { HttpError, PROBLEM, JSON_TYPE, html, redirect, parseForm, parseJson } from './http.mjs';
import { ACCOUNT_ID, SUBDOMAIN } from './store.mjs';
import { MAIN_USER_ID } from './seed.mjs';

const OAUTH_TYPE = 'https://developers.amocrm.ru/v3/errors/OAuthProblemJson';

/**
 * OAuthProblemJson: no `error` key (reference). Hint-carrying errors use the
 * title/detail of the reference example.
 */
export function oauthError(status, hint) {
  const body = { hint, title: 'Некорректный запрос', type: OAUTH_TYPE, status, detail: 'В запросе отсутствует ряд параметров или параметры невалидны' };
  return new HttpError(status, body, PROBLEM);
}

/**
 * league's invalid_client has no hint; amoCRM renders it as 401 "Некорректный
 * клиент / Авторизация клиента не прошла" (ufee/amoapi#26: wrong client_id or,
 * "most often", a redirect_uri that does not match the integration).
 */
export function invalidClient() {
  return new HttpError(401, { title: 'Некорректный клиент', type: OAUTH_TYPE, status: 401, detail: 'Авторизация клиента не прошла' }, PROBLEM);
}

/** Keeps scalar parameters only: `redirect_uri[a]=1` must not reach String() as an object. */
const scalarParams = (o) => Object.fromEntries(Object.entries(o ?? {})
  .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
  .map(([k, v]) => [k, String(v)]));

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const stripSlash = (u) => String(u).replace(/\/+$/, '');

/** RS256-looking JWT; the 256-byte "signature" is chained HMACs nobody verifies. */
function makeJwt(state, claims) {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', jti: claims.jti }));
  const payload = b64url(JSON.stringify(claims));
  const input = `${header}.${payload}`;
  const parts = [];
  for (let i = 0; i < 8; i++) parts.push(createHmac('sha256', state.jwtSecret).update(`${i}.${input}`).digest());
  return `${input}.${b64url(Buffer.concat(parts))}`;
}

function opaque(prefix, bytes) {
  return prefix + randomBytes(bytes).toString('hex');
}

function accessClaims(state, { jti, grantType, userId, iatMs, expMs }) {
  return {
    aud: state.integration.clientId,
    jti,
    iat: Math.floor(iatMs / 1000),
    nbf: Math.floor(iatMs / 1000),
    exp: Math.floor(expMs / 1000),
    sub: String(userId),
    grant_type: grantType,
    account_id: ACCOUNT_ID,
    base_domain: 'amocrm.ru',
    version: 2,
    scopes: ['crm', 'files', 'files_delete', 'notifications', 'push_notifications'],
    hash_uuid: randomUUID(),
    api_domain: state.hostPort, // real tokens carry e.g. "api-b.amocrm.ru"; here the emulator's host:port
  };
}

// ---- issuing -------------------------------------------------------------------
export function issueCode(state, opts = {}) {
  const code = opaque('def50200', 360); // real codes are long encrypted "def50200…" blobs
  const ttl = opts.expiresInSeconds ?? opts.ttlSeconds ?? state.config.authCodeTtlSeconds;
  const rec = {
    code, clientId: state.integration.clientId, redirectUri: opts.redirectUri ?? state.integration.redirectUri,
    userId: opts.userId ?? MAIN_USER_ID, issuedAt: state.nowMs(), expiresAt: state.nowMs() + ttl * 1000, used: false,
  };
  state.oauth.codes.set(code, rec);
  return rec;
}

export function issueTokenPair(state, { grantType = 'authorization_code', userId = MAIN_USER_ID, expiresInSeconds } = {}) {
  const ttl = expiresInSeconds ?? state.config.accessTokenTtlSeconds;
  const now = state.nowMs();
  const jti = createHash('sha1').update(randomBytes(16)).digest('hex') + randomBytes(10).toString('hex');
  const access = makeJwt(state, accessClaims(state, { jti, grantType, userId, iatMs: now, expMs: now + ttl * 1000 }));
  const refresh = opaque('def50200', 480);
  state.oauth.access.set(access, {
    token: access, kind: 'access', userId, grantType, issuedAt: now, expiresAt: now + ttl * 1000, revoked: false, refreshToken: refresh,
  });
  state.oauth.refresh.set(refresh, {
    token: refresh, userId, issuedAt: now, expiresAt: now + state.config.refreshTokenTtlSeconds * 1000,
    revoked: false, usedAt: null, accessToken: access,
  });
  return { token_type: 'Bearer', expires_in: ttl, access_token: access, refresh_token: refresh };
}

/** Long-lived token (private integration "Keys and scopes"): no refresh, 401 once revoked/expired. */
export function issueLongLived(state, { expiresInSeconds = 365 * 86400, userId = MAIN_USER_ID } = {}) {
  const now = state.nowMs();
  const jti = randomBytes(20).toString('hex');
  const token = makeJwt(state, accessClaims(state, { jti, grantType: 'long_lived', userId, iatMs: now, expMs: now + expiresInSeconds * 1000 }));
  state.oauth.access.set(token, { token, kind: 'long_lived', userId, issuedAt: now, expiresAt: now + expiresInSeconds * 1000, revoked: false });
  return { token, expires_at: Math.floor((now + expiresInSeconds * 1000) / 1000), expires_in: expiresInSeconds };
}

export function expireTokens(state, { access_token: tok, token, all } = {}) {
  const now = state.nowMs() - 1;
  let n = 0;
  for (const rec of state.oauth.access.values()) {
    if (all || rec.token === (tok ?? token)) { rec.expiresAt = Math.min(rec.expiresAt, now); n++; }
  }
  return { expired: n };
}

export function revokeTokens(state, { access_token: at, refresh_token: rt, token, all } = {}) {
  let n = 0;
  for (const rec of state.oauth.access.values()) {
    if ((all || rec.token === at || rec.token === token) && !rec.revoked) { rec.revoked = true; n++; }
  }
  for (const rec of state.oauth.refresh.values()) {
    if ((all || rec.token === rt || rec.token === token) && !rec.revoked) { rec.revoked = true; n++; }
  }
  return { revoked: n };
}

export function listTokens(state) {
  const now = state.nowMs();
  const view = (r) => ({ ...r, expired: r.expiresAt <= now, expiresAt: new Date(r.expiresAt).toISOString(), issuedAt: new Date(r.issuedAt).toISOString() });
  return { access: [...state.oauth.access.values()].map(view), refresh: [...state.oauth.refresh.values()].map(view) };
}

// ---- Bearer authentication ------------------------------------------------------
export function unauthorized() {
  return new HttpError(401, { title: 'Unauthorized', type: 'https://httpstatus.es/401', status: 401, detail: 'Неверный логин или пароль' }, PROBLEM);
}

/** → {kind: access|long_lived|none|invalid|expired|revoked, rec?} */
export function authenticate(state, header) {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return { kind: 'none' };
  const rec = state.oauth.access.get(m[1]);
  if (!rec) return { kind: 'invalid' };
  if (rec.revoked) { state.stats.revokedTokenUses++; return { kind: 'revoked', rec }; }
  if (state.nowMs() >= rec.expiresAt) return { kind: 'expired', rec };
  return { kind: rec.kind, rec };
}

// ---- POST /oauth2/access_token ---------------------------------------------------
function parseTokenBody(ctx) {
  const ct = String(ctx.req.headers['content-type'] ?? '').toLowerCase();
  const text = ctx.rawBody.toString('utf8');
  let params;
  // Reference: JSON (docs) or form (amocrm-oauth-client); both are accepted.
  if (ct.includes('json') || (!ct.includes('form') && text.trim().startsWith('{'))) {
    params = parseJson(ctx.rawBody) ?? {};
    if (typeof params !== 'object' || Array.isArray(params) || params === null) params = {};
  } else {
    params = { ...parseForm(text) };
  }
  // n8n's oAuth2Api (non-body authentication) sends client credentials as HTTP
  // Basic; body parameters win, Basic fills the gaps (league's order).
  const basic = /^Basic\s+(\S+)/i.exec(ctx.req.headers.authorization ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i >= 0) {
      const dec = (s) => { try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; } };
      params.client_id ??= dec(decoded.slice(0, i));
      params.client_secret ??= dec(decoded.slice(i + 1));
    }
  }
  return scalarParams(params);
}

function checkClient(state, p) {
  if (typeof p.client_id !== 'string' || p.client_id === '') throw oauthError(400, 'Check the `client_id` parameter');
  if (p.client_id !== state.integration.clientId) throw invalidClient();
  // league validateClient: a redirect_uri, when sent, must match the registered
  // one. Trailing-slash differences pass here and fail the stricter code check
  // below (amocrm-api-php#114: 400 "Некорректный запрос" for a missing slash).
  if (p.redirect_uri !== undefined && stripSlash(p.redirect_uri) !== stripSlash(state.integration.redirectUri)) throw invalidClient();
}

export function tokenEndpoint(ctx) {
  const { state } = ctx;
  try {
    const p = parseTokenBody(ctx);
    ctx.entry.grantType = p.grant_type ?? null;
    if (p.grant_type !== 'authorization_code' && p.grant_type !== 'refresh_token') {
      throw new HttpError(400, { hint: 'Check that all required parameters have been provided', title: 'Некорректный запрос', type: OAUTH_TYPE, status: 400, detail: 'Неподдерживаемый тип авторизации' }, PROBLEM);
    }
    checkClient(state, p);
    const body = p.grant_type === 'authorization_code' ? exchangeCode(state, p) : exchangeRefresh(state, p);
    state.stats.tokenGrants[p.grant_type]++;
    return { status: 200, body: { ...body, server_time: state.now() }, contentType: JSON_TYPE };
  } catch (e) {
    if (e instanceof HttpError) state.stats.tokenErrors++;
    throw e;
  }
}

function exchangeCode(state, p) {
  if (typeof p.client_secret !== 'string' || p.client_secret === '') throw oauthError(400, 'Check the `client_secret` parameter');
  if (typeof p.code !== 'string' || p.code === '') throw oauthError(400, 'Check the `code` parameter');
  const rec = state.oauth.codes.get(p.code);
  // Reference: bad credentials → 400 "Cannot decrypt the authorization code"
  // (the secret is what decrypts the code, so a wrong secret looks like a bad code).
  if (!rec || p.client_secret !== state.integration.clientSecret) throw oauthError(400, 'Cannot decrypt the authorization code');
  if (state.nowMs() >= rec.expiresAt) throw oauthError(400, 'Authorization code has expired');
  if (rec.used) throw oauthError(400, 'Authorization code has been revoked'); // reference: reused code
  if (p.redirect_uri === undefined || p.redirect_uri === '') throw oauthError(400, 'Check the `redirect_uri` parameter');
  if (p.redirect_uri !== rec.redirectUri) throw oauthError(400, 'Invalid redirect URI');
  rec.used = true;
  rec.usedAt = state.nowMs();
  return issueTokenPair(state, { grantType: 'authorization_code', userId: rec.userId });
}

function exchangeRefresh(state, p) {
  if (typeof p.refresh_token !== 'string' || p.refresh_token === '') throw oauthError(400, 'Check the `refresh_token` parameter');
  // Switch (reference: docs send redirect_uri on refresh, n8n's oAuth2Api never does).
  if (state.config.refreshRequiresRedirectUri && (p.redirect_uri === undefined || p.redirect_uri === '')) {
    throw oauthError(400, 'Check the `redirect_uri` parameter');
  }
  if (typeof p.client_secret !== 'string' || p.client_secret === '') throw oauthError(400, 'Check the `client_secret` parameter');
  const rec = state.oauth.refresh.get(p.refresh_token);
  if (!rec || p.client_secret !== state.integration.clientSecret) throw oauthError(401, 'Cannot decrypt the refresh token');
  if (state.nowMs() >= rec.expiresAt) throw oauthError(401, 'Token has expired'); // refresh dies after 3 months
  if (rec.revoked) {
    // Reference (php#123): a spent refresh token → 401 "Token has been revoked".
    state.stats.revokedTokenUses++;
    throw oauthError(401, 'Token has been revoked');
  }
  // Single-use and rotating (php#475): the old refresh token dies now.
  rec.revoked = true;
  rec.usedAt = state.nowMs();
  if (state.config.refreshRevokesAccessToken) {
    const old = state.oauth.access.get(rec.accessToken);
    if (old) old.revoked = true;
  }
  return issueTokenPair(state, { grantType: 'refresh_token', userId: rec.userId });
}

// ---- GET /oauth (authorize page) -------------------------------------------------
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

function errorPage(status, text) {
  return html(`<!doctype html><html><head><meta charset="utf-8"><title>Ошибка</title></head><body><h1>Ошибка авторизации</h1><p>${esc(text)}</p></body></html>`, status);
}

function checkAuthorizeParams(state, q) {
  if (q.client_id !== state.integration.clientId) return errorPage(400, 'Интеграция не найдена (unknown client_id)');
  if (q.redirect_uri && stripSlash(q.redirect_uri) !== stripSlash(state.integration.redirectUri)) {
    return errorPage(400, 'redirect_uri не совпадает с адресом, указанным в интеграции');
  }
  return null;
}

function redirectWithCode(state, q) {
  const rec = issueCode(state);
  const target = new URL(state.integration.redirectUri);
  // Reference: redirect carries code, state, referer (account host, base of all
  // later calls), plus the undocumented `platform` and client_id.
  target.searchParams.set('code', rec.code);
  if (q.state !== undefined) target.searchParams.set('state', q.state);
  target.searchParams.set('referer', state.hostPort);
  target.searchParams.set('platform', '1');
  target.searchParams.set('client_id', state.integration.clientId);
  return redirect(target.toString());
}

export function authorizePage(ctx) {
  const { state } = ctx;
  const q = scalarParams(ctx.query);
  const bad = checkAuthorizeParams(state, q);
  if (bad) return bad;
  if (q.auto === '1' || q.auto === 'true') return redirectWithCode(state, q); // headless tests
  const hidden = ['client_id', 'state', 'mode', 'redirect_uri']
    .filter((k) => typeof q[k] === 'string')
    .map((k) => `<input type="hidden" name="${k}" value="${esc(q[k])}">`).join('');
  const name = esc(state.integration.name);
  return html(`<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Предоставить доступ — amoCRM</title>
<style>body{font-family:sans-serif;background:#f5f5f5;display:flex;justify-content:center;padding-top:80px}
.card{background:#fff;padding:32px;border-radius:8px;box-shadow:0 2px 8px #0002;max-width:420px}
button{padding:10px 24px;font-size:16px;margin-right:8px;cursor:pointer}#allow{background:#4c8bf7;color:#fff;border:0;border-radius:4px}</style>
</head><body><div class="card">
<h2>Allow access for ${name} to Demo Company</h2>
<p>Предоставить интеграции «${name}» доступ к аккаунту <b>Demo Company</b> (${esc(SUBDOMAIN)}.amocrm.ru)?</p>
<p>Scopes: crm, files, files_delete, notifications, push_notifications</p>
<form method="post" action="/oauth/allow">${hidden}
<button id="allow" type="submit" name="decision" value="allow">Allow / Разрешить</button>
<button id="deny" type="submit" name="decision" value="deny">Deny / Отказать</button>
</form></div></body></html>`);
}

/** GET or POST /oauth/allow: issues a code and 302s to the integration's redirect_uri. */
export function authorizeDecision(ctx) {
  const { state } = ctx;
  const q = scalarParams(ctx.query);
  if (ctx.req.method === 'POST') Object.assign(q, scalarParams(parseForm(ctx.rawBody.toString('utf8'))));
  const bad = checkAuthorizeParams(state, q);
  if (bad) return bad;
  if (q.decision === 'deny') {
    const target = new URL(state.integration.redirectUri);
    target.searchParams.set('error', 'access_denied');
    if (q.state !== undefined) target.searchParams.set('state', q.state);
    target.searchParams.set('client_id', state.integration.clientId);
    return redirect(target.toString());
  }
  return redirectWithCode(state, q);
}

// ---- subdomain recovery (reference "Subdomain recovery") -------------------------
export function currentSubdomain(ctx) {
  const { state } = ctx;
  const rt = ctx.req.headers['x-refresh-token'];
  const rec = typeof rt === 'string' ? state.oauth.refresh.get(rt) : null;
  if (!rec) throw oauthError(401, 'Cannot decrypt the refresh token');
  return { status: 200, body: accountDomain(state), contentType: JSON_TYPE };
}

export function accountDomain(state) {
  return { id: ACCOUNT_ID, subdomain: SUBDOMAIN, domain: state.hostPort, top_level_domain: 'ru' };
}

