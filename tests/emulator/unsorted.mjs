// Unsorted, i.e. incoming leads (reference entities §5): list, get by uid,
// create forms/sip in batches (a lead in the pipeline's "unsorted" stage,
// type 1, plus a contact and a company hidden from their lists until the
// record is accepted), accept, decline, link (chats/mail only), summary.
// There is no batch accept in amoCRM's API (reference, PHP Unsorted.php:
// accept/decline/link take one uid each).
import { recordEvent } from './events.mjs';
import { createHash } from 'node:crypto';
import { hal, noContent, problemError, validationError, scalars } from './http.mjs';
import { ACCOUNT_ID, nextId } from './store.mjs';
import { MSG } from './customfields.mjs';
import { parsePaging, parseOrder, sortBy, pageLinks, intList, rangePred } from './filters.mjs';
import { Errors, isObj, optInt, optUser, requestIdOf, requireBatch, throwIfErrors } from './validate.mjs';
import { validateLead, applyCreate, firstStage } from './leads.mjs';
import { validateEntity, createEntity, selfLink } from './contacts.mjs';
import { leadEvent, hookEvent } from './webhooks.mjs';

export const CATEGORIES = ['sip', 'mail', 'forms', 'chats'];
const MAX_UNSORTED = 250;

// Required metadata per category created through the API (reference §5; the
// docs mark sip's fields required; forms: PHP FormsMetadata always sends them).
const REQUIRED_METADATA = {
  forms: { form_id: 'scalar', form_name: 'string', form_page: 'string', form_sent_at: 'int' },
  sip: { uniq: 'string', duration: 'int', service_code: 'string', link: 'string', phone: 'scalar', called_at: 'int' },
};
// Left out of the duplicate check: when a form was sent is not "its data".
const TIME_KEYS = new Set(['created_at', 'form_sent_at', 'called_at', 'received_at', 'request_id']);

const uidHref = (ctx, uid) => ({ self: { href: `${ctx.base}/api/v4/leads/unsorted/${uid}` } });

function newUid(state) {
  return createHash('sha1').update(`unsorted:${ACCOUNT_ID}:${nextId(state, 'unsorted')}`).digest('hex'); // 40 hex chars
}

