// Webhooks: the /api/v4/webhooks subscription API and outgoing deliveries in
// amoCRM's OLD form-encoded bracket format (reference "Webhooks").
import http from 'node:http';
import https from 'node:https';
import { hal, noContent, problemError, validationError, toBracketPairs } from './http.mjs';
import { ACCOUNT_ID, SUBDOMAIN, nextId } from './store.mjs';
import { MSG } from './customfields.mjs';
import { isObj } from './validate.mjs';

export const MAX_WEBHOOKS = 100; // reference: ≤ 100 per account
export const LEAD_ACTIONS = ['add', 'update', 'delete', 'restore', 'status', 'responsible', 'note'];
const KNOWN_SETTINGS = new Set([
  ...LEAD_ACTIONS.map((a) => `${a}_lead`),
  ...['add', 'update', 'delete', 'restore', 'responsible', 'note'].flatMap((a) => [`${a}_contact`, `${a}_company`, `${a}_customer`]),
  'add_task', 'update_task', 'delete_task', 'responsible_task', 'add_unsorted', 'update_unsorted', 'delete_unsorted', 'status_unsorted',
  'add_catalog', 'update_catalog', 'delete_catalog', 'add_talk', 'update_talk', 'add_message', 'status_customer',
]);

// v2 numeric note types used by the old webhook format.
const V2_NOTE_TYPES = { common: 4, call_in: 10, call_out: 11, service_message: 25, sms_in: 102, sms_out: 103 };

/** Snapshot of a lead at event time (later changes must not leak into a queued delivery). */
export function leadEvent(state, action, lead, extra = {}) {
  return { entity: 'leads', action, lead: { ...lead, cf: { ...lead.cf }, tags: [...lead.tags] }, extra, at: state.now() };
}

export function noteEvent(state, lead, note) {
  return { entity: 'leads', action: 'note', lead: { ...lead, cf: { ...lead.cf }, tags: [...lead.tags] }, note: { ...note }, extra: {}, at: state.now() };
}

// ---- payload ----------------------------------------------------------------------
function oldLeadFields(state, ev) {
  const l = ev.lead;
  const d = state.data;
  // Old (v2) names, not v4 (reference: date_create, last_modified, created_user_id, modified_user_id…).
  const o = { id: l.id, name: l.name, status_id: l.status_id };
  if (ev.action === 'status') o.old_status_id = ev.extra.old_status_id;
  Object.assign(o, {
    price: l.price, responsible_user_id: l.responsible_user_id, last_modified: l.updated_at,
    modified_user_id: l.updated_by, created_user_id: l.created_by, date_create: l.created_at, pipeline_id: l.pipeline_id,
  });
  if (ev.action === 'status') o.old_pipeline_id = ev.extra.old_pipeline_id;
  if (ev.action === 'responsible') o.old_responsible_user_id = ev.extra.old_responsible_user_id;
  if (l.closed_at) o.date_close = l.closed_at;
  if (l.loss_reason_id) o.loss_reason_id = l.loss_reason_id;
  const tags = l.tags.map((id) => d.tags.leads.get(id)).filter(Boolean);
  if (tags.length) o.tags = Object.fromEntries(tags.map((t, i) => [i, { id: t.id, name: t.name }]));
  o.account_id = ACCOUNT_ID;
  const cfs = oldCustomFields(state, 'leads', l.cf);
  if (cfs) o.custom_fields = cfs;
  o.created_at = l.created_at;
  o.updated_at = l.updated_at;
  return o;
}

/** `custom_fields[i][id|name|code|values[j][value|enum]]`, every value a string (reference: php#195). */
function oldCustomFields(state, store, cf) {
  const cfs = [];
  for (const key of Object.keys(cf ?? {})) {
    const f = state.data.customFields[store]?.get(Number(key));
    const values = cf[key];
    if (!f || !values?.length) continue;
    const vals = Object.fromEntries(values.map((v, i) => [i, v.enum_id != null ? { value: String(v.value), enum: v.enum_id } : { value: typeof v.value === 'boolean' ? (v.value ? '1' : '0') : String(v.value) }]));
    cfs.push({ id: f.id, name: f.name, ...(f.code ? { code: f.code } : {}), values: vals });
  }
  return cfs.length ? Object.fromEntries(cfs.map((c, i) => [i, c])) : null;
}

// v2 element types (ent §4, UNVERIFIED beyond leads = 2).
const ELEMENT_TYPE = { contacts: 1, leads: 2, companies: 3, customers: 12, tasks: 4 };

