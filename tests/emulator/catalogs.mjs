// Catalogs (lists) and their elements (reference entities §6): catalogs
// list/get/create/PATCH (at most 10 per account; invoices, products and
// suppliers at most one each), elements list (query, filter[id], paging) /
// get / create / PATCH with custom fields from /catalogs/{id}/custom_fields.
// Elements link to leads, contacts, companies and customers via links.mjs.
import { hal, noContent, problemError, validationError } from './http.mjs';
import { ACCOUNT_ID, nextId } from './store.mjs';
import { validateCustomFields, applyCustomFields, serializeCustomFields, MSG } from './customfields.mjs';
import { parsePaging, pageLinks, queryMatcher, idFilterPredicate } from './filters.mjs';
import { Errors, isObj, optInt, optString, optUser, requestIdOf, requireBatch, throwIfErrors } from './validate.mjs';

export const CATALOG_TYPES = ['regular', 'invoices', 'products', 'suppliers'];
const SINGLE_TYPES = new Set(['invoices', 'products', 'suppliers']);
export const MAX_CATALOGS = 10; // reference: ≤ 10 catalogs per account
const MAX_BATCH = 250;

const catalogHref = (ctx, id) => ({ self: { href: `${ctx.base}/api/v4/catalogs/${id}` } });
const elementHref = (ctx, e) => ({ self: { href: `${ctx.base}/api/v4/catalogs/${e.catalog_id}/elements/${e.id}` } });
export const fieldKeyOf = (catalogId) => `catalog_${catalogId}`;

/** Creates a catalog record and its (empty) field map. */
export function addCatalog(state, f) {
  const c = {
    id: f.id ?? nextId(state, 'catalog'), name: f.name, created_by: f.created_by ?? 0, updated_by: f.updated_by ?? f.created_by ?? 0,
    created_at: f.created_at, updated_at: f.updated_at ?? f.created_at, sort: f.sort ?? 10, type: f.type ?? 'regular',
    can_add_elements: f.can_add_elements ?? true, can_show_in_cards: f.can_show_in_cards ?? false,
    can_link_multiple: f.can_link_multiple ?? true, can_be_deleted: f.can_be_deleted ?? true, sdk_widget_code: null,
  };
  state.data.catalogs.set(c.id, c);
  state.data.customFields[fieldKeyOf(c.id)] ??= new Map();
  return c;
}

/** Creates an element record. */
export function addElement(state, catalogId, f) {
  const e = {
    id: f.id ?? nextId(state, 'element'), catalog_id: catalogId, name: f.name, created_by: f.created_by ?? 0,
    updated_by: f.updated_by ?? f.created_by ?? 0, created_at: f.created_at, updated_at: f.updated_at ?? f.created_at,
    is_deleted: false, cf: f.cf ?? {},
  };
  state.data.catalogElements.set(e.id, e);
  return e;
}

export const serializeCatalog = (ctx, c) => ({ ...c, account_id: ACCOUNT_ID, _links: catalogHref(ctx, c.id) });

export function serializeElement(ctx, e) {
  return {
    id: e.id, catalog_id: e.catalog_id, name: e.name, created_by: e.created_by, updated_by: e.updated_by,
    created_at: e.created_at, updated_at: e.updated_at, is_deleted: e.is_deleted,
    custom_fields_values: serializeCustomFields(ctx.state, fieldKeyOf(e.catalog_id), e.cf), account_id: ACCOUNT_ID,
    _links: elementHref(ctx, e),
  };
}

function paged(ctx, key, items, map) {
  const { page, limit } = parsePaging(ctx.query);
  const slice = items.slice((page - 1) * limit, page * limit);
  if (!slice.length) return noContent();
  return hal({ _page: page, _links: pageLinks(ctx, page, limit, slice.length === limit), _embedded: { [key]: slice.map(map) } });
}

// ---- catalogs -------------------------------------------------------------------------------
/** GET /api/v4/catalogs (page, limit) */
export function listCatalogs(ctx) {
  return paged(ctx, 'catalogs', [...ctx.state.data.catalogs.values()], (c) => serializeCatalog(ctx, c));
}

export function getCatalog(ctx) {
  const c = ctx.state.data.catalogs.get(ctx.params.id);
  return c ? hal(serializeCatalog(ctx, c)) : noContent();
}

const BOOL_KEYS = ['can_add_elements', 'can_link_multiple', 'can_show_in_cards'];

