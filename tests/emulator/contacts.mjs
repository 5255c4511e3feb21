// Contacts and companies (reference entities §1–2), and the record engine
// customers reuse: list (filters, `query`, `with`, order, paging), get by id,
// batch create, batch PATCH and PATCH /{id}, tags (`_embedded.tags` replaces,
// tags_to_add / tags_to_delete increment) and custom fields (a field sent on
// PATCH replaces all its values; `"values": null` clears it).
import { recordAdded, recordChanges, snapshot } from './events.mjs';
import { hookEvent } from './webhooks.mjs';
import { hal, noContent, problemError, validationError } from './http.mjs';
import { nextId, newContact, newCompany, ensureTag, ACCOUNT_ID } from './store.mjs';
import { validateCustomFields, applyCustomFields, serializeCustomFields, MSG } from './customfields.mjs';
import { parsePaging, parseWith, parseOrder, sortBy, pageLinks, entityPredicate } from './filters.mjs';
import { Errors, isObj, optString, optInt, optUser, tagRefs, requestIdOf, requireBatch, throwIfErrors } from './validate.mjs';
import { relations, elementRefs } from './links.mjs';

export const MAX_BATCH = 250; // per-endpoint maximum; runtime maxWriteBatch may lower it

export const selfLink = (ctx, kind, id) => ({ self: { href: `${ctx.base}/api/v4/${kind}/${id}` } });
export const refs = (ctx, kind, ids) => ids.map((id) => ({ id, _links: selfLink(ctx, kind, id) }));
/** Visible in lists and `query`: not deleted, not waiting in unsorted. */
export const listed = (e) => !e.is_deleted && !e.in_unsorted;

export function tagsView(state, entity, rec) {
  const store = state.data.tags[entity];
  return rec.tags.map((id) => store.get(id)).filter(Boolean).map((t) => ({ id: t.id, name: t.name, color: t.color }));
}

// ---- read shapes --------------------------------------------------------------------
export function serializeContact(ctx, c, withSet = new Set(), rel = relations(ctx.state)) {
  const { state } = ctx;
  const out = {
    id: c.id, name: c.name, first_name: c.first_name, last_name: c.last_name,
    responsible_user_id: c.responsible_user_id, group_id: c.group_id, created_by: c.created_by, updated_by: c.updated_by,
    created_at: c.created_at, updated_at: c.updated_at, closest_task_at: c.closest_task_at, is_deleted: c.is_deleted,
    is_unsorted: !!c.in_unsorted, custom_fields_values: serializeCustomFields(state, 'contacts', c.cf), account_id: ACCOUNT_ID,
    _links: selfLink(ctx, 'contacts', c.id),
    _embedded: {
      tags: tagsView(state, 'contacts', c),
      companies: c.company_id ? refs(ctx, 'companies', [c.company_id]) : [], // reference: always ≤ 1
    },
  };
  if (withSet.has('leads')) out._embedded.leads = refs(ctx, 'leads', rel.leadsOfContact(c.id));
  if (withSet.has('customers')) out._embedded.customers = refs(ctx, 'customers', rel.customersOfContact(c.id));
  if (withSet.has('catalog_elements')) out._embedded.catalog_elements = elementRefs(c);
  return out;
}

export function serializeCompany(ctx, c, withSet = new Set(), rel = relations(ctx.state)) {
  const { state } = ctx;
  const out = {
    id: c.id, name: c.name, responsible_user_id: c.responsible_user_id, group_id: c.group_id,
    created_by: c.created_by, updated_by: c.updated_by, created_at: c.created_at, updated_at: c.updated_at,
    closest_task_at: c.closest_task_at, is_deleted: c.is_deleted,
    custom_fields_values: serializeCustomFields(state, 'companies', c.cf), account_id: ACCOUNT_ID,
    _links: selfLink(ctx, 'companies', c.id),
    _embedded: { tags: tagsView(state, 'companies', c) },
  };
  if (withSet.has('leads')) out._embedded.leads = refs(ctx, 'leads', rel.leadsOfCompany(c.id));
  if (withSet.has('customers')) out._embedded.customers = refs(ctx, 'customers', rel.customersOfCompany(c.id));
  if (withSet.has('contacts')) out._embedded.contacts = refs(ctx, 'contacts', rel.contactsOfCompany(c.id));
  if (withSet.has('catalog_elements')) out._embedded.catalog_elements = elementRefs(c);
  return out;
}

