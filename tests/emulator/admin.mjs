// Admin API: test control without auth. Every operation is a plain method on
// the object returned here (emu.admin.*) and an HTTP route under /_admin.
import { Router, problemError, validationError } from './http.mjs';
import { applySeed, generateLeads, normalizeSeed, MAIN_USER_ID } from './seed.mjs';
import { newStats } from './store.mjs';
import { issueCode, issueTokenPair, issueLongLived, expireTokens, revokeTokens, listTokens } from './oauth.mjs';
import { addFaults, clearFaults, publicFault } from './faults.mjs';
import { validateLead, applyCreate, applyUpdate, deleteLead, restoreLead } from './leads.mjs';
import { dispatch, leadEvent, noteEvent, publicWebhook, LEAD_ACTIONS, ENTITIES } from './webhooks.mjs';
import { injectEvents } from './events.mjs';

const WEBHOOK_ENTITIES = ENTITIES.filter((e) => e !== 'leads').map((e) => ({ contacts: 'contact', companies: 'company', customers: 'customer', tasks: 'task' })[e] ?? e);
import { CUSTOMERS_MODES } from './customers.mjs';
import { incomingFromItem, CATEGORIES } from './unsorted.mjs';

const CONFIG_KEYS = [
  'rateLimit', 'accessTokenTtlSeconds', 'refreshTokenTtlSeconds', 'authCodeTtlSeconds', 'refreshRequiresRedirectUri',
  'refreshRevokesAccessToken', 'webhookTimeoutMs', 'webhookDisableAfterFailures', 'webhookRetryDelaysMs',
  'maxBodyBytes', 'maxWriteBatch', 'requestLogLimit', 'deliveryLogLimit', 'quiet', 'banAfter429s', 'ban429WindowMs',
  // the drive (account.mjs): address reported (one value, or a list answered in turn), redirect,
  // next_url, part size, keeping bytes
  'driveUrl', 'driveUrls', 'driveRedirect', 'driveNextUrl', 'drivePartSize', 'driveKeepBytes',
];
const INTEGRATION_KEYS = { clientId: 'clientId', clientSecret: 'clientSecret', redirectUri: 'redirectUri', integrationName: 'name' };