function validateCatalog(state, item, { mode, existing }) {
  const errors = new Errors();
  if (!isObj(item)) { errors.add('InvalidType', '', MSG.type('array')); return { errors: errors.list }; }
  const plan = { name: optString(item, 'name', errors), sort: optInt(item, 'sort', errors) };
  if (mode === 'create' && (plan.name === undefined || plan.name.trim() === '')) errors.add('FieldMissing', 'name', MSG.blank);
  if (mode === 'update' && plan.name !== undefined && plan.name.trim() === '') errors.add('FieldMissing', 'name', MSG.blank);
  if (item.type !== undefined && item.type !== null) {
    if (!CATALOG_TYPES.includes(item.type) || (existing && item.type !== existing.type)) errors.add('NotSupportedChoice', 'type', MSG.choice);
    else plan.type = item.type;
  }
  for (const k of BOOL_KEYS) {
    if (item[k] === undefined || item[k] === null) continue;
    if (typeof item[k] !== 'boolean') errors.add('InvalidType', k, MSG.type('bool'));
    else plan[k] = item[k];
  }
  return { errors: errors.list, plan };
}

/** POST /api/v4/catalogs (array) → full models with request_id. */
export function createCatalogs(ctx) {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, MAX_BATCH, state);
  const checked = body.map((item, i) => ({ request_id: requestIdOf(item, i), ...validateCatalog(state, item, { mode: 'create' }) }));
  // account limits: ≤ 10 catalogs, one invoices/products/suppliers catalog
  let count = state.data.catalogs.size;
  const singles = new Set([...state.data.catalogs.values()].map((c) => c.type).filter((t) => SINGLE_TYPES.has(t)));
  for (const c of checked) {
    if (c.errors.length) continue;
    if (++count > MAX_CATALOGS) c.errors.push({ code: 'LimitExceeded', path: '', detail: `An account can have at most ${MAX_CATALOGS} catalogs.` });
    const type = c.plan.type ?? 'regular';
    if (SINGLE_TYPES.has(type)) {
      if (singles.has(type)) c.errors.push({ code: 'NotSupportedChoice', path: 'type', detail: `An account can have only one catalog of type ${type}.` });
      singles.add(type);
    }
  }
  throwIfErrors(checked);
  const now = state.now();
  const out = checked.map((c) => {
    const cat = addCatalog(state, { ...c.plan, created_by: ctx.userId, created_at: now });
    return { ...serializeCatalog(ctx, cat), request_id: c.request_id };
  });
  return hal({ _links: { self: { href: `${ctx.base}/api/v4/catalogs` } }, _embedded: { catalogs: out } });
}

function updateCatalog(state, cat, plan, userId) {
  for (const k of ['name', 'sort', ...BOOL_KEYS]) if (plan[k] !== undefined) cat[k] = plan[k];
  cat.updated_at = state.now();
  cat.updated_by = userId;
  return cat;
}

/** PATCH /api/v4/catalogs (array with id) → full models with request_id. */
export function patchCatalogs(ctx) {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, MAX_BATCH, state);
  const checked = body.map((item, i) => {
    const request_id = requestIdOf(item, i);
    const cat = isObj(item) && Number.isInteger(item.id) ? state.data.catalogs.get(item.id) : null;
    if (!cat) return { request_id, errors: [{ code: 'NotFound', path: 'id', detail: 'Entity not found' }] };
    return { request_id, cat, ...validateCatalog(state, item, { mode: 'update', existing: cat }) };
  });
  throwIfErrors(checked);
  const out = checked.map((c) => ({ ...serializeCatalog(ctx, updateCatalog(state, c.cat, c.plan, ctx.userId)), request_id: c.request_id }));
  return hal({ _links: { self: { href: `${ctx.base}/api/v4/catalogs` } }, _embedded: { catalogs: out } });
}

/** PATCH /api/v4/catalogs/{id} (object); unknown → 404 */
export function patchCatalog(ctx) {
  const { state } = ctx;
  const cat = state.data.catalogs.get(ctx.params.id);
  if (!cat) throw problemError(404, 'Entity not found');
  const body = ctx.body();
  if (!isObj(body)) throw validationError([{ request_id: '0', errors: [{ code: 'InvalidType', path: '', detail: MSG.type('array') }] }]);
  const { errors, plan } = validateCatalog(state, body, { mode: 'update', existing: cat });
  if (errors.length) throw validationError([{ request_id: requestIdOf(body, 0), errors }]);
  return hal(serializeCatalog(ctx, updateCatalog(state, cat, plan, ctx.userId)));
}

// ---- elements ----------------------------------------------------------------------------------
/** GET /api/v4/catalogs/{id}/elements: query, filter[id], page, limit; unknown catalog or none → 204. */
export function listElements(ctx) {
  const { state } = ctx;
  const catalogId = ctx.params.id;
  if (!state.data.catalogs.has(catalogId)) return noContent();
  const qm = queryMatcher(state, fieldKeyOf(catalogId), ctx.query.query);
  const idPred = idFilterPredicate(ctx.query);
  const items = [];
  for (const e of state.data.catalogElements.values()) {
    if (e.catalog_id === catalogId && !e.is_deleted && (!qm || qm(e)) && (!idPred || idPred(e))) items.push(e);
  }
  return paged(ctx, 'elements', items, (e) => serializeElement(ctx, e));
}

