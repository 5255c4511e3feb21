// Customers (reference entities §3): the customers mode, customers (list,
// get, create, PATCH with tags and custom fields), transactions, customer
// statuses and segments. Every /api/v4/customers/** route is gated by the
// account's `customers_mode`: `unavailable` → 402 (tariff without customers,
// reference), `disabled` → 422 (the documented answer of the statuses and
// segments endpoints when their mode is off), statuses only in `periodicity`,
// segments only in `segments` mode (422 otherwise, reference).
import { recordEvent } from './events.mjs';
import { hal, noContent, problemError, validationError } from './http.mjs';
import { ACCOUNT_ID, nextId, newCustomer } from './store.mjs';
import { serializeCustomFields, MSG } from './customfields.mjs';
import { parsePaging, pageLinks, idFilterPredicate } from './filters.mjs';
import { Errors, isObj, optInt, optString, optUser, requestIdOf, requireBatch, throwIfErrors } from './validate.mjs';
import {
  selfLink, refs, tagsView, listHandler, getHandler, createHandler, patchManyHandler, patchOneHandler,
} from './contacts.mjs';
import { elementRefs } from './links.mjs';

export const CUSTOMERS_MODES = ['unavailable', 'disabled', 'segments', 'dynamic', 'periodicity'];

/** Throws the answer amoCRM gives when the feature behind `kind` is off (see the header). */
export function checkCustomersMode(state, kind) {
  const mode = state.data.account.customers_mode;
  if (mode === 'unavailable') throw problemError(402, 'Customers are not available on the account tariff');
  if (kind === 'mode') return;
  if (mode === 'disabled') throw problemError(422, 'Customers are disabled in the account');
  if (kind === 'statuses' && mode !== 'periodicity') throw problemError(422, 'Customer statuses are available in the periodicity mode only');
  if (kind === 'segments' && mode !== 'segments') throw problemError(422, 'Segments are available in the segments mode only');
}

/** Wraps a handler with the mode check. */
export const gated = (kind, handler) => (ctx) => { checkCustomersMode(ctx.state, kind); return handler(ctx); };

// ---- mode ------------------------------------------------------------------------------
/** PATCH /api/v4/customers/mode {mode: segments|periodicity, is_enabled} → echoes it. */
export function patchMode(ctx) {
  checkCustomersMode(ctx.state, 'mode');
  const body = ctx.body();
  const errors = [];
  if (!isObj(body)) errors.push({ code: 'InvalidType', path: '', detail: MSG.type('array') });
  else {
    if (body.mode !== 'segments' && body.mode !== 'periodicity') errors.push({ code: 'NotSupportedChoice', path: 'mode', detail: MSG.choice });
    if (typeof body.is_enabled !== 'boolean') errors.push({ code: 'InvalidType', path: 'is_enabled', detail: MSG.type('bool') });
  }
  if (errors.length) throw validationError([{ request_id: '0', errors }]);
  const a = ctx.state.data.account;
  if (body.is_enabled) a.customers_mode = body.mode;
  else if (a.customers_mode === body.mode) a.customers_mode = 'disabled';
  return hal({ mode: body.mode, is_enabled: body.is_enabled });
}

// ---- customers --------------------------------------------------------------------------
export function serializeCustomer(ctx, c, withSet = new Set()) {
  const { state } = ctx;
  const out = {
    id: c.id, name: c.name, next_price: c.next_price, next_date: c.next_date, responsible_user_id: c.responsible_user_id,
    status_id: c.status_id, periodicity: c.periodicity, created_by: c.created_by, updated_by: c.updated_by,
    created_at: c.created_at, updated_at: c.updated_at, closest_task_at: c.closest_task_at, is_deleted: c.is_deleted,
    custom_fields_values: serializeCustomFields(state, 'customers', c.cf), ltv: c.ltv, purchases_count: c.purchases_count,
    average_check: c.average_check, account_id: ACCOUNT_ID, _links: selfLink(ctx, 'customers', c.id),
    _embedded: {
      segments: c.segments.map((id) => ({ id, _links: { self: { href: `${ctx.base}/api/v4/customers/segments/${id}` } } })),
      tags: tagsView(state, 'customers', c),
    },
  };
  if (withSet.has('contacts')) out._embedded.contacts = c.contacts.map((x) => ({ id: x.id, is_main: x.is_main, _links: selfLink(ctx, 'contacts', x.id) }));
  if (withSet.has('companies')) out._embedded.companies = c.company_id ? refs(ctx, 'companies', [c.company_id]) : [];
  if (withSet.has('catalog_elements')) out._embedded.catalog_elements = elementRefs(c);
  return out;
}