function noteFields(ev) {
  const n = ev.note;
  const note = {
    id: n.id, note_type: V2_NOTE_TYPES[n.note_type] ?? n.note_type, element_id: n.entity_id, element_type: ELEMENT_TYPE[n.entity_type ?? 'leads'] ?? 2,
    text: n.params?.text ?? '', date_create: n.created_at, last_modified: n.updated_at, created_by: n.created_by,
    modified_by: n.updated_by, main_user_id: n.responsible_user_id, group_id: n.group_id, account_id: ACCOUNT_ID,
  };
  if (n.params && Object.keys(n.params).some((k) => k !== 'text')) note.params = n.params;
  return { note };
}

/** Webhook events of the entities other than leads (whose events the lead code pushes itself). */
const SINGULAR = { leads: 'lead', contacts: 'contact', companies: 'company', customers: 'customer', tasks: 'task', unsorted: 'unsorted', talk: 'talk' };
// Top keys of the payload (ent §14): companies arrive under `contacts` with type=company; tasks under `task`.
const TOP_KEY = { leads: 'leads', contacts: 'contacts', companies: 'contacts', customers: 'customers', tasks: 'task', unsorted: 'unsorted', talk: 'talk' };
export const ENTITIES = Object.keys(SINGULAR);

/** Queues a webhook event (sent after the request, or by the admin call). Snapshot: later changes must not leak in. */
export function hookEvent(state, entity, action, rec, extra = {}, note = null) {
  if (!rec || state.closed) return;
  state.pendingHooks.push({ entity, action, record: JSON.parse(JSON.stringify(rec)), extra, note: note ? { ...note } : null, at: state.now() });
}

export function takePendingHooks(state) {
  const list = state.pendingHooks;
  state.pendingHooks = [];
  return list;
}

/** The subscription setting that delivers an event: `{action}_{entity}`. */
export const settingOf = (ev) => `${ev.action}_${SINGULAR[ev.entity] ?? ev.entity}`;
const recordIdOf = (ev) => ev.lead?.id ?? ev.record?.id ?? ev.record?.uid ?? ev.record?.talk_id ?? null;

const ymdHis = (t) => (t == null ? '' : new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19));

/** Old (v2) fields of a contact, company, customer, task, incoming lead or talk event. */
function oldFields(state, ev) {
  const r = ev.record;
  const store = ev.entity;
  if (store === 'talk') return { ...r };
  if (store === 'unsorted') {
    const o = { uid: r.uid, category: r.category, account_id: ACCOUNT_ID, pipeline_id: r.pipeline_id, source_name: r.source_name, created_at: r.created_at, lead_id: r.lead_id };
    if (ev.extra?.action) o.action = ev.extra.action;
    return o;
  }
  const type = store === 'companies' ? 'company' : store === 'contacts' ? 'contact' : undefined;
  if (ev.action === 'delete') return { id: r.id, ...(type ? { type } : {}) };
  if (ev.action === 'note') return { ...noteFields({ note: { ...ev.note, entity_type: store } }), ...(type ? { type } : {}) };
  if (store === 'tasks') {
    const o = {
      id: r.id, element_id: r.entity_id ?? '', element_type: ELEMENT_TYPE[r.entity_type] ?? '', task_type: r.task_type_id, date_create: ymdHis(r.created_at),
      text: r.text, status: r.is_completed ? 1 : 0, account_id: ACCOUNT_ID, created_user_id: r.created_by, last_modified: ymdHis(r.updated_at),
      responsible_user_id: r.responsible_user_id, complete_till: ymdHis(r.complete_till), action_close: r.is_completed ? 1 : 0,
    };
    if (r.result?.text) o.result = { text: r.result.text };
    if (ev.extra?.old_responsible_user_id !== undefined) o.old_responsible_user_id = ev.extra.old_responsible_user_id;
    return o;
  }
  const o = {
    id: r.id, name: r.name, responsible_user_id: r.responsible_user_id, date_create: r.created_at, last_modified: r.updated_at,
    created_user_id: r.created_by, modified_user_id: r.updated_by, account_id: ACCOUNT_ID,
  };
  if (store === 'contacts' && r.company_id) {
    o.linked_company_id = r.company_id;
    o.company_name = state.data.companies.get(r.company_id)?.name ?? '';
  }
  if (store === 'customers') Object.assign(o, { next_price: r.next_price, next_date: r.next_date, status_id: r.status_id, periodicity: r.periodicity });
  if (ev.extra?.old_responsible_user_id !== undefined) o.old_responsible_user_id = ev.extra.old_responsible_user_id;
  const tags = (r.tags ?? []).map((id) => state.data.tags[store]?.get(id)).filter(Boolean);
  if (tags.length) o.tags = Object.fromEntries(tags.map((t, i) => [i, { id: t.id, name: t.name }]));
  const cfs = oldCustomFields(state, store, r.cf);
  if (cfs) o.custom_fields = cfs;
  Object.assign(o, { created_at: r.created_at, updated_at: r.updated_at });
  if (type) o.type = type;
  return o;
}