function elementOf(state, catalogId, id) {
  const e = Number.isInteger(id) ? state.data.catalogElements.get(id) : null;
  return e && e.catalog_id === catalogId && !e.is_deleted ? e : null;
}

export function getElement(ctx) {
  const e = elementOf(ctx.state, ctx.params.id, ctx.params.elementId);
  return e ? hal(serializeElement(ctx, e)) : noContent();
}

function validateElement(state, catalogId, item, mode) {
  const errors = new Errors();
  if (!isObj(item)) { errors.add('InvalidType', '', MSG.type('array')); return { errors: errors.list }; }
  const plan = {
    name: optString(item, 'name', errors),
    created_by: optUser(state, item, 'created_by', errors, { allowZero: true }),
    updated_by: optUser(state, item, 'updated_by', errors, { allowZero: true }),
    created_at: optInt(item, 'created_at', errors),
    updated_at: optInt(item, 'updated_at', errors),
  };
  if (mode === 'create' && (plan.name === undefined || plan.name.trim() === '')) errors.add('FieldMissing', 'name', MSG.blank);
  if (mode === 'update' && plan.name !== undefined && plan.name.trim() === '') errors.add('FieldMissing', 'name', MSG.blank);
  const cf = validateCustomFields(state, fieldKeyOf(catalogId), item.custom_fields_values);
  errors.addAll(cf.errors);
  plan.cfOps = cf.ops;
  return { errors: errors.list, plan };
}

function catalogOr404(state, id) {
  const cat = state.data.catalogs.get(id);
  if (!cat) throw problemError(404, 'Entity not found');
  return cat;
}

/** POST /api/v4/catalogs/{id}/elements (array) → full element models with request_id. */
export function createElements(ctx) {
  const { state } = ctx;
  const cat = catalogOr404(state, ctx.params.id);
  const body = ctx.body();
  requireBatch(body, MAX_BATCH, state);
  const checked = body.map((item, i) => ({ request_id: requestIdOf(item, i), ...validateElement(state, cat.id, item, 'create') }));
  throwIfErrors(checked);
  const now = state.now();
  const out = checked.map((c) => {
    const e = addElement(state, cat.id, {
      name: c.plan.name, created_by: c.plan.created_by ?? ctx.userId, updated_by: c.plan.updated_by ?? ctx.userId,
      created_at: c.plan.created_at ?? now, updated_at: c.plan.updated_at ?? c.plan.created_at ?? now,
    });
    applyCustomFields(e, c.plan.cfOps);
    return { ...serializeElement(ctx, e), request_id: c.request_id };
  });
  return hal({ _links: { self: { href: `${ctx.base}${ctx.path}` } }, _embedded: { elements: out } });
}

function updateElement(state, e, plan, userId) {
  if (plan.name !== undefined) e.name = plan.name;
  if (plan.created_by !== undefined) e.created_by = plan.created_by;
  if (plan.created_at !== undefined) e.created_at = plan.created_at;
  applyCustomFields(e, plan.cfOps);
  e.updated_at = plan.updated_at ?? state.now();
  e.updated_by = plan.updated_by ?? userId;
  return e;
}

/** PATCH /api/v4/catalogs/{id}/elements (array with id) → full models with request_id. */
export function patchElements(ctx) {
  const { state } = ctx;
  const cat = catalogOr404(state, ctx.params.id);
  const body = ctx.body();
  requireBatch(body, MAX_BATCH, state);
  const checked = body.map((item, i) => {
    const request_id = requestIdOf(item, i);
    const e = isObj(item) ? elementOf(state, cat.id, item.id) : null;
    if (!e) return { request_id, errors: [{ code: 'NotFound', path: 'id', detail: 'Entity not found' }] };
    return { request_id, e, ...validateElement(state, cat.id, item, 'update') };
  });
  throwIfErrors(checked);
  const out = checked.map((c) => ({ ...serializeElement(ctx, updateElement(state, c.e, c.plan, ctx.userId)), request_id: c.request_id }));
  return hal({ _links: { self: { href: `${ctx.base}${ctx.path}` } }, _embedded: { elements: out } });
}

/** PATCH /api/v4/catalogs/{id}/elements/{elementId} (object); unknown → 404 */
export function patchElement(ctx) {
  const { state } = ctx;
  const e = elementOf(state, ctx.params.id, ctx.params.elementId);
  if (!e) throw problemError(404, 'Entity not found');
  const body = ctx.body();
  if (!isObj(body)) throw validationError([{ request_id: '0', errors: [{ code: 'InvalidType', path: '', detail: MSG.type('array') }] }]);
  const { errors, plan } = validateElement(state, e.catalog_id, body, 'update');
  if (errors.length) throw validationError([{ request_id: requestIdOf(body, 0), errors }]);
  return hal(serializeElement(ctx, updateElement(state, e, plan, ctx.userId)));
}