export function defaultCustomerStatus(state) {
  const list = [...state.data.customerStatuses.values()];
  return (list.find((s) => s.is_default) ?? list[0])?.id ?? null;
}

/** Customer-specific fields (reference: name required; next_date required in periodicity mode). */
function customerExtra(state, item, plan, errors, { mode, emb }) {
  if (mode === 'create' && (plan.name === undefined || plan.name.trim() === '')) errors.add('FieldMissing', 'name', MSG.blank);
  plan.next_price = item.next_price === null ? 0 : optInt(item, 'next_price', errors);
  plan.periodicity = optInt(item, 'periodicity', errors);
  plan.next_date = item.next_date === null && mode === 'update' ? null : optInt(item, 'next_date', errors);
  if (mode === 'create' && plan.next_date === undefined && state.data.account.customers_mode === 'periodicity' && !errors.list.some((e) => e.path.endsWith('next_date'))) {
    errors.add('FieldMissing', 'next_date', MSG.blank);
  }
  const sid = optInt(item, 'status_id', errors);
  if (sid !== undefined) {
    if (!state.data.customerStatuses.has(sid)) errors.add('NotSupportedChoice', 'status_id', MSG.choice);
    else plan.status_id = sid;
  }
  if (emb.segments !== undefined && emb.segments !== null) {
    if (!Array.isArray(emb.segments)) errors.add('InvalidType', '_embedded.segments', MSG.type('array'));
    else {
      plan.segments = [];
      emb.segments.forEach((s, i) => {
        if (!isObj(s) || !Number.isInteger(s.id) || !state.data.segments.has(s.id)) errors.add('NotSupportedChoice', `_embedded.segments.${i}.id`, MSG.choice);
        else if (!plan.segments.includes(s.id)) plan.segments.push(s.id);
      });
    }
  } else if (emb.segments === null) plan.segments = [];
}

function customerFactory(base, plan, state) {
  return newCustomer({
    ...base, id: nextId(state, 'customer'), name: plan.name, next_price: plan.next_price ?? 0, next_date: plan.next_date ?? null,
    periodicity: plan.periodicity ?? 0, status_id: plan.status_id ?? defaultCustomerStatus(state), segments: plan.segments ?? [],
  });
}

function customerAfterUpdate(state, rec, plan) {
  for (const k of ['next_price', 'next_date', 'periodicity', 'status_id', 'segments']) if (plan[k] !== undefined) rec[k] = plan[k];
}

export const listCustomers = gated('customers', listHandler('customers', serializeCustomer, { ints: ['status_id'], ranges: ['next_date', 'next_price'] }));
export const getCustomer = gated('customers', getHandler('customers', serializeCustomer));
export const createCustomers = gated('customers', createHandler('customers', { extra: customerExtra, factory: customerFactory }));
export const patchCustomers = gated('customers', patchManyHandler('customers', { extra: customerExtra, after: customerAfterUpdate }));
export const patchCustomer = gated('customers', patchOneHandler('customers', { extra: customerExtra, after: customerAfterUpdate }));

// ---- transactions -------------------------------------------------------------------------
const txHref = (ctx, t) => ({ self: { href: `${ctx.base}/api/v4/customers/transactions/${t.id}` } });

export function serializeTransaction(ctx, t) {
  return {
    id: t.id, comment: t.comment, price: t.price, completed_at: t.completed_at, customer_id: t.customer_id,
    created_by: t.created_by, updated_by: t.updated_by, created_at: t.created_at, updated_at: t.updated_at,
    is_deleted: t.is_deleted, account_id: ACCOUNT_ID, _links: txHref(ctx, t),
    _embedded: {
      customer: { id: t.customer_id, _links: selfLink(ctx, 'customers', t.customer_id) },
      catalog_elements: t.catalog_elements.map((e) => ({ id: e.id, metadata: { quantity: e.quantity, catalog_id: e.catalog_id } })),
    },
  };
}

const liveCustomer = (state, id) => {
  const c = state.data.customers.get(id);
  return c && !c.is_deleted ? c : null;
};