export function createAdmin(state, limiter) {
  const leadOr404 = (id) => {
    const lead = state.data.leads.get(Number(id));
    if (!lead) throw problemError(404, `Lead ${id} not found`);
    return lead;
  };

  const admin = {
    /** Back to the start-up seed. Keeps tokens and config unless asked (n8n holds credentials across tests). */
    reset({ tokens = false, config = false, keepWebhooks = false } = {}) {
      const hooks = state.data.webhooks;
      const ids = state.data.ids.webhook;
      applySeed(state, state.seedSpec);
      if (keepWebhooks) { state.data.webhooks = hooks; state.data.ids.webhook = ids; }
      state.faults = [];
      state.stats = newStats(state);
      state.requestLog = [];
      state.deliveries = [];
      state.clockOffsetMs = 0;
      limiter.reset();
      if (tokens) { state.oauth.codes.clear(); state.oauth.access.clear(); state.oauth.refresh.clear(); }
      if (config) Object.assign(state.config, state.initialConfig);
      return { ok: true, leads: state.data.leads.size };
    },

    /**
     * {leads, contactsPerLead?, companyRatio?, maxNotesPerLead?, random?, demo?, append?}
     * Replaces CRM data with base catalog + generated leads (append: add to what exists).
     * Webhook subscriptions survive a seed.
     */
    seed(body = {}) {
      const started = Date.now();
      const spec = normalizeSeed(typeof body === 'object' && body !== null ? body : { leads: Number(body) });
      let res;
      if (body.append) {
        res = generateLeads(state, { ...spec, random: spec.random ?? state.data.ids.lead });
      } else {
        const hooks = state.data.webhooks;
        const ids = state.data.ids.webhook;
        applySeed(state, spec);
        state.data.webhooks = hooks;
        state.data.ids.webhook = ids;
        const first = [...state.data.leads.keys()][0] ?? null;
        res = { created: state.data.leads.size, firstId: first, lastId: state.data.leads.size ? state.data.ids.lead : null };
      }
      return { ...res, total: state.data.leads.size, contacts: state.data.contacts.size, companies: state.data.companies.size, notes: state.data.notes.size, ms: Date.now() - started };
    },

    issueCode(body = {}) {
      const rec = issueCode(state, body);
      return {
        code: rec.code, client_id: rec.clientId, redirect_uri: rec.redirectUri, referer: state.hostPort,
        expires_in: Math.round((rec.expiresAt - state.nowMs()) / 1000),
      };
    },
    issueTokens: (body = {}) => issueTokenPair(state, { grantType: 'authorization_code', expiresInSeconds: body.expiresInSeconds, userId: body.userId }),
    longLivedToken: (body = {}) => issueLongLived(state, body),
    expireTokens: (body = {}) => expireTokens(state, body),
    revokeTokens: (body = {}) => revokeTokens(state, body),
    tokens: () => listTokens(state),

    addFaults: (body) => ({ faults: addFaults(state, body) }),
    faults: () => ({ faults: state.faults.map(publicFault) }),
    clearFaults: (id) => clearFaults(state, id === undefined ? undefined : Number(id)),

    config(patch = {}) {
      if (patch.maxWriteBatch !== undefined && (!Number.isInteger(patch.maxWriteBatch) || patch.maxWriteBatch < 1)) {
        throw problemError(400, 'maxWriteBatch must be a positive integer');
      }
      for (const k of CONFIG_KEYS) if (patch[k] !== undefined) state.config[k] = k === 'rateLimit' && patch[k] === false ? 0 : patch[k];
      for (const [k, field] of Object.entries(INTEGRATION_KEYS)) if (typeof patch[k] === 'string') state.integration[field] = patch[k];
      return { ...state.config, integration: { ...state.integration } };
    },

    stats: () => ({ ...state.stats, leads: state.data.leads.size }),
    /** Clears counters and the request log. */
    resetStats() {
      state.stats = newStats(state);
      state.requestLog = [];
      return { ok: true };
    },
    requests(filter = {}) {
      let list = state.requestLog;
      if (filter.method) list = list.filter((e) => e.method === String(filter.method).toUpperCase());
      if (filter.path) list = list.filter((e) => e.path === filter.path);
      if (filter.pathPrefix) list = list.filter((e) => e.path.startsWith(filter.pathPrefix));
      if (filter.route) list = list.filter((e) => e.route === filter.route);
      if (filter.status) list = list.filter((e) => String(e.status) === String(filter.status));
      if (filter.tokenKind) list = list.filter((e) => e.tokenKind === filter.tokenKind);
      if (filter.since) list = list.filter((e) => e.time >= filter.since);
      if (filter.limit) list = list.slice(-Number(filter.limit));
      return { requests: list };
    },
    clearRequests() { state.requestLog = []; return { ok: true }; },

    lead: (id) => leadOr404(id),
    leadCount() {
      let deleted = 0;
      for (const l of state.data.leads.values()) if (l.is_deleted) deleted++;
      return { count: state.data.leads.size - deleted, deleted, total: state.data.leads.size };
    },

    /** Creates leads "in the UI": validated like the API, webhooks fire. */
    async createLeads(body, { wait = true } = {}) {
      const items = Array.isArray(body) ? body : [body];
      const checked = items.map((item, i) => ({ request_id: String(i), ...validateLead(state, item, { mode: 'create' }) }));
      const failed = checked.filter((c) => c.errors.length);
      if (failed.length) throw validationError(failed.map((c) => ({ request_id: c.request_id, errors: c.errors })));
      const events = [];
      const leads = checked.map((c) => applyCreate(state, c.plan, MAIN_USER_ID, events));
      const deliveries = await maybeWait(dispatch(state, events), wait);
      return { ids: leads.map((l) => l.id), deliveries };
    },
    async updateLead(id, patch = {}, { wait = true } = {}) {
      const lead = leadOr404(id);
      const { errors, plan } = validateLead(state, patch, { mode: 'update', existing: lead });
      if (errors.length) throw validationError([{ request_id: '0', errors }]);
      const events = [];
      applyUpdate(state, lead, plan, patch.updated_by ?? MAIN_USER_ID, events);
      return { lead, deliveries: await maybeWait(dispatch(state, events), wait) };
    },
    async deleteLead(id, { wait = true } = {}) {
      const lead = leadOr404(id);
      const events = [];
      if (!lead.is_deleted) deleteLead(state, lead, MAIN_USER_ID, events);
      return { ok: true, deliveries: await maybeWait(dispatch(state, events), wait) };
    },
    async restoreLead(id, { wait = true } = {}) {
      const lead = leadOr404(id);
      const events = [];
      if (lead.is_deleted) restoreLead(state, lead, MAIN_USER_ID, events);
      return { ok: true, deliveries: await maybeWait(dispatch(state, events), wait) };
    },

    /**
     * Emits synthetic webhook events for existing records without changing them:
     * {action, leadId} or {events:[{action, leadId, old_status_id?, old_pipeline_id?, old_responsible_user_id?, text?}]}
     * for leads, and {entity: contact|company|customer|task|unsorted|talk, action, id} for the others
     * (a talk needs no record: its fields are the spec's `talk` object);
     * optional destination (only that hook), force (ignore settings/disabled) and
     * account ({id, subdomain}: a delivery that claims another account).
     * Several events → one POST per destination.
     */
    async emitWebhook(body = {}) {
      const specs = Array.isArray(body.events) ? body.events : [body];
      const events = specs.map((s, i) => {
        const entity = s.entity ?? 'lead';
        if (entity !== 'lead') {
          const store = { contact: 'contacts', company: 'companies', customer: 'customers', task: 'tasks', unsorted: 'unsorted', talk: 'talk' }[entity];
          if (!store) throw problemError(400, `events.${i}.entity must be one of lead, ${WEBHOOK_ENTITIES.join(', ')}`);
          if (typeof s.action !== 'string' || !s.action) throw problemError(400, `events.${i}.action is required`);
          const rec = store === 'talk' ? { talk_id: s.id ?? 1, ...(s.talk ?? {}) } : state.data[store].get(store === 'unsorted' ? s.id : Number(s.id));
          if (!rec) throw problemError(404, `${entity} ${s.id} not found`);
          return { entity: store, action: s.action, record: JSON.parse(JSON.stringify(rec)), extra: s.extra ?? {}, note: s.note ?? null, at: state.now() };
        }
        if (!LEAD_ACTIONS.includes(s.action)) throw problemError(400, `events.${i}.action must be one of ${LEAD_ACTIONS.join(', ')}`);
        const lead = leadOr404(s.leadId ?? s.lead_id ?? s.id);
        if (s.action === 'note') {
          const ids = state.data.notesByLead.get(lead.id) ?? [];
          const note = (s.noteId && state.data.notes.get(s.noteId)) || (ids.length && state.data.notes.get(ids[ids.length - 1])) || {
            id: 0, entity_id: lead.id, note_type: 'common', params: { text: s.text ?? '' }, created_at: state.now(), updated_at: state.now(),
            created_by: MAIN_USER_ID, updated_by: MAIN_USER_ID, responsible_user_id: MAIN_USER_ID, group_id: 0,
          };
          return noteEvent(state, lead, note);
        }
        return leadEvent(state, s.action, lead, {
          old_status_id: s.old_status_id ?? lead.status_id, old_pipeline_id: s.old_pipeline_id ?? lead.pipeline_id,
          old_responsible_user_id: s.old_responsible_user_id ?? lead.responsible_user_id,
        });
      });
      const deliveries = await dispatch(state, events, { destination: body.destination ?? null, force: !!body.force, account: body.account ?? null });
      return { deliveries };
    },
    /** Sends a raw body (garbage, say) to every hook, or to `destination`, whatever their settings: {body, destination?}. */
    async sendRaw(body = {}) {
      if (typeof body.body !== 'string') throw problemError(400, 'body must be a string');
      const deliveries = await dispatch(state, [], { destination: body.destination ?? null, force: true, raw: body.body });
      return { deliveries };
    },
    /** Events of the activity feed: {events: [{type, entity_type, entity_id, created_at?, created_by?, value_after?, value_before?}]} or {count, template}. */
    injectEvents: (body = {}) => injectEvents(state, body),
    events(filter = {}) {
      let list = state.data.events ?? [];
      if (filter.since) list = list.filter((e) => e.created_at >= Number(filter.since));
      return { events: list };
    },
    clearEvents() { state.data.events = []; return { ok: true }; },
    webhooks: () => ({ webhooks: [...state.data.webhooks.values()].map(publicWebhook) }),
    deliveries(filter = {}) {
      let list = state.deliveries;
      if (filter.destination) list = list.filter((d) => d.destination === filter.destination);
      if (filter.limit) list = list.slice(-Number(filter.limit));
      return { deliveries: list };
    },
    clearDeliveries() { state.deliveries = []; return { ok: true }; },

    /** The account's customers_mode: unavailable (→ 402), disabled (→ 422), segments, periodicity, dynamic. */
    customersMode(body = {}) {
      if (body.mode !== undefined) {
        if (!CUSTOMERS_MODES.includes(body.mode)) throw problemError(400, `mode must be one of ${CUSTOMERS_MODES.join(', ')}`);
        state.data.account.customers_mode = body.mode;
      }
      return { customers_mode: state.data.account.customers_mode };
    },

    /**
     * An incoming lead as a channel would deliver it (chats and mail cannot be
     * created through the API): {category, source_uid?, source_name?, pipeline_id?,
     * metadata?, _embedded?} in the API's create shape → {uid, lead_id, contact_ids, company_ids}.
     */
    addIncoming(body = {}) {
      const { category = 'chats', ...item } = body;
      if (!CATEGORIES.includes(category)) throw problemError(400, `category must be one of ${CATEGORIES.join(', ')}`);
      const now = state.now();
      const defaults = {
        chats: { from: 'Client', service: 'telegram', client: { name: 'Client', avatar: null }, last_message_text: 'Hello!', received_at: now, source_name: 'Telegram' },
        mail: { from: { email: 'client@example.com', name: 'Client' }, received_at: now, subject: 'Question', thread_id: 1, message_id: 'msg-1', content_summary: 'Hello!' },
      };
      const u = incomingFromItem(state, category, {
        source_uid: `${category}-source`, source_name: category === 'mail' ? 'Mail' : 'Telegram', metadata: defaults[category] ?? {}, ...item,
      }, MAIN_USER_ID);
      return { uid: u.uid, category: u.category, lead_id: u.lead_id, contact_ids: u.contact_ids, company_ids: u.company_ids };
    },

    /** Moves the emulator clock (token/code expiry, timestamps) forward; the rate limiter keeps real time. */
    advanceClock({ seconds = 0 } = {}) {
      state.clockOffsetMs += Number(seconds) * 1000;
      return { now: state.now(), offsetSeconds: state.clockOffsetMs / 1000 };
    },
    clock: () => ({ now: state.now(), offsetSeconds: state.clockOffsetMs / 1000 }),
  };
  return admin;
}