/** The account block of a delivery; `account` overrides it (deliveries that claim another account). */
export function accountBlock(state, account) {
  return account ?? { subdomain: SUBDOMAIN, id: ACCOUNT_ID, _links: { self: state.baseUrl } };
}

/** Form body for several events: `{top key}[action][i][…]` + `account[…]`. */
export function buildPayload(state, events, account = null) {
  const top = {};
  for (const ev of events) {
    const key = TOP_KEY[ev.entity] ?? ev.entity;
    const bucket = ((top[key] ??= {})[ev.action] ??= {});
    const i = Object.keys(bucket).length;
    if (ev.entity !== 'leads') bucket[i] = oldFields(state, ev);
    else if (ev.action === 'delete') bucket[i] = { id: ev.lead.id, type: 'lead' }; // reference: delete carries only id (+ type)
    else if (ev.action === 'note') bucket[i] = noteFields(ev);
    else bucket[i] = oldLeadFields(state, ev);
  }
  const obj = { ...top, account: accountBlock(state, account) };
  return new URLSearchParams(toBracketPairs(obj)).toString();
}

// ---- delivery -----------------------------------------------------------------------
function post(state, destination, body, timeoutMs) {
  return new Promise((resolve) => {
    let url;
    try { url = new URL(destination); } catch { resolve({ status: null, error: 'invalid URL' }); return; }
    const lib = url.protocol === 'https:' ? https : http;
    const started = Date.now();
    const req = lib.request(url, {
      method: 'POST', agent: false,
      headers: {
        'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'amoCRM-WebHook-client/1.0',
        'content-length': Buffer.byteLength(body), accept: '*/*',
      },
    });
    const done = (r) => { state.pending.delete(req); clearTimeout(timer); resolve({ ...r, durationMs: Date.now() - started }); };
    const timer = setTimeout(() => { req.destroy(new Error(`timeout after ${timeoutMs} ms`)); }, timeoutMs);
    state.pending.add(req);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => done({ status: res.statusCode, error: null }));
      res.on('error', (e) => done({ status: res.statusCode, error: e.message }));
    });
    req.on('error', (e) => done({ status: null, error: e.message }));
    req.end(body);
  });
}

const sleep = (ms) => new Promise((r) => { const t = setTimeout(r, ms); t.unref?.(); });

async function deliverToHook(state, hook, events, { account = null, raw = null } = {}) {
  const body = raw ?? buildPayload(state, events, account);
  const delays = [0, ...(state.config.webhookRetryDelaysMs ?? [])];
  let first = null;
  for (let attempt = 0; attempt < delays.length; attempt++) {
    if (attempt > 0) { await sleep(delays[attempt]); if (state.closed || hook.disabled) break; }
    const rec = {
      id: ++state.deliverySeq, webhook_id: hook.id, destination: hook.destination, attempt: attempt + 1,
      time: new Date().toISOString(), events: events.map((e) => ({ action: e.action, entity: e.entity, id: recordIdOf(e) })),
      body, status: null, ok: false, error: null, durationMs: null,
    };
    state.deliveries.push(rec);
    const over = state.deliveries.length - state.config.deliveryLogLimit;
    if (over > 0) state.deliveries.splice(0, over);
    const r = await post(state, hook.destination, body, state.config.webhookTimeoutMs);
    Object.assign(rec, r, { ok: r.status !== null && r.status >= 100 && r.status < 300 });
    first ??= rec;
    if (rec.ok) {
      hook.failures = 0;
      state.stats.webhookDeliveries.ok++;
      break;
    }
    state.stats.webhookDeliveries.failed++;
    hook.failures = (hook.failures ?? 0) + 1;
    // amoCRM switches off a destination that keeps failing (reference); the
    // emulator's rule: `webhookDisableAfterFailures` consecutive failures.
    if (hook.failures >= state.config.webhookDisableAfterFailures) { hook.disabled = true; hook.updated_at = state.now(); break; }
  }
  return first;
}