function listTransactionsOf(ctx, pick) {
  const { page, limit } = parsePaging(ctx.query);
  const idPred = idFilterPredicate(ctx.query);
  const items = [];
  for (const t of ctx.state.data.transactions.values()) {
    if (!t.is_deleted && pick(t) && liveCustomer(ctx.state, t.customer_id) && (!idPred || idPred(t))) items.push(t);
  }
  const slice = items.slice((page - 1) * limit, page * limit);
  if (!slice.length) return noContent();
  return hal({ _page: page, _links: pageLinks(ctx, page, limit, slice.length === limit), _embedded: { transactions: slice.map((t) => serializeTransaction(ctx, t)) } });
}

/** GET /api/v4/customers/transactions */
export const listTransactions = gated('customers', (ctx) => listTransactionsOf(ctx, () => true));

/** GET /api/v4/customers/{id}/transactions; unknown customer → 204 */
export const listCustomerTransactions = gated('customers', (ctx) => {
  if (!liveCustomer(ctx.state, ctx.params.id)) return noContent();
  return listTransactionsOf(ctx, (t) => t.customer_id === ctx.params.id);
});

function findTransaction(ctx) {
  const t = ctx.state.data.transactions.get(ctx.params.txId ?? ctx.params.id);
  if (!t || t.is_deleted || (ctx.params.txId && t.customer_id !== ctx.params.id)) return null;
  return t;
}

/** GET /api/v4/customers/transactions/{id} (and /customers/{id}/transactions/{txId}); unknown → 204 */
export const getTransaction = gated('customers', (ctx) => {
  const t = findTransaction(ctx);
  return t ? hal(serializeTransaction(ctx, t)) : noContent();
});

function validateTransaction(state, item) {
  const errors = new Errors();
  if (!isObj(item)) { errors.add('InvalidType', '', MSG.type('array')); return { errors: errors.list }; }
  const plan = {};
  if (item.price === undefined || item.price === null) errors.add('FieldMissing', 'price', MSG.blank); // reference: price required
  else plan.price = optInt(item, 'price', errors);
  plan.comment = optString(item, 'comment', errors);
  plan.completed_at = optInt(item, 'completed_at', errors);
  plan.next_price = optInt(item, 'next_price', errors);
  plan.next_date = optInt(item, 'next_date', errors);
  plan.created_by = optUser(state, item, 'created_by', errors, { allowZero: true });
  plan.elements = [];
  const els = isObj(item._embedded) ? item._embedded.catalog_elements : undefined;
  if (els !== undefined && els !== null) {
    if (!Array.isArray(els)) errors.add('InvalidType', '_embedded.catalog_elements', MSG.type('array'));
    else {
      els.forEach((e, i) => {
        const el = isObj(e) && Number.isInteger(e.id) ? state.data.catalogElements.get(e.id) : null;
        if (!el || el.is_deleted) { errors.add('NotFound', `_embedded.catalog_elements.${i}.id`, 'Entity not found'); return; }
        const md = isObj(e.metadata) ? e.metadata : {};
        if (md.catalog_id !== undefined && md.catalog_id !== el.catalog_id) { errors.add('NotSupportedChoice', `_embedded.catalog_elements.${i}.metadata.catalog_id`, MSG.choice); return; }
        if (md.quantity !== undefined && (typeof md.quantity !== 'number' || md.quantity <= 0)) { errors.add('InvalidType', `_embedded.catalog_elements.${i}.metadata.quantity`, MSG.type('float')); return; }
        plan.elements.push({ id: el.id, catalog_id: el.catalog_id, quantity: md.quantity ?? 1 });
      });
    }
  }
  return { errors: errors.list, plan };
}

function recount(c, price, sign) {
  c.purchases_count += sign;
  c.ltv += sign * price;
  c.average_check = c.purchases_count > 0 ? Math.round(c.ltv / c.purchases_count) : 0;
}

