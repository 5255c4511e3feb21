// amoCRM/Kommo API v4 emulator: wiring. Request pipeline for everything that
// is not /_admin: fault injection → rate limit (/api/v4) → Bearer auth
// (/api/v4) → route → post-fault → reply → webhook dispatch.
import http from 'node:http';
import {
  Router, HttpError, writeResponse, readBody, parseJson, parseBracketParams, normalizePath, newRequestId,
  problemBody, problemError, nginxHtml, json, HTML, PROBLEM, JSON_TYPE,
} from './http.mjs';
import { createState, recordRequest, countCall, ACCOUNT_ID } from './store.mjs';
import { applySeed } from './seed.mjs';
import { RateLimiter, rateKey } from './ratelimit.mjs';
import { takeFault, faultResponse } from './faults.mjs';
import {
  authenticate, unauthorized, tokenEndpoint, authorizePage, authorizeDecision, currentSubdomain, accountDomain,
} from './oauth.mjs';
import { listLeads, getLead, createLeads, patchLeads, patchLead, complexLeads } from './leads.mjs';
import * as cat from './catalog.mjs';
import * as con from './contacts.mjs';
import * as notes from './notes.mjs';
import * as links from './links.mjs';
import * as cus from './customers.mjs';
import * as tasks from './tasks.mjs';
import * as uns from './unsorted.mjs';
import * as catalogs from './catalogs.mjs';
import { listWebhooks, subscribeWebhook, unsubscribeWebhook, dispatch, takePendingHooks } from './webhooks.mjs';
import { listEvents, getEvent, eventTypes } from './events.mjs';
import { createAdmin, buildAdminRouter } from './admin.mjs';
import { addAccountRoutes, startDrive } from './account.mjs';

/** Notes, links, tags and custom fields: the same routes for leads, contacts, companies, customers. */
function addEntityCommon(r, entity, wrap = (h) => h) {
  const add = (method, path, h) => r.add(method, `/api/v4/${entity}${path}`, wrap(h));
  add('GET', '/custom_fields', cat.listCustomFields(entity));
  add('GET', '/custom_fields/{id}', cat.getCustomField(entity));
  add('GET', '/tags', cat.listTags(entity));
  add('POST', '/tags', cat.createTags(entity));
  add('GET', '/notes', notes.listAllNotes(entity));
  add('POST', '/notes', notes.createNotesBulk(entity));
  add('PATCH', '/notes', notes.patchNotes(entity));
  add('GET', '/notes/{id}', notes.getNote(entity));
  add('GET', '/links', links.getLinksBulk(entity));
  add('POST', '/link', links.linkBulk(entity));
  add('POST', '/unlink', links.unlinkBulk(entity));
  add('GET', '/{id}/notes', notes.listEntityNotes(entity));
  add('POST', '/{id}/notes', notes.createEntityNotes(entity));
  add('PATCH', '/{id}/notes', notes.patchNotes(entity));
  add('GET', '/{id}/notes/{noteId}', notes.getNote(entity));
  add('PATCH', '/{id}/notes/{noteId}', notes.patchNote(entity));
  add('GET', '/{id}/links', links.getLinks(entity));
  add('POST', '/{id}/link', links.link(entity));
  add('POST', '/{id}/unlink', links.unlink(entity));
}

