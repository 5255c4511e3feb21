// Events (ent §12): the account's activity feed. Every change made through
// the API (and the admin's "UI" changes) is recorded with amoCRM's event
// types and value_before/value_after shapes; GET /api/v4/events serves it
// with amoCRM's filters, 100 a page, newest first (the order is UNVERIFIED:
// amoCRM documents none). Admins can inject events in bulk at chosen
// timestamps (same-second tests).
import { hal, noContent, problemError, validationError } from './http.mjs';
import { ACCOUNT_ID, SUBDOMAIN, nextId } from './store.mjs';

export const MAX_EVENTS_LIMIT = 100; // ent §12: limit ≤ 100
const MAX_LISTED = 10; // created_by, entity_id
const VALUE_TYPES = ['nps_rate_added', 'sale_field_changed', 'name_field_changed', 'ltv_field_changed', 'custom_field_value_changed'];
const ENTITY_OF = { leads: 'lead', contacts: 'contact', companies: 'company', customers: 'customer', tasks: 'task' };
const WITH_NAMES = { lead: 'lead_name', contact: 'contact_name', company: 'company_name', customer: 'customer_name' };
const STORE_OF = { lead: 'leads', contact: 'contacts', company: 'companies', customer: 'customers', task: 'tasks' };

// ---- ids: 26 lowercase Crockford base32 characters, time first (ULID-like, as amoCRM's "01pz58t6p04ymgsgfbmfyfy1mf") ----
const B32 = '0123456789abcdefghjkmnpqrstvwxyz';
function b32(n, len) {
  let s = '';
  for (let i = 0; i < len; i++) { s = B32[Number(n % 32n)] + s; n /= 32n; }
  return s;
}
function eventId(state, createdAt) {
  state.eventSeq = (state.eventSeq ?? 0) + 1;
  return b32(BigInt(createdAt) * 1000n, 10) + b32(BigInt(state.eventSeq) * 7919n + 1000003n, 16);
}

/** `lead` for a store name (`leads`), or the name itself when already singular. */
export const entityName = (store) => ENTITY_OF[store] ?? store;

/** Appends one event to the log. */
export function recordEvent(state, { type, entity_type, entity_id, created_by = 0, created_at, value_after = [], value_before = [] }) {
  const at = Number.isInteger(created_at) ? created_at : state.now();
  const ev = {
    id: eventId(state, at), type, entity_id, entity_type: entityName(entity_type), created_by, created_at: at,
    value_after, value_before, account_id: ACCOUNT_ID,
  };
  (state.data.events ??= []).push(ev);
  return ev;
}

/** The fields whose changes make events, as they are now. */
export function snapshot(rec) {
  return {
    name: rec.name, price: rec.price, status_id: rec.status_id, pipeline_id: rec.pipeline_id,
    responsible_user_id: rec.responsible_user_id, cf: JSON.parse(JSON.stringify(rec.cf ?? {})), tags: [...(rec.tags ?? [])],
    text: rec.text, complete_till: rec.complete_till, task_type_id: rec.task_type_id, is_completed: rec.is_completed,
    result: rec.result ? { ...rec.result } : rec.result,
  };
}

const cfValue = (state, store, fieldId, v) => {
  const f = state.data.customFields[store]?.get(Number(fieldId));
  return { custom_field_value: { field_id: Number(fieldId), field_type: f?.type ?? 'text', enum_id: v?.enum_id ?? null, text: v === undefined ? '' : String(v.value) } };
};