// ---- list / get -----------------------------------------------------------------------
/** GET /api/v4/{kind}: paging, `with`, filters, `query`, order[updated_at|id]; 204 when empty. */
export function listHandler(kind, serialize, predOpts = {}) {
  return (ctx) => {
    const { page, limit } = parsePaging(ctx.query);
    const withSet = parseWith(ctx.query);
    const pred = entityPredicate(ctx.state, kind, ctx.query, predOpts);
    let items = [];
    for (const e of ctx.state.data[kind].values()) if (listed(e) && (!pred || pred(e))) items.push(e);
    items = sortBy(items, parseOrder(ctx.query, ['updated_at', 'id']));
    const slice = items.slice((page - 1) * limit, page * limit);
    if (!slice.length) return noContent(); // reference: empty list → 204, empty body
    const rel = relations(ctx.state);
    return hal({ _page: page, _links: pageLinks(ctx, page, limit, slice.length === limit), _embedded: { [kind]: slice.map((e) => serialize(ctx, e, withSet, rel)) } });
  };
}

/** GET /api/v4/{kind}/{id}; unknown or deleted → 204 (reference). Unsorted records are readable by id. */
export function getHandler(kind, serialize) {
  return (ctx) => {
    const e = ctx.state.data[kind].get(ctx.params.id);
    if (!e || e.is_deleted) return noContent();
    return hal(serialize(ctx, e, parseWith(ctx.query)));
  };
}

export const listContacts = listHandler('contacts', serializeContact);
export const getContact = getHandler('contacts', serializeContact);
export const listCompanies = listHandler('companies', serializeCompany);
export const getCompany = getHandler('companies', serializeCompany);

// ---- validation -----------------------------------------------------------------------
/**
 * Validates one create/update item of a contact, company or customer.
 * `extra(state, item, plan, errors, {mode, existing})` adds entity-specific
 * fields (customers). Returns {errors, plan}.
 */
export function validateRecord(state, entity, item, { mode = 'create', existing = null, prefix = '', extra = null } = {}) {
  const errors = new Errors(prefix);
  if (!isObj(item)) { errors.add('InvalidType', '', MSG.type('array')); return { errors: errors.list }; }
  const plan = {
    name: optString(item, 'name', errors),
    responsible_user_id: optUser(state, item, 'responsible_user_id', errors),
    created_by: optUser(state, item, 'created_by', errors, { allowZero: true }),
    updated_by: optUser(state, item, 'updated_by', errors, { allowZero: true }),
    created_at: optInt(item, 'created_at', errors),
    updated_at: optInt(item, 'updated_at', errors),
  };
  if (entity === 'contacts') {
    plan.first_name = optString(item, 'first_name', errors);
    plan.last_name = optString(item, 'last_name', errors);
  }
  const cf = validateCustomFields(state, entity, item.custom_fields_values);
  errors.addAll(cf.errors);
  plan.cfOps = cf.ops;
  const emb = item._embedded;
  if (emb !== undefined && emb !== null && !isObj(emb)) errors.add('InvalidType', '_embedded', MSG.type('array'));
  const e = isObj(emb) ? emb : {};
  // reference §10: `_embedded.tags` replaces the whole set; `null` detaches all.
  if ('tags' in e) plan.tagsReplace = e.tags === null ? [] : tagRefs(state, entity, e.tags, '_embedded.tags', errors);
  plan.tagsToAdd = tagRefs(state, entity, item.tags_to_add, 'tags_to_add', errors);
  if (mode === 'update') plan.tagsToDelete = tagRefs(state, entity, item.tags_to_delete, 'tags_to_delete', errors);
  if (extra) extra(state, item, plan, errors, { mode, existing, emb: e });
  return { errors: errors.list, plan };
}

