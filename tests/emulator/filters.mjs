// List query parameters shared by every collection: page/limit, with, order,
// and the leads filter (reference "Filter", amocrm.com/developers/content/api_v4/filters_api).
import { toList, scalars, validationError } from './http.mjs';
import { cfSearchValues } from './customfields.mjs';

const isObj = (v) => v !== null && typeof v === 'object';

function queryError(path, code, detail) {
  // GET requests have no items; the single entry uses request_id "0" so clients
  // can parse every 400 from this emulator with the same code.
  return validationError([{ request_id: '0', errors: [{ code, path, detail }] }]);
}

function intParam(raw, name) {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw.trim())) throw queryError(name, 'InvalidType', 'This value should be of type int.');
  return Number(raw);
}

/** page is 1-based; limit defaults to 50 and may not exceed 250 (reference: limit ≤ 250). */
export function parsePaging(query, { defaultLimit = 50, maxLimit = 250 } = {}) {
  const page = intParam(query.page, 'page') ?? 1;
  const limit = intParam(query.limit, 'limit') ?? defaultLimit;
  if (page < 1) throw queryError('page', 'GreaterThanOrEqual', 'This value should be greater than or equal to 1.');
  if (limit < 1) throw queryError('limit', 'GreaterThanOrEqual', 'This value should be greater than or equal to 1.');
  if (limit > maxLimit) throw queryError('limit', 'LessThanOrEqual', `This value should be less than or equal to ${maxLimit}.`);
  return { page, limit };
}

/** `with=contacts,loss_reason` (also tolerates `with[]=contacts`). */
export function parseWith(query) {
  const out = new Set();
  for (const v of scalars(query.with)) {
    for (const part of v.split(',')) if (part.trim()) out.add(part.trim());
  }
  return out;
}

/** `order[created_at]=desc` → {field, dir}; unknown fields/directions are ignored. */
export function parseOrder(query, allowed) {
  if (!isObj(query.order)) return null;
  for (const [field, dir] of Object.entries(query.order)) {
    if (!allowed.includes(field) || typeof dir !== 'string') continue;
    const d = dir.toLowerCase();
    if (d === 'asc' || d === 'desc') return { field, dir: d };
  }
  return null;
}

export function sortBy(items, order) {
  if (!order) return items;
  const { field, dir } = order;
  const sign = dir === 'desc' ? -1 : 1;
  if (field === 'id') return dir === 'desc' ? items.slice().reverse() : items; // stores are id-ordered
  return items.slice().sort((a, b) => sign * (((a[field] ?? 0) - (b[field] ?? 0)) || (a.id - b.id)));
}

/** HAL links for page N: self, next (whenever the page is full), first/prev after page 1. */
export function pageLinks(ctx, page, limit, full) {
  const href = (p) => {
    const sp = new URLSearchParams(ctx.url.searchParams);
    sp.set('page', String(p));
    sp.set('limit', String(limit));
    return { href: `${ctx.base}${ctx.path}?${sp}` };
  };
  const links = { self: href(page) };
  // Reference php#193: amoCRM emits `next` for a full page even when it is the
  // last one, so the client's next request gets a 204.
  if (full) links.next = href(page + 1);
  if (page > 1) { links.first = href(1); links.prev = href(page - 1); }
  return links;
}

// ---- leads filter ------------------------------------------------------------
function intList(v, path) {
  const list = toList(v);
  if (!list) return null;
  return list.map((x, i) => {
    if (typeof x !== 'string' || !/^\d+$/.test(x.trim())) {
      throw queryError(Array.isArray(v) || isObj(v) ? `${path}.${i}` : path, 'InvalidType', 'This value should be of type int.');
    }
    return Number(x);
  });
}

function numOrNull(x, path) {
  if (x === undefined || x === '') return null;
  if (typeof x !== 'string' || !/^-?\d+(\.\d+)?$/.test(x.trim())) throw queryError(path, 'InvalidType', 'This value should be of type int.');
  return Number(x);
}

/** int | {from,to} → predicate on a numeric value (null never matches). */
function rangePred(v, path) {
  if (isObj(v) && ('from' in v || 'to' in v)) {
    const from = numOrNull(v.from, `${path}.from`);
    const to = numOrNull(v.to, `${path}.to`);
    return (x) => x !== null && x !== undefined && (from === null || x >= from) && (to === null || x <= to);
  }
  const set = new Set(intList(v, path));
  return (x) => set.has(x);
}

function cfPred(fieldId, spec, path) {
  if (isObj(spec) && ('from' in spec || 'to' in spec)) {
    const from = numOrNull(spec.from, `${path}.from`);
    const to = numOrNull(spec.to, `${path}.to`);
    return (lead) => (lead.cf[fieldId] ?? []).some((v) => {
      const x = Number(v.value);
      return !Number.isNaN(x) && (from === null || x >= from) && (to === null || x <= to);
    });
  }
  const wanted = new Set(scalars(spec).map((s) => s.trim().toLowerCase()));
  const norm = (val) => (typeof val === 'boolean' ? [val ? 'true' : 'false', val ? '1' : '0'] : [String(val).toLowerCase()]);
  return (lead) => (lead.cf[fieldId] ?? []).some((v) =>
    norm(v.value).some((s) => wanted.has(s)) || (v.enum_id != null && wanted.has(String(v.enum_id))));
}

/**
 * Filters every entity list shares (reference "Filter"; contacts/companies/
 * customers list the same keys): integer keys (scalar or list), `name` (exact,
 * case-insensitive), `{from,to}` or exact ranges, and
 * `custom_fields_values][FIELD_ID]` (keyed by field id). Pushes predicates.
 */