/** Events for what changed between `before` and the record now (ent §12 shapes). */
export function recordChanges(state, store, before, rec, userId) {
  const entity_type = entityName(store);
  const base = { entity_type, entity_id: rec.id, created_by: userId ?? 0 };
  const ev = (type, value_before, value_after) => recordEvent(state, { ...base, type, value_before, value_after });
  if (before.name !== rec.name && rec.name !== undefined && store !== 'tasks') ev('name_field_changed', [{ name_field_value: { name: before.name } }], [{ name_field_value: { name: rec.name } }]);
  if (store === 'leads' && before.price !== rec.price) ev('sale_field_changed', [{ sale_field_value: { sale: before.price } }], [{ sale_field_value: { sale: rec.price } }]);
  if (store === 'leads' && (before.status_id !== rec.status_id || before.pipeline_id !== rec.pipeline_id)) {
    ev('lead_status_changed', [{ lead_status: { id: before.status_id, pipeline_id: before.pipeline_id } }], [{ lead_status: { id: rec.status_id, pipeline_id: rec.pipeline_id } }]);
  }
  if (store === 'customers' && before.status_id !== rec.status_id) ev('customer_status_changed', [{ customer_status: { id: before.status_id } }], [{ customer_status: { id: rec.status_id } }]);
  if (before.responsible_user_id !== rec.responsible_user_id) {
    ev('entity_responsible_changed', [{ responsible_user: { id: before.responsible_user_id } }], [{ responsible_user: { id: rec.responsible_user_id } }]);
  }
  if (rec.cf) {
    const ids = new Set([...Object.keys(before.cf ?? {}), ...Object.keys(rec.cf)]);
    for (const id of ids) {
      const was = before.cf?.[id] ?? [];
      const now = rec.cf[id] ?? [];
      if (JSON.stringify(was) === JSON.stringify(now)) continue;
      // amoCRM files each field's changes under its own type (filterable alone).
      ev(`custom_field_${id}_value_changed`, was.map((v) => cfValue(state, store, id, v)), now.map((v) => cfValue(state, store, id, v)));
    }
  }
  if (rec.tags) {
    const tagName = (id) => state.data.tags[store]?.get(id)?.name;
    const added = rec.tags.filter((t) => !before.tags.includes(t)).map(tagName).filter(Boolean);
    const removed = before.tags.filter((t) => !rec.tags.includes(t)).map(tagName).filter(Boolean);
    if (added.length) ev('entity_tag_added', [], added.map((name) => ({ tag: { name } })));
    if (removed.length) ev('entity_tag_deleted', removed.map((name) => ({ tag: { name } })), []);
  }
  if (store === 'tasks') {
    if (before.text !== rec.text) ev('task_text_changed', [{ task: { text: before.text } }], [{ task: { text: rec.text } }]);
    if (before.complete_till !== rec.complete_till) ev('task_deadline_changed', [{ task_deadline: { timestamp: before.complete_till } }], [{ task_deadline: { timestamp: rec.complete_till } }]);
    if (before.task_type_id !== rec.task_type_id) ev('task_type_changed', [{ task_type: { id: before.task_type_id } }], [{ task_type: { id: rec.task_type_id } }]);
    if (!before.is_completed && rec.is_completed) ev('task_completed', [], []);
    if (rec.result?.text && rec.result?.text !== before.result?.text) ev('task_result_added', [], [{ note: { id: nextId(state, 'eventNote') } }]);
  }
}

/** `{entity}_added`; amoCRM names the note it adds to the card (ent §12). */
export function recordAdded(state, store, rec, userId) {
  recordEvent(state, {
    type: `${entityName(store)}_added`, entity_type: store, entity_id: rec.id, created_by: userId ?? 0,
    value_after: store === 'tasks' ? [] : [{ note: { id: nextId(state, 'eventNote') } }],
  });
}

const NOTE_EVENT = {
  common: 'common_note_added', call_in: 'incoming_call', call_out: 'outgoing_call', sms_in: 'incoming_sms', sms_out: 'outgoing_sms',
  service_message: 'service_note_added', extended_service_message: 'service_note_added', geolocation: 'geo_note_added',
  attachment: 'attachment_note_added', message_cashier: 'message_to_cashier_note_added',
};

export function recordNote(state, note, userId) {
  recordEvent(state, {
    type: NOTE_EVENT[note.note_type] ?? 'common_note_added', entity_type: note.entity_type, entity_id: note.entity_id,
    created_by: userId ?? note.created_by ?? 0, value_after: [{ note: { id: note.id } }],
  });
}