/** Create-item validation as /leads/complex and unsorted use it; `{id}` references an existing record. */
export function validateEntity(state, entity, item, prefix = '') {
  if (isObj(item) && item.id !== undefined && item.id !== null) {
    const errors = new Errors(prefix);
    const rec = Number.isInteger(item.id) ? state.data[entity].get(item.id) : null;
    if (!rec || rec.is_deleted) errors.add('NotFound', 'id', 'Entity not found');
    return { errors: errors.list, plan: { existingId: item.id } };
  }
  return validateRecord(state, entity, item, { mode: 'create', prefix });
}

// ---- apply ------------------------------------------------------------------------------
export function resolveTagIds(state, entity, tagRefList) {
  const ids = [];
  for (const r of tagRefList) {
    const id = r.id ?? ensureTag(state, entity, r.name).id; // new names create tags
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

export function applyTags(state, entity, rec, plan) {
  if (plan.tagsReplace !== undefined) rec.tags = resolveTagIds(state, entity, plan.tagsReplace);
  if (plan.tagsToAdd) for (const id of resolveTagIds(state, entity, plan.tagsToAdd)) if (!rec.tags.includes(id)) rec.tags.push(id);
  if (plan.tagsToDelete) {
    const idx = state.data.tagIndex[entity];
    const drop = new Set(plan.tagsToDelete.map((r) => r.id ?? idx.get(r.name.toLowerCase())).filter(Boolean));
    rec.tags = rec.tags.filter((id) => !drop.has(id));
  }
}

const FACTORIES = {
  contacts: (base, plan, state) => {
    const first = plan.first_name ?? '';
    const last = plan.last_name ?? '';
    // The name is derived from first/last name when absent.
    return newContact({ ...base, id: nextId(state, 'contact'), first_name: first, last_name: last, name: plan.name ?? [first, last].filter(Boolean).join(' ') });
  },
  companies: (base, plan, state) => newCompany({ ...base, id: nextId(state, 'company'), name: plan.name ?? '' }),
};

/**
 * Creates a contact/company (or, with `factory`, a customer) from a plan.
 * An `existingId` plan (complex, unsorted) returns the existing record.
 */
export function createEntity(state, entity, plan, userId, { factory = null, after = null } = {}) {
  if (plan.existingId) return state.data[entity].get(plan.existingId);
  const now = state.now();
  const responsible = plan.responsible_user_id ?? userId;
  const base = {
    responsible_user_id: responsible, group_id: state.data.users.get(responsible)?.group_id ?? 0,
    created_by: plan.created_by ?? userId, updated_by: plan.updated_by ?? userId,
    created_at: plan.created_at ?? now, updated_at: plan.updated_at ?? plan.created_at ?? now,
  };
  const rec = (factory ?? FACTORIES[entity])(base, plan, state);
  applyCustomFields(rec, plan.cfOps);
  rec.tags = resolveTagIds(state, entity, [...(plan.tagsReplace ?? []), ...(plan.tagsToAdd ?? [])]);
  if (after) after(state, rec, plan);
  state.data[entity].set(rec.id, rec);
  recordAdded(state, entity, rec, userId);
  hookEvent(state, entity, 'add', rec);
  return rec;
}

export function updateEntity(state, entity, rec, plan, userId, { after = null } = {}) {
  const before = snapshot(rec);
  if (plan.name !== undefined) rec.name = plan.name;
  if (entity === 'contacts') {
    if (plan.first_name !== undefined) rec.first_name = plan.first_name;
    if (plan.last_name !== undefined) rec.last_name = plan.last_name;
    // first/last name changed without a name: the name follows them
    if (plan.name === undefined && (plan.first_name !== undefined || plan.last_name !== undefined)) {
      rec.name = [rec.first_name, rec.last_name].filter(Boolean).join(' ');
    }
  }
  if (plan.responsible_user_id !== undefined) {
    rec.responsible_user_id = plan.responsible_user_id;
    rec.group_id = state.data.users.get(plan.responsible_user_id)?.group_id ?? 0;
  }
  if (plan.created_by !== undefined) rec.created_by = plan.created_by;
  if (plan.created_at !== undefined) rec.created_at = plan.created_at;
  applyCustomFields(rec, plan.cfOps); // per field: the values sent replace the old ones
  applyTags(state, entity, rec, plan);
  if (after) after(state, rec, plan);
  rec.updated_at = plan.updated_at ?? state.now();
  rec.updated_by = plan.updated_by ?? userId;
  recordChanges(state, entity, before, rec, rec.updated_by);
  hookEvent(state, entity, 'update', rec);
  if (before.responsible_user_id !== rec.responsible_user_id) hookEvent(state, entity, 'responsible', rec, { old_responsible_user_id: before.responsible_user_id });
  return rec;
}

// ---- write handlers -------------------------------------------------------------------
/** POST /api/v4/{entity}: array → `{_links, _embedded:{entity:[{id, request_id, _links}]}}`. */
export function createHandler(entity, { extra = null, factory = null, after = null, guard = null } = {}) {
  return (ctx) => {
    if (guard) guard(ctx);
    const body = ctx.body();
    requireBatch(body, MAX_BATCH, ctx.state);
    const checked = body.map((item, i) => ({ request_id: requestIdOf(item, i), ...validateRecord(ctx.state, entity, item, { mode: 'create', extra }) }));
    throwIfErrors(checked); // atomic: one invalid item → nothing written
    const out = checked.map((c) => {
      const rec = createEntity(ctx.state, entity, c.plan, ctx.userId, { factory, after });
      return { id: rec.id, request_id: c.request_id, _links: selfLink(ctx, entity, rec.id) };
    });
    return hal({ _links: { self: { href: `${ctx.base}/api/v4/${entity}` } }, _embedded: { [entity]: out } });
  };
}

function updateReply(ctx, entity, rec, requestId) {
  const out = { id: rec.id };
  if (entity === 'contacts') out.name = rec.name; // reference: contacts' update reply adds name
  return Object.assign(out, { updated_at: rec.updated_at, request_id: requestId, _links: selfLink(ctx, entity, rec.id) });
}

/** PATCH /api/v4/{entity}: array of items with `id`. */
export function patchManyHandler(entity, { extra = null, after = null } = {}) {
  return (ctx) => {
    const { state } = ctx;
    const body = ctx.body();
    requireBatch(body, MAX_BATCH, state);
    const checked = body.map((item, i) => {
      const request_id = requestIdOf(item, i);
      if (!isObj(item)) return { request_id, errors: [{ code: 'InvalidType', path: '', detail: MSG.type('array') }] };
      if (item.id === undefined || item.id === null) return { request_id, errors: [{ code: 'FieldMissing', path: 'id', detail: MSG.blank }] };
      const rec = Number.isInteger(item.id) ? state.data[entity].get(item.id) : null;
      if (!rec || rec.is_deleted) return { request_id, errors: [{ code: 'NotFound', path: 'id', detail: 'Entity not found' }] };
      return { request_id, rec, ...validateRecord(state, entity, item, { mode: 'update', existing: rec, extra }) };
    });
    throwIfErrors(checked);
    const out = checked.map((c) => updateReply(ctx, entity, updateEntity(state, entity, c.rec, c.plan, ctx.userId, { after }), c.request_id));
    return hal({ _links: { self: { href: `${ctx.base}/api/v4/${entity}` } }, _embedded: { [entity]: out } });
  };
}

/** PATCH /api/v4/{entity}/{id}: one object; unknown id → 404. */
export function patchOneHandler(entity, { extra = null, after = null } = {}) {
  return (ctx) => {
    const { state } = ctx;
    const rec = state.data[entity].get(ctx.params.id);
    if (!rec || rec.is_deleted) throw problemError(404, 'Entity not found');
    const body = ctx.body();
    if (!isObj(body)) throw validationError([{ request_id: '0', errors: [{ code: 'InvalidType', path: '', detail: MSG.type('array') }] }]);
    const { errors, plan } = validateRecord(state, entity, body, { mode: 'update', existing: rec, extra });
    const request_id = requestIdOf(body, 0);
    if (errors.length) throw validationError([{ request_id, errors }]);
    return hal(updateReply(ctx, entity, updateEntity(state, entity, rec, plan, ctx.userId, { after }), request_id));
  };
}

export const createContacts = createHandler('contacts');
export const createCompanies = createHandler('companies');
export const patchContacts = patchManyHandler('contacts');
export const patchCompanies = patchManyHandler('companies');
export const patchContact = patchOneHandler('contacts');
export const patchCompany = patchOneHandler('companies');
