// Contacts and companies: enough to back leads' links and /leads/complex —
// list (query, filter[id], paging), get by id, and batch create.
import { hal, noContent } from './http.mjs';
import { nextId, newContact, newCompany, ensureTag } from './store.mjs';
import { validateCustomFields, applyCustomFields, serializeCustomFields } from './customfields.mjs';
import { parsePaging, parseWith, parseOrder, sortBy, pageLinks, textQueryPredicate, idFilterPredicate } from './filters.mjs';
import { Errors, isObj, optString, optInt, optUser, tagRefs, requestIdOf, requireBatch, throwIfErrors } from './validate.mjs';
import { ACCOUNT_ID } from './store.mjs';

const self = (ctx, kind, id) => ({ self: { href: `${ctx.base}/api/v4/${kind}/${id}` } });

function leadsOfContact(state, contactId) {
  const out = [];
  for (const l of state.data.leads.values()) if (!l.is_deleted && l.contacts.some((c) => c.id === contactId)) out.push(l.id);
  return out;
}

export function serializeContact(ctx, c, withSet = new Set()) {
  const { state } = ctx;
  const out = {
    id: c.id, name: c.name, first_name: c.first_name, last_name: c.last_name,
    responsible_user_id: c.responsible_user_id, group_id: c.group_id, created_by: c.created_by, updated_by: c.updated_by,
    created_at: c.created_at, updated_at: c.updated_at, closest_task_at: c.closest_task_at, is_deleted: c.is_deleted,
    is_unsorted: false, custom_fields_values: serializeCustomFields(state, 'contacts', c.cf), account_id: ACCOUNT_ID,
    _links: self(ctx, 'contacts', c.id),
    _embedded: {
      tags: c.tags.map((id) => state.data.tags.contacts.get(id)).filter(Boolean).map((t) => ({ ...t })),
      companies: c.company_id ? [{ id: c.company_id, _links: self(ctx, 'companies', c.company_id) }] : [],
    },
  };
  if (withSet.has('leads')) out._embedded.leads = leadsOfContact(state, c.id).map((id) => ({ id, _links: self(ctx, 'leads', id) }));
  return out;
}

export function serializeCompany(ctx, c, withSet = new Set()) {
  const { state } = ctx;
  const out = {
    id: c.id, name: c.name, responsible_user_id: c.responsible_user_id, group_id: c.group_id,
    created_by: c.created_by, updated_by: c.updated_by, created_at: c.created_at, updated_at: c.updated_at,
    closest_task_at: c.closest_task_at, is_deleted: c.is_deleted,
    custom_fields_values: serializeCustomFields(state, 'companies', c.cf), account_id: ACCOUNT_ID,
    _links: self(ctx, 'companies', c.id),
    _embedded: { tags: c.tags.map((id) => state.data.tags.companies.get(id)).filter(Boolean).map((t) => ({ ...t })) },
  };
  if (withSet.has('leads')) {
    const ids = [];
    for (const l of state.data.leads.values()) if (!l.is_deleted && l.company_id === c.id) ids.push(l.id);
    out._embedded.leads = ids.map((id) => ({ id, _links: self(ctx, 'leads', id) }));
  }
  if (withSet.has('contacts')) {
    const ids = [];
    for (const ct of state.data.contacts.values()) if (ct.company_id === c.id) ids.push(ct.id);
    out._embedded.contacts = ids.map((id) => ({ id, _links: self(ctx, 'contacts', id) }));
  }
  return out;
}

function listOf(kind, serialize) {
  return (ctx) => {
    const { page, limit } = parsePaging(ctx.query);
    const withSet = parseWith(ctx.query);
    const preds = [textQueryPredicate(ctx.query), idFilterPredicate(ctx.query)].filter(Boolean);
    let items = [...ctx.state.data[kind].values()].filter((e) => !e.is_deleted && preds.every((p) => p(e)));
    items = sortBy(items, parseOrder(ctx.query, ['updated_at', 'id']));
    const slice = items.slice((page - 1) * limit, page * limit);
    if (!slice.length) return noContent(); // reference: empty list → 204, empty body
    return hal({ _page: page, _links: pageLinks(ctx, page, limit, slice.length === limit), _embedded: { [kind]: slice.map((e) => serialize(ctx, e, withSet)) } });
  };
}