function stable(v) {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).filter((k) => !TIME_KEYS.has(k)).sort().map((k) => `${JSON.stringify(k)}:${stable(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

function embeddedRefs(ctx, u) {
  return {
    leads: u.lead_id ? [{ id: u.lead_id, _links: selfLink(ctx, 'leads', u.lead_id) }] : [],
    contacts: u.contact_ids.map((id) => ({ id, _links: selfLink(ctx, 'contacts', id) })),
    companies: u.company_ids.map((id) => ({ id, _links: selfLink(ctx, 'companies', id) })),
  };
}

export function serializeUnsorted(ctx, u) {
  return {
    uid: u.uid, source_uid: u.source_uid, source_name: u.source_name, category: u.category, pipeline_id: u.pipeline_id,
    created_at: u.created_at, metadata: structuredClone(u.metadata), account_id: ACCOUNT_ID, _links: uidHref(ctx, u.uid),
    _embedded: embeddedRefs(ctx, u),
  };
}

const unsortedStatus = (pipeline) => pipeline.statuses.find((s) => s.type === 1);

function mainPipeline(state) {
  for (const p of state.data.pipelines.values()) if (p.is_main) return p;
  return state.data.pipelines.values().next().value;
}

// ---- read ---------------------------------------------------------------------------------
/** GET /api/v4/leads/unsorted: filter[uid], filter[category][], filter[pipeline_id], order[created_at|updated_at], paging. Waiting records only. */
export function listUnsorted(ctx) {
  const { page, limit } = parsePaging(ctx.query);
  const f = isObj(ctx.query.filter) ? ctx.query.filter : {};
  const uids = f.uid !== undefined ? new Set(scalars(f.uid).map((s) => s.toLowerCase())) : null;
  const cats = f.category !== undefined ? new Set(scalars(f.category)) : null;
  const pipes = f.pipeline_id !== undefined ? new Set(intList(f.pipeline_id, 'filter.pipeline_id')) : null;
  let items = [];
  for (const u of ctx.state.data.unsorted.values()) {
    if (u.status === 'new' && (!uids || uids.has(u.uid)) && (!cats || cats.has(u.category)) && (!pipes || pipes.has(u.pipeline_id))) items.push(u);
  }
  items = sortBy(items, parseOrder(ctx.query, ['created_at', 'updated_at']));
  const slice = items.slice((page - 1) * limit, page * limit);
  if (!slice.length) return noContent();
  return hal({ _page: page, _links: pageLinks(ctx, page, limit, slice.length === limit), _embedded: { unsorted: slice.map((u) => serializeUnsorted(ctx, u)) } });
}

/** GET /api/v4/leads/unsorted/{uid}: unknown, accepted, declined or linked → 204. */
export function getUnsorted(ctx) {
  const u = ctx.state.data.unsorted.get(ctx.params.uid);
  return u && u.status === 'new' ? hal(serializeUnsorted(ctx, u)) : noContent();
}

/** GET /api/v4/leads/unsorted/summary: filter[uid] (str|list), filter[created_at] (int = from, or {from,to}), filter[pipeline_id]. */
export function unsortedSummary(ctx) {
  const f = isObj(ctx.query.filter) ? ctx.query.filter : {};
  const uids = f.uid !== undefined ? new Set(scalars(f.uid).map((s) => s.toLowerCase())) : null;
  let created = null;
  if (typeof f.created_at === 'string') { const [from] = intList(f.created_at, 'filter.created_at'); created = (x) => x >= from; }
  else if (f.created_at !== undefined) created = rangePred(f.created_at, 'filter.created_at');
  const pipes = f.pipeline_id !== undefined ? new Set(intList(f.pipeline_id, 'filter.pipeline_id')) : null;
  const out = { total: 0, accepted: 0, declined: 0, average_sort_time: 0, categories: Object.fromEntries(CATEGORIES.map((c) => [c, { total: 0 }])) };
  let sorted = 0;
  let sortTime = 0;
  for (const u of ctx.state.data.unsorted.values()) {
    if ((created && !created(u.created_at)) || (pipes && !pipes.has(u.pipeline_id)) || (uids && !uids.has(u.uid))) continue;
    out.total++;
    out.categories[u.category].total++;
    if (u.status === 'accepted' || u.status === 'linked') out.accepted++;
    if (u.status === 'declined') out.declined++;
    if (u.processed_at !== null) { sorted++; sortTime += Math.max(0, u.processed_at - u.created_at); }
  }
  out.average_sort_time = sorted ? Math.round(sortTime / sorted) : 0;
  return hal(out);
}

// ---- create -----------------------------------------------------------------------------------
function prefixed(errors, prefix) {
  return errors.map((e) => ({ ...e, path: `${prefix}${e.path}` }));
}

function listOfOne(emb, key, errors) {
  const v = emb[key];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) { errors.add('InvalidType', `_embedded.${key}`, MSG.type('array')); return null; }
  if (v.length > 1) { errors.add('Count', `_embedded.${key}`, MSG.one); return null; }
  return v.length ? v[0] : null;
}

function validateIncoming(state, category, item) {
  const errors = new Errors();
  if (!isObj(item)) { errors.add('InvalidType', '', MSG.type('array')); return { errors: errors.list }; }
  const plan = { category };
  const missing = (v) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
  for (const k of ['source_uid', 'source_name']) {
    if (missing(item[k])) errors.add('FieldMissing', k, MSG.blank);
    else if (typeof item[k] !== 'string') errors.add('InvalidType', k, MSG.type('string'));
    else plan[k] = item[k];
  }
  const pid = optInt(item, 'pipeline_id', errors);
  if (pid !== undefined) {
    const p = state.data.pipelines.get(pid);
    if (!p || !p.is_unsorted_on) errors.add('NotSupportedChoice', 'pipeline_id', MSG.choice);
    else plan.pipeline = p;
  } else plan.pipeline = mainPipeline(state);
  plan.created_at = optInt(item, 'created_at', errors);
  if (missing(item.metadata)) errors.add('FieldMissing', 'metadata', MSG.blank);
  else if (!isObj(item.metadata)) errors.add('InvalidType', 'metadata', MSG.type('array'));
  else {
    for (const [k, t] of Object.entries(REQUIRED_METADATA[category] ?? {})) {
      const v = item.metadata[k];
      if (missing(v)) errors.add('FieldMissing', `metadata.${k}`, MSG.blank);
      else if (t === 'int' ? !Number.isInteger(v) : t === 'string' ? typeof v !== 'string' : typeof v !== 'string' && typeof v !== 'number') {
        errors.add('InvalidType', `metadata.${k}`, MSG.type(t === 'scalar' ? 'string' : t));
      }
    }
    const { is_call_event_needed: _writeOnly, ...rest } = item.metadata; // write-only (reference)
    plan.metadata = rest;
  }
  const emb = item._embedded;
  if (emb !== undefined && emb !== null && !isObj(emb)) errors.add('InvalidType', '_embedded', MSG.type('array'));
  const e = isObj(emb) ? emb : {};
  // the docs send `_embedded.leads: [lead]`; the PHP client sends `_embedded.lead: {…}` — both are read
  let leadItem = null;
  let leadPath = '_embedded.leads.0.';
  if (e.leads !== undefined && e.leads !== null) leadItem = listOfOne(e, 'leads', errors);
  else if (e.lead !== undefined && e.lead !== null) { leadItem = e.lead; leadPath = '_embedded.lead.'; }
  if (leadItem !== null) {
    if (!isObj(leadItem)) errors.add('InvalidType', leadPath.slice(0, -1), MSG.type('array'));
    else {
      // the stage is the pipeline's unsorted one; contacts/companies come from the unsorted's own _embedded
      const { status_id: _s, pipeline_id: _p, _embedded: lemb, ...rest } = leadItem;
      const leadIn = { ...rest, ...(isObj(lemb) ? { _embedded: { tags: lemb.tags, source: lemb.source } } : {}) };
      const v = validateLead(state, leadIn, { mode: 'create', complex: true });
      errors.addAll(prefixed(v.errors, leadPath));
      plan.lead = v.plan;
    }
  }
  for (const [key, entity] of [['contacts', 'contacts'], ['companies', 'companies']]) {
    const one = listOfOne(e, key, errors);
    if (one === null) continue;
    const v = validateEntity(state, entity, one, `_embedded.${key}.0.`);
    errors.addAll(v.errors);
    plan[entity] = v.plan;
  }
  plan.fingerprint = stable({ category, source_uid: item.source_uid, source_name: item.source_name, pipeline_id: plan.pipeline?.id, metadata: item.metadata, _embedded: e });
  return { errors: errors.list, plan };
}

/** Validates and creates one incoming record (admin and seed); throws the 400 on invalid input. */
export function incomingFromItem(state, category, item, userId, events = []) {
  if (!CATEGORIES.includes(category)) throw validationError([{ request_id: '0', errors: [{ code: 'NotSupportedChoice', path: 'category', detail: MSG.choice }] }]);
  const { errors, plan } = validateIncoming(state, category, item);
  if (errors.length) throw validationError([{ request_id: '0', errors }]);
  return createIncoming(state, plan, userId, events);
}

/** Creates one incoming record and its lead/contact/company (API, admin and seed). */
export function createIncoming(state, plan, userId, events = []) {
  const uid = newUid(state);
  if (plan.created_at !== undefined) {
    for (const p of [plan.contacts, plan.companies]) if (p && !p.existingId) p.created_at ??= plan.created_at;
  }
  const hide = (rec, p) => { if (!p.existingId) rec.in_unsorted = uid; return rec; };
  const company = plan.companies ? hide(createEntity(state, 'companies', plan.companies, userId), plan.companies) : null;
  const contact = plan.contacts ? hide(createEntity(state, 'contacts', plan.contacts, userId), plan.contacts) : null;
  if (contact && company && !plan.contacts.existingId && !contact.company_id) contact.company_id = company.id;
  const pipeline = plan.pipeline;
  const lead = applyCreate(state, {
    ...(plan.lead ?? { cfOps: [] }), created_at: plan.created_at ?? plan.lead?.created_at,
    pipeline_id: pipeline.id, status_id: unsortedStatus(pipeline).id, // type 1: the pipeline's unsorted stage
    contacts: contact ? [{ id: contact.id, is_main: true }] : [], company_id: company?.id ?? null,
  }, userId, events);
  const u = {
    uid, source_uid: plan.source_uid, source_name: plan.source_name, category: plan.category, pipeline_id: pipeline.id,
    created_at: plan.created_at ?? lead.created_at, metadata: plan.metadata ?? {}, lead_id: lead.id,
    contact_ids: contact ? [contact.id] : [], company_ids: company ? [company.id] : [], status: 'new',
    fingerprint: plan.fingerprint ?? null, processed_at: null, processed_by: null,
  };
  state.data.unsorted.set(uid, u);
  hookEvent(state, 'unsorted', 'add', u);
  return u;
}

const createOf = (category) => (ctx) => {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, MAX_UNSORTED, state);
  const checked = body.map((item, i) => ({ request_id: requestIdOf(item, i), ...validateIncoming(state, category, item) }));
  // "two identical entities cannot be in unsorted": same data as a waiting record, or twice in this batch
  const waiting = new Set([...state.data.unsorted.values()].filter((u) => u.status === 'new' && u.fingerprint).map((u) => u.fingerprint));
  for (const c of checked) {
    if (c.errors.length) continue;
    if (waiting.has(c.plan.fingerprint)) c.errors.push({ code: 'Duplicate', path: '', detail: 'Two identical entities cannot be in unsorted.' });
    waiting.add(c.plan.fingerprint);
  }
  throwIfErrors(checked); // atomic
  const events = []; // unsorted leads fire no lead webhooks (amoCRM reports them as `unsorted[add]`)
  const out = checked.map((c) => {
    const u = createIncoming(state, c.plan, ctx.userId, events);
    return { uid: u.uid, account_id: ACCOUNT_ID, request_id: c.request_id, _embedded: embeddedRefs(ctx, u) };
  });
  return hal({ _total_items: out.length, _links: { self: { href: `${ctx.base}${ctx.path}` } }, _embedded: { unsorted: out } });
};

export const createForms = createOf('forms');
export const createSip = createOf('sip');

// ---- accept / decline / link ------------------------------------------------------------------------
function processable(ctx) {
  const u = ctx.state.data.unsorted.get(ctx.params.uid);
  if (!u) throw problemError(404, 'Unsorted entity not found'); // reference: 404 unknown uid
  const body = ctx.body();
  if (body !== null && body !== undefined && !isObj(body)) throw validationError([{ request_id: '0', errors: [{ code: 'InvalidType', path: '', detail: MSG.type('array') }] }]);
  if (u.status !== 'new') {
    // amoCRM's real answer is UNVERIFIED; a 400 validation error is what the PHP client parses best
    throw validationError([{ request_id: '0', errors: [{ code: 'NotAvailableForAction', path: 'uid', detail: `The unsorted entity has already been ${u.status}.` }] }]);
  }
  return { u, body: body ?? {} };
}

function finish(ctx, u, status, userId) {
  u.status = status;
  u.processed_at = ctx.state.now();
  u.processed_by = userId;
  // amoCRM reports accept and decline as unsorted[delete] with the action (ent §5).
  hookEvent(ctx.state, 'unsorted', 'delete', u, { action: status === 'accepted' ? 'accept' : status === 'declined' ? 'decline' : status });
  return { uid: u.uid, pipeline_id: u.pipeline_id, category: u.category, created_at: u.created_at };
}

/** POST /api/v4/leads/unsorted/{uid}/accept {user_id?, status_id?} */
export function acceptUnsorted(ctx) {
  const { state } = ctx;
  const { u, body } = processable(ctx);
  const errors = new Errors();
  const userId = optUser(state, body, 'user_id', errors);
  const sid = optInt(body, 'status_id', errors);
  const pipeline = state.data.pipelines.get(u.pipeline_id);
  let status = null;
  if (sid !== undefined) {
    status = pipeline.statuses.find((s) => s.id === sid && s.type !== 1) ?? null;
    if (!status) errors.add('NotSupportedChoice', 'status_id', MSG.choice);
  }
  if (!errors.empty) throw validationError([{ request_id: '0', errors: errors.list }]);
  const now = state.now();
  const lead = state.data.leads.get(u.lead_id);
  if (lead && !lead.is_deleted) {
    const old = { old_status_id: lead.status_id, old_pipeline_id: lead.pipeline_id };
    lead.status_id = (status ?? firstStage(pipeline)).id;
    if (lead.status_id === 142 || lead.status_id === 143) lead.closed_at = now;
    lead.updated_at = now;
    lead.updated_by = userId ?? ctx.userId;
    recordEvent(state, {
      type: 'lead_status_changed', entity_type: 'leads', entity_id: lead.id, created_by: lead.updated_by,
      value_before: [{ lead_status: { id: old.old_status_id, pipeline_id: old.old_pipeline_id } }],
      value_after: [{ lead_status: { id: lead.status_id, pipeline_id: lead.pipeline_id } }],
    });
    ctx.events.push(leadEvent(state, 'status', lead, old));
  }
  for (const [type, ids] of [['contacts', u.contact_ids], ['companies', u.company_ids]]) {
    for (const id of ids) { const rec = state.data[type].get(id); if (rec && rec.in_unsorted === u.uid) rec.in_unsorted = null; }
  }
  return hal({ ...finish(ctx, u, 'accepted', userId ?? ctx.userId), _embedded: embeddedRefs(ctx, u) });
}

/** DELETE /api/v4/leads/unsorted/{uid}/decline {user_id?} → the model and what went to the trash */
export function declineUnsorted(ctx) {
  const { state } = ctx;
  const { u, body } = processable(ctx);
  const errors = new Errors();
  const userId = optUser(state, body, 'user_id', errors) ?? ctx.userId;
  if (!errors.empty) throw validationError([{ request_id: '0', errors: errors.list }]);
  const now = state.now();
  const lead = state.data.leads.get(u.lead_id);
  if (lead) Object.assign(lead, { is_deleted: true, deleted_at: now, deleted_by: userId });
  const trashed = { contacts: [], companies: [] };
  for (const [type, ids] of [['contacts', u.contact_ids], ['companies', u.company_ids]]) {
    for (const id of ids) {
      const rec = state.data[type].get(id);
      if (rec && rec.in_unsorted === u.uid) { rec.is_deleted = true; rec.updated_at = now; trashed[type].push(id); }
    }
  }
  const emb = embeddedRefs(ctx, { ...u, contact_ids: trashed.contacts, company_ids: trashed.companies });
  return hal({ ...finish(ctx, u, 'declined', userId), _embedded: emb });
}

/**
 * POST /api/v4/leads/unsorted/{uid}/link {user_id?, link:{entity_id, entity_type: leads|customers, metadata{contact_id?}}}:
 * chats and mail only (PHP: "Only chats and mail"). The incoming contact joins the target; the incoming lead is dropped.
 */
export function linkUnsorted(ctx) {
  const { state } = ctx;
  const { u, body } = processable(ctx);
  const errors = new Errors();
  if (u.category !== 'chats' && u.category !== 'mail') errors.add('NotAvailableForAction', 'category', 'Only chats and mail unsorted can be linked.');
  const userId = optUser(state, body, 'user_id', errors) ?? ctx.userId;
  const ln = body.link;
  let target = null;
  let type = null;
  if (!isObj(ln)) errors.add('FieldMissing', 'link', MSG.blank);
  else {
    if (ln.entity_type !== 'leads' && ln.entity_type !== 'customers') errors.add('NotSupportedChoice', 'link.entity_type', MSG.choice);
    else if (!Number.isInteger(ln.entity_id)) errors.add('InvalidType', 'link.entity_id', MSG.type('int'));
    else {
      type = ln.entity_type;
      target = state.data[type].get(ln.entity_id);
      if (!target || target.is_deleted || ln.entity_id === u.lead_id) { errors.add('NotFound', 'link.entity_id', 'Entity not found'); target = null; }
    }
    const cid = isObj(ln.metadata) ? ln.metadata.contact_id : undefined;
    if (cid !== undefined && cid !== null && !u.contact_ids.includes(cid)) errors.add('NotSupportedChoice', 'link.metadata.contact_id', MSG.choice);
  }
  if (!errors.empty) throw validationError([{ request_id: '0', errors: errors.list }]);
  const now = state.now();
  for (const id of u.contact_ids) {
    const c = state.data.contacts.get(id);
    if (!c) continue;
    if (c.in_unsorted === u.uid) c.in_unsorted = null;
    if (!target.contacts.some((x) => x.id === id)) target.contacts.push({ id, is_main: target.contacts.length === 0 });
  }
  const own = state.data.leads.get(u.lead_id);
  if (own) Object.assign(own, { is_deleted: true, deleted_at: now, deleted_by: userId });
  target.updated_at = now;
  return hal({ ...finish(ctx, u, 'linked', userId), _embedded: { [type]: [{ id: target.id, _links: selfLink(ctx, type, target.id) }] } });
}