export function recordLink(state, store, rec, toType, toId, unlink, userId) {
  const key = unlink ? 'unlink' : 'link';
  const value = [{ [key]: { entity: { type: entityName(toType === 'catalog_elements' ? 'catalog_element' : toType), id: toId } } }];
  recordEvent(state, {
    type: unlink ? 'entity_unlinked' : 'entity_linked', entity_type: store, entity_id: rec.id, created_by: userId ?? 0,
    value_after: unlink ? [] : value, value_before: unlink ? value : [],
  });
}

// ---- GET /api/v4/events ------------------------------------------------------------------
const list = (v) => (v === undefined ? [] : Array.isArray(v) ? v : typeof v === 'object' && v !== null ? Object.values(v) : String(v).split(','))
  .map((x) => String(x).trim()).filter((x) => x !== '');

function bad(detail) {
  return validationError([{ request_id: '0', errors: [{ code: 'InvalidValue', path: 'filter', detail }] }]);
}

const isCustomFieldType = (t) => /^custom_field_\d+_value_changed$/.test(t);

/** The event predicate of a query's `filter` (throws 400 where amoCRM's rules are broken). */
function predicate(state, f = {}) {
  const checks = [];
  const ids = list(f.id);
  if (ids.length) checks.push((e) => ids.includes(e.id));
  const types = list(f.type);
  if (types.length > 1 && types.some(isCustomFieldType)) throw bad('custom_field_{ID}_value_changed must be the only type');
  if (types.length) {
    checks.push((e) => types.includes(e.type) || (types.includes('custom_field_value_changed') && isCustomFieldType(e.type)));
  }
  const entities = list(f.entity);
  if (entities.length) checks.push((e) => entities.includes(e.entity_type));
  const entityIds = list(f.entity_id).map(Number);
  if (entityIds.length) {
    if (entityIds.length > MAX_LISTED) throw bad(`filter[entity_id]: at most ${MAX_LISTED}`);
    if (entities.length !== 1) throw bad('filter[entity_id] needs exactly one filter[entity]');
    checks.push((e) => entityIds.includes(e.entity_id));
  }
  const by = list(f.created_by).map(Number);
  if (by.length > MAX_LISTED) throw bad(`filter[created_by]: at most ${MAX_LISTED}`);
  if (by.length) checks.push((e) => by.includes(e.created_by));
  const c = f.created_at;
  if (c !== undefined) {
    let from = -Infinity;
    let to = Infinity;
    if (typeof c === 'object' && c !== null && !Array.isArray(c)) {
      if (c.from !== undefined) from = Number(c.from);
      if (c.to !== undefined) to = Number(c.to);
    } else {
      const [a, b] = String(c).split(',');
      from = Number(a); // a timestamp alone: created from then on
      if (b !== undefined) to = Number(b);
    }
    if (!Number.isFinite(from) && from !== -Infinity) throw bad('filter[created_at] is not a timestamp');
    if (!Number.isFinite(to) && to !== Infinity) throw bad('filter[created_at] is not a timestamp');
    checks.push((e) => e.created_at >= from && e.created_at <= to);
  }
  for (const side of ['value_before', 'value_after']) {
    const v = f[side];
    if (!v || typeof v !== 'object') continue;
    const field = side;
    if (v.leads_statuses) {
      const pairs = Object.values(v.leads_statuses).map((p) => [Number(p.pipeline_id), Number(p.status_id)]);
      checks.push((e) => e.type === 'lead_status_changed' && e[field].some((x) => pairs.some(([p, s]) => x.lead_status?.pipeline_id === p && x.lead_status?.id === s)));
    }
    if (v.customers_statuses) {
      const ids2 = Object.values(v.customers_statuses).map((p) => Number(p.status_id));
      checks.push((e) => e.type === 'customer_status_changed' && e[field].some((x) => ids2.includes(x.customer_status?.id)));
    }
    if (v.responsible_user_id !== undefined) {
      const users = list(v.responsible_user_id).map(Number);
      checks.push((e) => e.type === 'entity_responsible_changed' && e[field].some((x) => users.includes(x.responsible_user?.id)));
    }
    if (v.custom_field_values !== undefined) {
      if (!(types.length === 1 && isCustomFieldType(types[0]))) throw bad('custom_field_values needs exactly one custom_field_{ID}_value_changed type');
      const enums = list(v.custom_field_values).map(Number);
      checks.push((e) => e[field].some((x) => enums.includes(x.custom_field_value?.enum_id)));
    }
    if (v.value !== undefined) {
      if (!types.length || types.some((t) => !VALUE_TYPES.includes(t))) throw bad(`value needs types among ${VALUE_TYPES.join(', ')}`);
      const want = String(v.value);
      checks.push((e) => e[field].some((x) => Object.values(x).some((o) => o && typeof o === 'object' && Object.values(o).some((y) => String(y) === want))));
    }
  }
  return (e) => checks.every((c2) => c2(e));
}