function buildApiRouter() {
  const r = new Router();
  r.add('GET', '/', (ctx) => json({ emulator: 'amoCRM API v4', account_id: ACCOUNT_ID, url: ctx.state.baseUrl, docs: 'tests/emulator/README.md' }));
  // OAuth (no Bearer)
  r.add('POST', '/oauth2/access_token', tokenEndpoint);
  r.add('GET', '/oauth2/account/current/subdomain', currentSubdomain);
  r.add('GET', '/oauth2/account/subdomain', (ctx) => {
    const auth = authenticate(ctx.state, ctx.req.headers.authorization);
    ctx.entry.tokenKind = auth.kind;
    if (auth.kind !== 'access' && auth.kind !== 'long_lived') throw unauthorized();
    return json(accountDomain(ctx.state));
  });
  r.add('GET', '/oauth', authorizePage);
  r.add('GET', '/oauth/allow', authorizeDecision);
  r.add('POST', '/oauth/allow', authorizeDecision);
  // account & users
  r.add('GET', '/api/v4/account', cat.getAccount);
  r.add('GET', '/api/v4/users', cat.listUsers);
  r.add('GET', '/api/v4/users/{id}', cat.getUser);
  // leads (no DELETE route: reference "No delete" → 405 from the router)
  r.add('GET', '/api/v4/leads', listLeads);
  r.add('POST', '/api/v4/leads', createLeads);
  r.add('PATCH', '/api/v4/leads', patchLeads);
  r.add('POST', '/api/v4/leads/complex', complexLeads);
  r.add('GET', '/api/v4/leads/pipelines', cat.listPipelines);
  r.add('GET', '/api/v4/leads/pipelines/{id}', cat.getPipeline);
  r.add('GET', '/api/v4/leads/pipelines/{id}/statuses', cat.listStatuses);
  r.add('GET', '/api/v4/leads/pipelines/{id}/statuses/{statusId}', cat.getStatus);
  r.add('GET', '/api/v4/leads/loss_reasons', cat.listLossReasons);
  r.add('GET', '/api/v4/leads/loss_reasons/{id}', cat.getLossReason);
  // unsorted (incoming leads); {uid} is a hex string
  r.add('GET', '/api/v4/leads/unsorted', uns.listUnsorted);
  r.add('GET', '/api/v4/leads/unsorted/summary', uns.unsortedSummary);
  r.add('POST', '/api/v4/leads/unsorted/forms', uns.createForms);
  r.add('POST', '/api/v4/leads/unsorted/sip', uns.createSip);
  r.add('GET', '/api/v4/leads/unsorted/{uid}', uns.getUnsorted);
  r.add('POST', '/api/v4/leads/unsorted/{uid}/accept', uns.acceptUnsorted);
  r.add('DELETE', '/api/v4/leads/unsorted/{uid}/decline', uns.declineUnsorted);
  r.add('POST', '/api/v4/leads/unsorted/{uid}/link', uns.linkUnsorted);
  addEntityCommon(r, 'leads');
  r.add('GET', '/api/v4/leads/{id}', getLead);
  r.add('PATCH', '/api/v4/leads/{id}', patchLead);
  // contacts & companies
  for (const [entity, list, get, create, patchMany, patchOne] of [
    ['contacts', con.listContacts, con.getContact, con.createContacts, con.patchContacts, con.patchContact],
    ['companies', con.listCompanies, con.getCompany, con.createCompanies, con.patchCompanies, con.patchCompany],
  ]) {
    r.add('GET', `/api/v4/${entity}`, list);
    r.add('POST', `/api/v4/${entity}`, create);
    r.add('PATCH', `/api/v4/${entity}`, patchMany);
    addEntityCommon(r, entity);
    r.add('GET', `/api/v4/${entity}/{id}`, get);
    r.add('PATCH', `/api/v4/${entity}/{id}`, patchOne);
  }
  // customers (every route checks customers_mode)
  r.add('PATCH', '/api/v4/customers/mode', cus.patchMode);
  r.add('GET', '/api/v4/customers', cus.listCustomers);
  r.add('POST', '/api/v4/customers', cus.createCustomers);
  r.add('PATCH', '/api/v4/customers', cus.patchCustomers);
  r.add('GET', '/api/v4/customers/transactions', cus.listTransactions);
  r.add('GET', '/api/v4/customers/transactions/{id}', cus.getTransaction);
  r.add('DELETE', '/api/v4/customers/transactions/{id}', cus.deleteTransaction);
  r.add('GET', '/api/v4/customers/statuses', cus.listCustomerStatuses);
  r.add('GET', '/api/v4/customers/statuses/{id}', cus.getCustomerStatus);
  r.add('GET', '/api/v4/customers/segments', cus.listSegments);
  r.add('GET', '/api/v4/customers/segments/{id}', cus.getSegment);
  addEntityCommon(r, 'customers', (h) => cus.gated('customers', h));
  r.add('GET', '/api/v4/customers/{id}', cus.getCustomer);
  r.add('PATCH', '/api/v4/customers/{id}', cus.patchCustomer);
  r.add('GET', '/api/v4/customers/{id}/transactions', cus.listCustomerTransactions);
  r.add('POST', '/api/v4/customers/{id}/transactions', cus.createTransactions);
  r.add('GET', '/api/v4/customers/{id}/transactions/{txId}', cus.getTransaction);
  r.add('DELETE', '/api/v4/customers/{id}/transactions/{txId}', cus.deleteTransaction);
  // tasks
  r.add('GET', '/api/v4/tasks', tasks.listTasks);
  r.add('POST', '/api/v4/tasks', tasks.createTasks);
  r.add('PATCH', '/api/v4/tasks', tasks.patchTasks);
  r.add('GET', '/api/v4/tasks/{id}', tasks.getTask);
  r.add('PATCH', '/api/v4/tasks/{id}', tasks.patchTask);
  // catalogs (lists) and elements
  r.add('GET', '/api/v4/catalogs', catalogs.listCatalogs);
  r.add('POST', '/api/v4/catalogs', catalogs.createCatalogs);
  r.add('PATCH', '/api/v4/catalogs', catalogs.patchCatalogs);
  r.add('GET', '/api/v4/catalogs/{id}', catalogs.getCatalog);
  r.add('PATCH', '/api/v4/catalogs/{id}', catalogs.patchCatalog);
  r.add('GET', '/api/v4/catalogs/{id}/custom_fields', cat.listCustomFields('catalogs'));
  r.add('GET', '/api/v4/catalogs/{id}/custom_fields/{fieldId}', cat.getCustomField('catalogs'));
  r.add('GET', '/api/v4/catalogs/{id}/elements', catalogs.listElements);
  r.add('POST', '/api/v4/catalogs/{id}/elements', catalogs.createElements);
  r.add('PATCH', '/api/v4/catalogs/{id}/elements', catalogs.patchElements);
  r.add('GET', '/api/v4/catalogs/{id}/elements/{elementId}', catalogs.getElement);
  r.add('PATCH', '/api/v4/catalogs/{id}/elements/{elementId}', catalogs.patchElement);
  // events (the activity feed)
  r.add('GET', '/api/v4/events', listEvents);
  r.add('GET', '/api/v4/events/types', eventTypes);
  r.add('GET', '/api/v4/events/{eventId}', getEvent);
  // webhooks
  r.add('GET', '/api/v4/webhooks', listWebhooks);
  r.add('POST', '/api/v4/webhooks', subscribeWebhook);
  r.add('DELETE', '/api/v4/webhooks', unsubscribeWebhook);
  addAccountRoutes(r);
  return r;
}