function getOf(kind, serialize) {
  return (ctx) => {
    const e = ctx.state.data[kind].get(ctx.params.id);
    if (!e || e.is_deleted) return noContent(); // unknown id → 204 like leads
    return hal(serialize(ctx, e, parseWith(ctx.query)));
  };
}

export const listContacts = listOf('contacts', serializeContact);
export const getContact = getOf('contacts', serializeContact);
export const listCompanies = listOf('companies', serializeCompany);
export const getCompany = getOf('companies', serializeCompany);

// ---- create ---------------------------------------------------------------------
/** Validates a contact (entity 'contacts') or company ('companies') create item. */
export function validateEntity(state, entity, item, prefix = '') {
  const errors = new Errors(prefix);
  if (!isObj(item)) { errors.add('InvalidType', '', 'This value should be of type array.'); return { errors: errors.list }; }
  if (entity === 'contacts' && item.id !== undefined && item.id !== null) {
    // complex: an existing contact referenced by id is linked, not created
    if (!Number.isInteger(item.id) || !state.data.contacts.has(item.id)) errors.add('NotFound', 'id', 'Entity not found');
    return { errors: errors.list, plan: { existingId: item.id } };
  }
  if (entity === 'companies' && item.id !== undefined && item.id !== null) {
    if (!Number.isInteger(item.id) || !state.data.companies.has(item.id)) errors.add('NotFound', 'id', 'Entity not found');
    return { errors: errors.list, plan: { existingId: item.id } };
  }
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
  plan.tags = tagRefs(state, entity, item._embedded?.tags, '_embedded.tags', errors) ?? [];
  return { errors: errors.list, plan };
}

export function createEntity(state, entity, plan, userId) {
  if (plan.existingId) return state.data[entity].get(plan.existingId);
  const now = state.now();
  const responsible = plan.responsible_user_id ?? userId;
  const base = {
    responsible_user_id: responsible, group_id: state.data.users.get(responsible)?.group_id ?? 0,
    created_by: plan.created_by ?? userId, updated_by: plan.updated_by ?? userId,
    created_at: plan.created_at ?? now, updated_at: plan.updated_at ?? plan.created_at ?? now,
  };
  let rec;
  if (entity === 'contacts') {
    const first = plan.first_name ?? '';
    const last = plan.last_name ?? '';
    rec = newContact({ ...base, id: nextId(state, 'contact'), first_name: first, last_name: last, name: plan.name ?? [first, last].filter(Boolean).join(' ') });
  } else {
    rec = newCompany({ ...base, id: nextId(state, 'company'), name: plan.name ?? '' });
  }
  applyCustomFields(rec, plan.cfOps);
  rec.tags = plan.tags.map((t) => t.id ?? ensureTag(state, entity, t.name).id);
  state.data[entity].set(rec.id, rec);
  return rec;
}

function createOf(entity) {
  return (ctx) => {
    const body = ctx.body();
    requireBatch(body, 250);
    const checked = body.map((item, i) => ({ request_id: requestIdOf(item, i), ...validateEntity(ctx.state, entity, item) }));
    throwIfErrors(checked);
    const out = checked.map((c) => {
      const rec = createEntity(ctx.state, entity, c.plan, ctx.userId);
      return { id: rec.id, request_id: c.request_id, _links: self(ctx, entity, rec.id) };
    });
    return hal({ _links: { self: { href: `${ctx.base}/api/v4/${entity}` } }, _embedded: { [entity]: out } });
  };
}

export const createContacts = createOf('contacts');
export const createCompanies = createOf('companies');