function maybeWait(promise, wait) {
  return wait ? promise : (promise.catch(() => {}), undefined);
}

/** HTTP mapping of the admin methods. Handlers get (body, params, query). */
export function buildAdminRouter(admin) {
  const r = new Router();
  const q = (query) => Object.fromEntries(Object.entries(query).filter(([, v]) => typeof v === 'string'));
  r.add('GET', '/_admin', () => ({ routes: r.routes.map((x) => `${x.method} ${x.pattern}`) }));
  r.add('POST', '/_admin/reset', (b) => admin.reset(b));
  r.add('POST', '/_admin/seed', (b) => admin.seed(b));
  r.add('POST', '/_admin/oauth/code', (b) => admin.issueCode(b));
  r.add('POST', '/_admin/oauth/tokens', (b) => admin.issueTokens(b));
  r.add('POST', '/_admin/long-lived-token', (b) => admin.longLivedToken(b));
  r.add('GET', '/_admin/tokens', () => admin.tokens());
  r.add('POST', '/_admin/tokens/expire', (b) => admin.expireTokens(b));
  r.add('POST', '/_admin/tokens/revoke', (b) => admin.revokeTokens(b));
  r.add('GET', '/_admin/faults', () => admin.faults());
  r.add('POST', '/_admin/faults', (b) => admin.addFaults(b));
  r.add('DELETE', '/_admin/faults', () => admin.clearFaults());
  r.add('DELETE', '/_admin/faults/{id}', (b, p) => admin.clearFaults(p.id));
  r.add('GET', '/_admin/config', () => admin.config({}));
  r.add('POST', '/_admin/config', (b) => admin.config(b));
  r.add('GET', '/_admin/stats', () => admin.stats());
  r.add('POST', '/_admin/stats/reset', () => admin.resetStats());
  r.add('GET', '/_admin/requests', (b, p, query) => admin.requests(q(query)));
  r.add('DELETE', '/_admin/requests', () => admin.clearRequests());
  r.add('GET', '/_admin/leads/count', () => admin.leadCount());
  r.add('GET', '/_admin/leads/{id}', (b, p) => admin.lead(p.id));
  r.add('POST', '/_admin/leads', (b) => admin.createLeads(b));
  r.add('PATCH', '/_admin/leads/{id}', (b, p) => admin.updateLead(p.id, b));
  r.add('POST', '/_admin/leads/{id}/delete', (b, p) => admin.deleteLead(p.id));
  r.add('POST', '/_admin/leads/{id}/restore', (b, p) => admin.restoreLead(p.id));
  r.add('GET', '/_admin/webhooks', () => admin.webhooks());
  r.add('POST', '/_admin/webhooks/emit', (b) => admin.emitWebhook(b));
  r.add('POST', '/_admin/webhooks/send', (b) => admin.sendRaw(b));
  r.add('GET', '/_admin/webhooks/deliveries', (b, p, query) => admin.deliveries(q(query)));
  r.add('POST', '/_admin/events', (b) => admin.injectEvents(b));
  r.add('GET', '/_admin/events', (b, p, query) => admin.events(q(query)));
  r.add('DELETE', '/_admin/events', () => admin.clearEvents());
  r.add('DELETE', '/_admin/webhooks/deliveries', () => admin.clearDeliveries());
  r.add('GET', '/_admin/customers-mode', () => admin.customersMode({}));
  r.add('POST', '/_admin/customers-mode', (b) => admin.customersMode(b));
  r.add('POST', '/_admin/unsorted', (b) => admin.addIncoming(b));
  r.add('GET', '/_admin/clock', () => admin.clock());
  r.add('POST', '/_admin/clock', (b) => admin.advanceClock(b));
  return r;
}