/** Adds a transaction to a customer (also used by the seed): ltv, purchases_count, average_check follow. */
export function addTransaction(state, customer, plan, userId) {
  const now = state.now();
  const t = {
    id: nextId(state, 'transaction'), comment: plan.comment ?? '', price: plan.price, completed_at: plan.completed_at ?? now,
    customer_id: customer.id, created_by: plan.created_by ?? userId, updated_by: plan.created_by ?? userId,
    created_at: plan.created_at ?? now, updated_at: plan.created_at ?? now, is_deleted: false, catalog_elements: plan.elements ?? [],
  };
  state.data.transactions.set(t.id, t);
  recount(customer, t.price, 1);
  if (plan.next_price !== undefined) customer.next_price = plan.next_price;
  if (plan.next_date !== undefined) customer.next_date = plan.next_date;
  recordEvent(state, { type: 'transaction_added', entity_type: 'customers', entity_id: customer.id, created_by: t.created_by, value_after: [{ transaction: { id: t.id } }] });
  return t;
}

/** POST /api/v4/customers/{id}/transactions (array; price required) → [{id, customer_id, request_id}] */
export const createTransactions = gated('customers', (ctx) => {
  const { state } = ctx;
  const customer = liveCustomer(state, ctx.params.id);
  if (!customer) throw problemError(404, 'Entity not found');
  const body = ctx.body();
  requireBatch(body, 250, state);
  const checked = body.map((item, i) => ({ request_id: requestIdOf(item, i), ...validateTransaction(state, item) }));
  throwIfErrors(checked);
  const out = checked.map((c) => {
    const t = addTransaction(state, customer, c.plan, ctx.userId);
    return { id: t.id, customer_id: customer.id, request_id: c.request_id, _links: txHref(ctx, t) };
  });
  customer.updated_at = state.now();
  customer.updated_by = ctx.userId;
  return hal({ _links: { self: { href: `${ctx.base}${ctx.path}` } }, _embedded: { transactions: out } });
});

/** DELETE /api/v4/customers/transactions/{id} (and /customers/{id}/transactions/{txId}) → 204; unknown → 404 */
export const deleteTransaction = gated('customers', (ctx) => {
  const t = findTransaction(ctx);
  if (!t) throw problemError(404, 'Entity not found');
  t.is_deleted = true;
  t.updated_at = ctx.state.now();
  const c = ctx.state.data.customers.get(t.customer_id);
  if (c) recount(c, t.price, -1);
  return noContent();
});

// ---- statuses and segments --------------------------------------------------------------------
const statusView = (ctx, s) => ({ ...s, account_id: ACCOUNT_ID, _links: { self: { href: `${ctx.base}/api/v4/customers/statuses/${s.id}` } } });

/** GET /api/v4/customers/statuses (periodicity mode) */
export const listCustomerStatuses = gated('statuses', (ctx) => {
  const items = [...ctx.state.data.customerStatuses.values()].sort((a, b) => a.sort - b.sort);
  if (!items.length) return noContent();
  return hal({ _total_items: items.length, _links: { self: { href: `${ctx.base}/api/v4/customers/statuses` } }, _embedded: { statuses: items.map((s) => statusView(ctx, s)) } });
});

export const getCustomerStatus = gated('statuses', (ctx) => {
  const s = ctx.state.data.customerStatuses.get(ctx.params.id);
  return s ? hal(statusView(ctx, s)) : noContent();
});

function segmentView(ctx, s) {
  let count = 0;
  for (const c of ctx.state.data.customers.values()) if (!c.is_deleted && c.segments.includes(s.id)) count++;
  return {
    id: s.id, created_at: s.created_at, updated_at: s.updated_at, name: s.name, customers_count: count, color: s.color,
    custom_fields_values: null, available_products_price_types: [...(s.available_products_price_types ?? [])], account_id: ACCOUNT_ID,
    _links: { self: { href: `${ctx.base}/api/v4/customers/segments/${s.id}` } },
  };
}

/** GET /api/v4/customers/segments (segments mode) */
export const listSegments = gated('segments', (ctx) => {
  const { page, limit } = parsePaging(ctx.query);
  const items = [...ctx.state.data.segments.values()];
  const slice = items.slice((page - 1) * limit, page * limit);
  if (!slice.length) return noContent();
  return hal({ _total_items: items.length, _page: page, _page_count: Math.max(1, Math.ceil(items.length / limit)), _links: pageLinks(ctx, page, limit, slice.length === limit), _embedded: { segments: slice.map((s) => segmentView(ctx, s)) } });
});

export const getSegment = gated('segments', (ctx) => {
  const s = ctx.state.data.segments.get(ctx.params.id);
  return s ? hal(segmentView(ctx, s)) : noContent();
});