/**
 * Sends events to every enabled hook subscribed to `{action}_{entity}`; one POST
 * per destination carries all of that destination's events. Resolves with the
 * first-attempt delivery records.
 */
export function dispatch(state, events, { destination = null, force = false, account = null, raw = null } = {}) {
  if ((!events.length && raw === null) || state.closed) return Promise.resolve([]);
  const jobs = [];
  const hooks = [...state.data.webhooks.values()].sort((a, b) => a.sort - b.sort || a.id - b.id);
  for (const hook of hooks) {
    if (destination && hook.destination !== destination) continue;
    if (hook.disabled && !force) continue;
    const mine = force ? events : events.filter((e) => hook.settings.includes(settingOf(e)));
    if (mine.length || (raw !== null && force)) jobs.push(deliverToHook(state, hook, mine, { account, raw }));
  }
  return Promise.all(jobs).then((r) => r.filter(Boolean));
}

// ---- /api/v4/webhooks ---------------------------------------------------------------
function view(h) {
  return {
    id: h.id, destination: h.destination, created_at: h.created_at, updated_at: h.updated_at, account_id: ACCOUNT_ID,
    created_by: h.created_by, sort: h.sort, disabled: h.disabled, settings: [...h.settings],
  };
}

export function listWebhooks(ctx) {
  const f = isObj(ctx.query.filter) ? ctx.query.filter : {};
  const hooks = [...ctx.state.data.webhooks.values()].filter((h) => typeof f.destination !== 'string' || h.destination === f.destination);
  if (!hooks.length) return noContent();
  return hal({ _total_items: hooks.length, _embedded: { webhooks: hooks.map(view) } });
}

function checkDestination(body, errors) {
  if (typeof body.destination !== 'string' || body.destination === '') { errors.push({ code: 'FieldMissing', path: 'destination', detail: MSG.blank }); return; }
  let u;
  try { u = new URL(body.destination); } catch { /* handled below */ }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) errors.push({ code: 'InvalidUrl', path: 'destination', detail: 'This value is not a valid URL.' });
}

/** POST /api/v4/webhooks {destination, settings, sort}: the same destination updates (and re-enables) its hook. */
export function subscribeWebhook(ctx) {
  const { state } = ctx;
  const body = ctx.body();
  const errors = [];
  if (!isObj(body)) throw validationError([{ request_id: '0', errors: [{ code: 'InvalidType', path: '', detail: MSG.type('array') }] }]);
  checkDestination(body, errors);
  if (!Array.isArray(body.settings) || body.settings.length === 0) errors.push({ code: 'FieldMissing', path: 'settings', detail: MSG.blank });
  else body.settings.forEach((s, i) => { if (!KNOWN_SETTINGS.has(s)) errors.push({ code: 'NotSupportedChoice', path: `settings.${i}`, detail: MSG.choice }); });
  if (body.sort !== undefined && !Number.isInteger(body.sort)) errors.push({ code: 'InvalidType', path: 'sort', detail: MSG.type('int') });
  if (errors.length) throw validationError([{ request_id: '0', errors }]);
  const now = state.now();
  let hook = [...state.data.webhooks.values()].find((h) => h.destination === body.destination);
  if (hook) {
    Object.assign(hook, { settings: [...new Set(body.settings)], sort: body.sort ?? hook.sort, disabled: false, failures: 0, updated_at: now });
  } else {
    if (state.data.webhooks.size >= MAX_WEBHOOKS) throw problemError(400, `Webhooks limit reached: at most ${MAX_WEBHOOKS} per account`);
    hook = {
      id: nextId(state, 'webhook'), destination: body.destination, created_at: now, updated_at: now, created_by: ctx.userId,
      sort: body.sort ?? 1, disabled: false, settings: [...new Set(body.settings)], failures: 0,
    };
    state.data.webhooks.set(hook.id, hook);
  }
  return hal(view(hook));
}

/** DELETE /api/v4/webhooks {destination} → 204 (by destination, not id — reference). */
export function unsubscribeWebhook(ctx) {
  const { state } = ctx;
  const body = ctx.body();
  if (!isObj(body) || typeof body.destination !== 'string' || body.destination === '') {
    throw validationError([{ request_id: '0', errors: [{ code: 'FieldMissing', path: 'destination', detail: MSG.blank }] }]);
  }
  const hook = [...state.data.webhooks.values()].find((h) => h.destination === body.destination);
  if (!hook) throw problemError(404, 'Webhook not found');
  state.data.webhooks.delete(hook.id);
  return noContent();
}

export function publicWebhook(h) {
  return { ...view(h), failures: h.failures ?? 0 };
}