function commonFilters(f, preds, { ints, ranges }) {
  for (const key of ints) {
    if (f[key] === undefined) continue;
    const set = new Set(intList(f[key], `filter.${key}`));
    preds.push((e) => set.has(e[key]));
  }
  if (f.name !== undefined) {
    // Exact, case-insensitive name match (string or list of strings).
    const names = new Set(scalars(f.name).map((s) => s.trim().toLowerCase()));
    preds.push((e) => names.has(String(e.name).trim().toLowerCase()));
  }
  for (const key of ranges) {
    if (f[key] === undefined) continue;
    const p = rangePred(f[key], `filter.${key}`);
    preds.push((e) => p(e[key]));
  }
  if (isObj(f.custom_fields_values)) {
    for (const [fid, spec] of Object.entries(f.custom_fields_values)) {
      if (!/^\d+$/.test(fid)) throw queryError(`filter.custom_fields_values.${fid}`, 'InvalidType', 'This value should be of type int.');
      preds.push(cfPred(Number(fid), spec, `filter.custom_fields_values.${fid}`));
    }
  }
}

/**
 * `query` (reference entities §1 "query search"): a case-insensitive substring
 * search over the record's name (and first/last name), every text-like field
 * value (multitext phones and e-mails included; checkbox and date fields are
 * not text), the texts of the record's notes, and the id when the query is a
 * number. When the query is made of digits only, PHONE values are also
 * compared with every non-digit removed (`9001234567` finds
 * `+7 (900) 123-45-67`). Returns null when there is no query.
 */
export function queryMatcher(state, entity, rawQuery) {
  if (typeof rawQuery !== 'string' || rawQuery.trim() === '') return null;
  const q = rawQuery.trim().toLowerCase();
  const digits = /^\d+$/.test(q);
  const asId = digits ? Number(q) : null;
  const notesIdx = state.data.notesBy[entity] ?? null;
  return (rec) => {
    if (rec.id === asId) return true;
    if (String(rec.name ?? '').toLowerCase().includes(q)) return true;
    if (rec.first_name && rec.first_name.toLowerCase().includes(q)) return true;
    if (rec.last_name && rec.last_name.toLowerCase().includes(q)) return true;
    for (const v of cfSearchValues(state, entity, rec.cf ?? {})) {
      if (v.text.includes(q)) return true;
      if (digits && v.phone && v.text.replace(/\D/g, '').includes(q)) return true;
    }
    const noteIds = notesIdx?.get(rec.id);
    if (noteIds) {
      for (const id of noteIds) {
        const n = state.data.notes.get(id);
        if (!n?.params) continue;
        for (const val of Object.values(n.params)) if (typeof val === 'string' && val.toLowerCase().includes(q)) return true;
      }
    }
    return false;
  };
}

/**
 * Builds a predicate for `filter[...]` and `query` on leads. Unknown filter
 * keys are ignored; malformed integers are a 400.
 */
export function leadPredicate(query, state) {
  const preds = [];
  const f = isObj(query.filter) ? query.filter : null;
  if (f) {
    commonFilters(f, preds, {
      ints: ['id', 'pipeline_id', 'responsible_user_id', 'created_by', 'updated_by'],
      ranges: ['created_at', 'updated_at', 'closed_at', 'closest_task_at'],
    });
    if (f.price !== undefined) { const p = rangePred(f.price, 'filter.price'); preds.push((l) => p(l.price)); }
    if (f.statuses !== undefined) {
      const pairs = (toList(f.statuses) ?? []).map((s, i) => {
        if (!isObj(s)) throw queryError(`filter.statuses.${i}`, 'InvalidType', 'This value should be of type array.');
        return {
          pipeline: numOrNull(s.pipeline_id, `filter.statuses.${i}.pipeline_id`),
          status: numOrNull(s.status_id, `filter.statuses.${i}.status_id`),
        };
      });
      preds.push((l) => pairs.some((p) => (p.pipeline === null || p.pipeline === l.pipeline_id) && (p.status === null || p.status === l.status_id)));
    }
  }
  const qm = queryMatcher(state, 'leads', query.query);
  if (qm) preds.push(qm);
  if (!preds.length) return null;
  return (l) => preds.every((p) => p(l));
}

/**
 * Contacts, companies, customers (reference entities §1–3): id, name,
 * created_by, updated_by, responsible_user_id, created_at/updated_at/
 * closest_task_at, custom_fields_values, plus `extra` ints/ranges, and `query`.
 */
export function entityPredicate(state, entity, query, { ints = [], ranges = [] } = {}) {
  const preds = [];
  const f = isObj(query.filter) ? query.filter : null;
  if (f) {
    commonFilters(f, preds, {
      ints: ['id', 'responsible_user_id', 'created_by', 'updated_by', ...ints],
      ranges: ['created_at', 'updated_at', 'closest_task_at', ...ranges],
    });
  }
  const qm = queryMatcher(state, entity, query.query);
  if (qm) preds.push(qm);
  if (!preds.length) return null;
  return (e) => preds.every((p) => p(e));
}

/** `filter[id]` alone (catalog elements, transactions, …). */
export function idFilterPredicate(query) {
  const f = isObj(query.filter) ? query.filter : null;
  if (!f || f.id === undefined) return null;
  const set = new Set(intList(f.id, 'filter.id'));
  return (e) => set.has(e.id);
}

export { intList, rangePred, queryError };