const PRE_FAULTS = new Set(['status', 'html403', 'payment', 'rate-limit', 'unauthorized']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function toResponse(e, state) {
  if (e instanceof HttpError) return { status: e.status, body: e.body, contentType: e.contentType, headers: e.headers };
  if (!state.config.quiet) console.error('[amocrm-emulator] internal error', e);
  return { status: 500, body: problemBody(500, 'Internal emulator error'), contentType: PROBLEM };
}

/**
 * Starts the emulator on 127.0.0.1.
 * options: port (0), accessTokenTtlSeconds (86400), rateLimit (7; 0/false off),
 * refreshRequiresRedirectUri (true), clientId, clientSecret, redirectUri,
 * seed ('base' | 'demo' | number of leads | {leads, contactsPerLead, companyRatio, maxNotesPerLead, random}),
 * quiet (true), plus any config key of store.mjs defaultConfig.
 */
export async function startEmulator(options = {}) {
  const state = createState(options);
  state.initialConfig = { ...state.config };
  state.seedSpec = options.seed;
  applySeed(state, options.seed);
  const limiter = new RateLimiter();
  const api = buildApiRouter();
  const admin = createAdmin(state, limiter);
  const adminRouter = buildAdminRouter(admin);

  const log = (line) => { if (!state.config.quiet) process.stderr.write(`[amocrm-emulator] ${line}\n`); };

  async function handleAdmin(req, res, url, path, requestId) {
    let resp;
    try {
      const raw = await readBody(req, state.config.maxBodyBytes);
      const body = parseJson(raw) ?? {};
      const m = adminRouter.match(req.method, path);
      if (!m) throw problemError(404, `No admin route ${req.method} ${path}`);
      if (m.allowed) throw new HttpError(405, problemBody(405, `Allowed: ${m.allowed.join(', ')}`), PROBLEM, { allow: m.allowed.join(', ') });
      const out = await m.route.handler(body, m.params, parseBracketParams(url.searchParams));
      // "UI" changes to contacts, tasks, … fire their webhooks too.
      const hooks = takePendingHooks(state);
      if (hooks.length) await dispatch(state, hooks).catch(() => {});
      resp = { status: 200, body: out ?? { ok: true }, contentType: JSON_TYPE };
    } catch (e) {
      resp = toResponse(e, state);
    }
    writeResponse(res, resp, requestId);
  }

  async function handle(req, res) {
    const startedAt = Date.now();
    const requestId = newRequestId();
    const url = new URL(req.url, 'http://127.0.0.1');
    const path = normalizePath(url.pathname);
    const method = req.method;
    if (path === '/_admin' || path.startsWith('/_admin/')) return handleAdmin(req, res, url, path, requestId);

    const host = req.headers.host && /^[\w.\-:[\]]+$/.test(req.headers.host) ? req.headers.host : state.hostPort;
    const m = api.match(method, path);
    const entry = {
      id: requestId, time: new Date().toISOString(), method, path, query: url.search.slice(1),
      route: `${method} ${m?.route ? m.route.pattern : path}`, status: null, tokenKind: null, fault: null,
      contentType: req.headers['content-type'] ?? null, userAgent: req.headers['user-agent'] ?? null, body: null, durationMs: null,
    };
    const finish = (status) => {
      entry.status = status;
      entry.durationMs = Date.now() - startedAt;
      state.stats.requests++;
      countCall(state, entry.route, status);
      recordRequest(state, entry);
      log(`${method} ${url.pathname}${url.search} → ${status}${entry.fault ? ` (fault ${entry.fault})` : ''}`);
    };
    const drop = () => {
      state.stats.dropped++;
      req.socket.destroy();
      finish('dropped');
    };

    let rawBody;
    try {
      rawBody = await readBody(req, state.config.maxBodyBytes);
    } catch (e) {
      const resp = toResponse(e, state);
      resp.headers = { ...resp.headers, connection: 'close' };
      writeResponse(res, resp, requestId);
      finish(resp.status);
      return;
    }
    if (rawBody.length) entry.body = rawBody.length > 65536 ? `${rawBody.subarray(0, 65536).toString('utf8')}…` : rawBody.toString('utf8');

    const ctx = {
      state, req, res, url, path, requestId, entry, rawBody, base: `http://${host}`,
      query: parseBracketParams(url.searchParams), params: {}, events: [], userId: null, token: null,
      _body: undefined,
      body() { if (this._body === undefined) this._body = parseJson(this.rawBody) ?? null; return this._body; },
    };

    // 1. injected faults (they sit "in front of" amoCRM, like its nginx)
    const fault = takeFault(state, method, path, url.searchParams);
    let postFault = null;
    if (fault) {
      entry.fault = fault.kind;
      if (fault.delayMs) await sleep(fault.delayMs);
      if (state.closed) return;
      if (fault.kind === 'drop') return drop();
      if (PRE_FAULTS.has(fault.kind)) {
        const resp = faultResponse(fault);
        writeResponse(res, resp, requestId);
        return finish(resp.status);
      }
      if (fault.kind === 'after' || fault.kind === 'drop-after') postFault = fault;
    }

    let resp;
    try {
      if (path === '/api/v4' || path.startsWith('/api/v4/')) {
        // 2. rate limit per token, before auth (nginx layer); a 429 does not perform the request.
        const key = rateKey(req);
        if (limiter.banned(key)) {
          state.stats.banned++;
          writeResponse(res, { status: 403, body: nginxHtml(403), contentType: HTML }, requestId);
          return finish(403);
        }
        if (!limiter.take(key, state.config.rateLimit, startedAt)) {
          state.stats.rateLimited++;
          if (limiter.refused(key, startedAt, state.config.banAfter429s, state.config.ban429WindowMs)) {
            state.stats.bannedAt ??= new Date(startedAt).toISOString();
          }
          writeResponse(res, { status: 429, body: nginxHtml(429), contentType: HTML }, requestId);
          return finish(429);
        }
        // 3. Bearer auth
        const auth = authenticate(state, req.headers.authorization);
        entry.tokenKind = auth.kind;
        if (auth.kind !== 'access' && auth.kind !== 'long_lived') throw unauthorized();
        ctx.userId = auth.rec.userId;
        ctx.token = auth.rec;
      }
      if (!m) throw problemError(404, `Unknown route ${method} ${path}`);
      if (m.allowed) {
        throw new HttpError(405, problemBody(405, `Method ${method} is not allowed here`), PROBLEM, { allow: m.allowed.join(', ') });
      }
      ctx.params = m.params;
      resp = await m.route.handler(ctx);
    } catch (e) {
      resp = toResponse(e, state);
    }

    // 4. post-faults: the request was applied, the client never learns it
    if (postFault) {
      if (postFault.kind === 'drop-after') drop();
      else { resp = faultResponse(postFault); }
    }
    if (postFault?.kind !== 'drop-after') {
      writeResponse(res, resp, requestId);
      finish(resp.status);
    }
    // 5. webhooks after the reply, as amoCRM sends them asynchronously
    const events = [...ctx.events, ...takePendingHooks(state)];
    if (events.length) {
      setImmediate(() => { dispatch(state, events).catch(() => {}); });
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      try { writeResponse(res, toResponse(e, state), newRequestId()); } catch { res.destroy(); }
    });
  });
  server.on('clientError', (err, socket) => { socket.destroy(); });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address();
  state.hostPort = `127.0.0.1:${port}`;
  state.baseUrl = `http://${state.hostPort}`;
  // The account's file drive, on a port of its own (its drive_url).
  const drive = await startDrive(state);

  let closing = null;
  return {
    url: state.baseUrl,
    port,
    driveUrl: state.driveBase,
    state,
    admin,
    server,
    close() {
      if (closing) return closing;
      state.closed = true;
      for (const r of state.pending) r.destroy();
      closing = Promise.all([
        new Promise((resolve) => server.close(() => resolve())),
        new Promise((resolve) => drive.close(() => resolve())),
      ]);
      server.closeAllConnections();
      drive.closeAllConnections();
      return closing;
    },
  };
}