function serialize(ctx, e, withSet) {
  const out = { ...e, _links: { self: { href: `${ctx.base}/api/v4/events/${e.id}` } } };
  const store = STORE_OF[e.entity_type];
  const entity = { id: e.entity_id, _links: { self: { href: `${ctx.base}/api/v4/${store ?? e.entity_type}/${e.entity_id}` } } };
  if (withSet.has(WITH_NAMES[e.entity_type])) entity.name = ctx.state.data[store]?.get(e.entity_id)?.name ?? null;
  out._embedded = { entity };
  return out;
}

export function listEvents(ctx) {
  const q = ctx.query;
  const limit = q.limit === undefined ? 50 : Number(q.limit);
  const page = q.page === undefined ? 1 : Number(q.page);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS_LIMIT) throw bad(`limit must be 1…${MAX_EVENTS_LIMIT}`);
  if (!Number.isInteger(page) || page < 1) throw bad('page must be a positive integer');
  const withSet = new Set(String(q.with ?? '').split(',').filter(Boolean));
  const pred = predicate(ctx.state, typeof q.filter === 'object' && q.filter !== null ? q.filter : {});
  const all = (ctx.state.data.events ?? []).filter(pred);
  // Newest first: created_at, then id, descending.
  all.sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const slice = all.slice((page - 1) * limit, page * limit);
  if (!slice.length) return noContent();
  const href = (p) => {
    const u = new URL(`${ctx.base}${ctx.path}?${ctx.url.searchParams}`);
    u.searchParams.set('page', String(p));
    u.searchParams.set('limit', String(limit));
    return { href: u.toString() };
  };
  const links = { self: href(page) };
  if (slice.length === limit) links.next = href(page + 1);
  if (page > 1) links.prev = href(page - 1);
  return hal({ _page: page, _links: links, _embedded: { events: slice.map((e) => serialize(ctx, e, withSet)) } });
}

export function getEvent(ctx) {
  const e = (ctx.state.data.events ?? []).find((x) => x.id === ctx.params.eventId);
  if (!e) return noContent();
  return hal(serialize(ctx, e, new Set(String(ctx.query.with ?? '').split(','))));
}

export function eventTypes(ctx) {
  const types = [...new Set((ctx.state.data.events ?? []).map((e) => e.type))];
  return hal({ _total_items: types.length, _embedded: { events_types: types.map((key, i) => ({ key, type: i + 1, lang: key })) } });
}

/** Admin: inject events ({events: [{type, entity_type, entity_id, created_at?, …}]}, or {count, template}) → their ids. */
export function injectEvents(state, body = {}) {
  const specs = Array.isArray(body.events) ? body.events : [];
  const count = Number(body.count ?? 0);
  for (let i = 0; i < count; i++) specs.push({ ...(body.template ?? {}), entity_id: (body.template?.entity_id ?? 1) + i });
  const out = specs.map((s, i) => {
    if (typeof s.type !== 'string' || !s.type) throw problemError(400, `events.${i}.type is required`);
    if (!Number.isInteger(s.entity_id)) throw problemError(400, `events.${i}.entity_id must be an integer`);
    return recordEvent(state, { entity_type: 'lead', ...s }).id;
  });
  return { ids: out, subdomain: SUBDOMAIN };
}
