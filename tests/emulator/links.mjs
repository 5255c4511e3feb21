// Entity links (reference "Links", entities §6, D:entity-links-api) for
// leads, contacts, companies and customers: one store, seen from both sides.
// A lead ↔ contact link lives in lead.contacts (`is_main`, read back as
// `{main_contact}` from either side); lead/contact/customer → company in
// `company_id` (at most one: linking another replaces it); customer ↔ contact
// in customer.contacts; catalog elements in each record's catalog_elements
// with `{quantity, catalog_id, price_id?}`.
import { recordLink } from './events.mjs';
import { hal, noContent, problemError, validationError, scalars } from './http.mjs';
import { MSG, fieldsOf } from './customfields.mjs';
import { isObj, requestIdOf, requireBatch, throwIfErrors } from './validate.mjs';

const MAX_LINKS = 250;

/** What each entity type may link to (reference: D:entity-links-api, entities §2–3, §6). */
export const LINK_TYPES = {
  leads: ['contacts', 'companies', 'catalog_elements'],
  contacts: ['leads', 'companies', 'customers', 'catalog_elements'],
  companies: ['leads', 'contacts', 'customers', 'catalog_elements'],
  customers: ['contacts', 'companies', 'catalog_elements'],
};
const STORE = { leads: 'leads', contacts: 'contacts', companies: 'companies', customers: 'customers', catalog_elements: 'catalogElements' };
// owner>member: how a link is stored on its owner.
const OWNED = {
  'leads>contacts': 'contacts', 'customers>contacts': 'contacts',
  'leads>companies': 'company', 'contacts>companies': 'company', 'customers>companies': 'company',
};

export const storeOf = (state, type) => state.data[STORE[type]];
const alive = (rec) => !!rec && !rec.is_deleted;

export function elementMeta(e) {
  return { quantity: e.quantity, catalog_id: e.catalog_id, ...(e.price_id != null ? { price_id: e.price_id } : {}) };
}

/** `_embedded.catalog_elements` of a record (`with=catalog_elements`). */
export function elementRefs(rec) {
  return (rec.catalog_elements ?? []).map((e) => ({ id: e.id, metadata: elementMeta(e) }));
}

/**
 * Reverse indexes built on first use (once per request): contact → leads,
 * company → leads/contacts/customers, contact → customers.
 */
export function relations(state) {
  const d = state.data;
  const cache = {};
  const build = (name, fill) => {
    if (!cache[name]) { cache[name] = new Map(); fill(cache[name]); }
    return cache[name];
  };
  const push = (m, k, v) => { let l = m.get(k); if (!l) m.set(k, (l = [])); l.push(v); };
  const leadsByContact = () => build('lc', (m) => { for (const l of d.leads.values()) if (!l.is_deleted) for (const c of l.contacts) push(m, c.id, { id: l.id, is_main: c.is_main }); });
  const leadsByCompany = () => build('lco', (m) => { for (const l of d.leads.values()) if (!l.is_deleted && l.company_id) push(m, l.company_id, l.id); });
  const customersByContact = () => build('cc', (m) => { for (const c of d.customers.values()) if (!c.is_deleted) for (const x of c.contacts) push(m, x.id, { id: c.id, is_main: x.is_main }); });
  const customersByCompany = () => build('cco', (m) => { for (const c of d.customers.values()) if (!c.is_deleted && c.company_id) push(m, c.company_id, c.id); });
  const contactsByCompany = () => build('ctco', (m) => { for (const c of d.contacts.values()) if (!c.is_deleted && c.company_id) push(m, c.company_id, c.id); });
  return {
    leadEntriesOfContact: (id) => leadsByContact().get(id) ?? [],
    leadsOfContact: (id) => (leadsByContact().get(id) ?? []).map((x) => x.id),
    customerEntriesOfContact: (id) => customersByContact().get(id) ?? [],
    customersOfContact: (id) => (customersByContact().get(id) ?? []).map((x) => x.id),
    leadsOfCompany: (id) => leadsByCompany().get(id) ?? [],
    customersOfCompany: (id) => customersByCompany().get(id) ?? [],
    contactsOfCompany: (id) => contactsByCompany().get(id) ?? [],
  };
}

/** Every link of one record: [{to_entity_id, to_entity_type, metadata}]. */
export function linksOf(state, type, rec, rel = relations(state)) {
  const out = [];
  const contact = (id, isMain) => out.push({ to_entity_id: id, to_entity_type: 'contacts', metadata: { main_contact: isMain } });
  const company = (id) => out.push({ to_entity_id: id, to_entity_type: 'companies', metadata: null });
  if (type === 'leads' || type === 'customers') {
    for (const c of rec.contacts) contact(c.id, c.is_main);
    if (rec.company_id) company(rec.company_id);
  } else if (type === 'contacts') {
    for (const l of rel.leadEntriesOfContact(rec.id)) out.push({ to_entity_id: l.id, to_entity_type: 'leads', metadata: { main_contact: l.is_main } });
    if (rec.company_id) company(rec.company_id);
    for (const c of rel.customerEntriesOfContact(rec.id)) out.push({ to_entity_id: c.id, to_entity_type: 'customers', metadata: { main_contact: c.is_main } });
  } else if (type === 'companies') {
    for (const id of rel.leadsOfCompany(rec.id)) out.push({ to_entity_id: id, to_entity_type: 'leads', metadata: null });
    for (const id of rel.contactsOfCompany(rec.id)) out.push({ to_entity_id: id, to_entity_type: 'contacts', metadata: null });
    for (const id of rel.customersOfCompany(rec.id)) out.push({ to_entity_id: id, to_entity_type: 'customers', metadata: null });
  }
  for (const e of rec.catalog_elements ?? []) out.push({ to_entity_id: e.id, to_entity_type: 'catalog_elements', metadata: elementMeta(e) });
  return out;
}

function linkFilter(query) {
  const f = isObj(query.filter) ? query.filter : {};
  const types = f.to_entity_type !== undefined ? new Set(scalars(f.to_entity_type)) : null;
  const ids = f.to_entity_id !== undefined ? new Set(scalars(f.to_entity_id).map(Number)) : null;
  const catalogs = f.to_catalog_id !== undefined ? new Set(scalars(f.to_catalog_id).map(Number)) : null;
  return (l) => (!types || types.has(l.to_entity_type)) && (!ids || ids.has(l.to_entity_id))
    && (!catalogs || (l.to_entity_type === 'catalog_elements' && catalogs.has(l.metadata.catalog_id)));
}

const reply = (ctx, links) => hal({ _total_items: links.length, _links: { self: { href: `${ctx.base}${ctx.path}` } }, _embedded: { links } });

/** GET /api/v4/{type}/{id}/links: filter[to_entity_type], filter[to_entity_id], filter[to_catalog_id]; 204 when none. */
export const getLinks = (type) => (ctx) => {
  const rec = storeOf(ctx.state, type).get(ctx.params.id);
  if (!alive(rec)) return noContent();
  // one entity's links carry no entity_id/entity_type (the bulk GET and link replies do)
  const links = linksOf(ctx.state, type, rec).filter(linkFilter(ctx.query));
  return links.length ? reply(ctx, links) : noContent();
};

/** GET /api/v4/{type}/links?filter[entity_id][]=…: filter[entity_id] is required. */
export const getLinksBulk = (type) => (ctx) => {
  const f = isObj(ctx.query.filter) ? ctx.query.filter : {};
  const ids = scalars(f.entity_id);
  if (!ids.length) throw validationError([{ request_id: '0', errors: [{ code: 'FieldMissing', path: 'filter.entity_id', detail: MSG.blank }] }]);
  const pred = linkFilter(ctx.query);
  const rel = relations(ctx.state);
  const links = [];
  for (const raw of ids) {
    const rec = storeOf(ctx.state, type).get(Number(raw));
    if (!alive(rec)) continue;
    for (const l of linksOf(ctx.state, type, rec, rel)) if (pred(l)) links.push({ entity_id: rec.id, entity_type: type, ...l });
  }
  return links.length ? reply(ctx, links) : noContent();
};

function validateLink(state, type, item, i, bulk, unlink) {
  const errors = [];
  const request_id = requestIdOf(item, i);
  const add = (code, path, detail) => errors.push({ code, path, detail });
  if (!isObj(item)) { add('InvalidType', '', MSG.type('array')); return { request_id, errors }; }
  let rec = null;
  if (bulk) {
    rec = Number.isInteger(item.entity_id) ? storeOf(state, type).get(item.entity_id) : null;
    if (!alive(rec)) add('NotFound', 'entity_id', 'Entity not found');
  }
  if (!LINK_TYPES[type].includes(item.to_entity_type)) add('NotSupportedChoice', 'to_entity_type', MSG.choice);
  else if (!Number.isInteger(item.to_entity_id)) add('InvalidType', 'to_entity_id', MSG.type('int'));
  else if (!unlink) {
    const target = storeOf(state, item.to_entity_type).get(item.to_entity_id);
    if (!alive(target)) add('NotFound', 'to_entity_id', 'Entity not found');
    if (item.metadata !== undefined && item.metadata !== null && !isObj(item.metadata)) add('InvalidType', 'metadata', MSG.type('array'));
    if (alive(target) && item.to_entity_type === 'catalog_elements') {
      const md = isObj(item.metadata) ? item.metadata : {};
      if (md.catalog_id !== undefined && md.catalog_id !== target.catalog_id) add('NotSupportedChoice', 'metadata.catalog_id', MSG.choice);
      if (md.quantity !== undefined && (typeof md.quantity !== 'number' || md.quantity <= 0)) add('InvalidType', 'metadata.quantity', MSG.type('float'));
      if (md.price_id !== undefined && md.price_id !== null) {
        // price_id = a `price` field of the element's catalog (reference §6)
        const f = Number.isInteger(md.price_id) ? fieldsOf(state, `catalog_${target.catalog_id}`).get(md.price_id) : null;
        if (!f || f.type !== 'price') add('NotSupportedChoice', 'metadata.price_id', MSG.choice);
      }
    }
  }
  return { request_id, errors, rec, item };
}

/** Links one record (`rec` of `type`) to item.to_entity_*; returns the link's read shape. */
export function applyLink(state, type, rec, item) {
  const out = linkOne(state, type, rec, item);
  recordLink(state, type, rec, item.to_entity_type, item.to_entity_id, false, rec.updated_by);
  return out;
}

function linkOne(state, type, rec, item) {
  const md = isObj(item.metadata) ? item.metadata : {};
  const toType = item.to_entity_type;
  const toId = item.to_entity_id;
  if (toType === 'catalog_elements') {
    const el = state.data.catalogElements.get(toId);
    let e = rec.catalog_elements.find((x) => x.id === el.id);
    if (!e) rec.catalog_elements.push((e = { id: el.id, catalog_id: el.catalog_id, quantity: 1 }));
    if (md.quantity !== undefined) e.quantity = md.quantity;
    if (md.price_id !== undefined) e.price_id = md.price_id;
    return { to_entity_id: e.id, to_entity_type: toType, metadata: elementMeta(e) };
  }
  const fwd = OWNED[`${type}>${toType}`];
  const kind = fwd ?? OWNED[`${toType}>${type}`];
  const owner = fwd ? rec : storeOf(state, toType).get(toId);
  const memberId = fwd ? toId : rec.id;
  if (kind === 'contacts') {
    let c = owner.contacts.find((x) => x.id === memberId);
    if (!c) owner.contacts.push((c = { id: memberId, is_main: false }));
    // the first contact becomes main; `is_main: true` moves main to this one
    if (md.is_main === true || owner.contacts.length === 1) for (const x of owner.contacts) x.is_main = x === c;
    return { to_entity_id: toId, to_entity_type: toType, metadata: { main_contact: c.is_main } };
  }
  owner.company_id = memberId; // at most one company: linking another replaces it
  return { to_entity_id: toId, to_entity_type: toType, metadata: null };
}

export function applyUnlink(state, type, rec, item) {
  unlinkOne(state, type, rec, item);
  recordLink(state, type, rec, item.to_entity_type, item.to_entity_id, true, rec.updated_by);
}

function unlinkOne(state, type, rec, item) {
  const toType = item.to_entity_type;
  const toId = item.to_entity_id;
  if (toType === 'catalog_elements') {
    rec.catalog_elements = rec.catalog_elements.filter((e) => e.id !== toId);
    return;
  }
  const fwd = OWNED[`${type}>${toType}`];
  const kind = fwd ?? OWNED[`${toType}>${type}`];
  const owner = fwd ? rec : storeOf(state, toType).get(toId);
  const memberId = fwd ? toId : rec.id;
  if (!owner) return;
  if (kind === 'contacts') {
    const wasMain = owner.contacts.find((c) => c.id === memberId)?.is_main;
    owner.contacts = owner.contacts.filter((c) => c.id !== memberId);
    if (wasMain && owner.contacts.length) owner.contacts[0].is_main = true;
  } else if (owner.company_id === memberId) {
    owner.company_id = null;
  }
}

function handle(ctx, type, { bulk, unlink }) {
  const { state } = ctx;
  let fixed = null;
  if (!bulk) {
    fixed = storeOf(state, type).get(ctx.params.id);
    if (!alive(fixed)) throw problemError(404, 'Entity not found');
  }
  const body = ctx.body();
  requireBatch(body, MAX_LINKS, state);
  const checked = body.map((item, i) => validateLink(state, type, item, i, bulk, unlink));
  throwIfErrors(checked); // atomic
  const links = [];
  for (const c of checked) {
    const rec = fixed ?? c.rec;
    if (unlink) applyUnlink(state, type, rec, c.item);
    else links.push({ entity_id: rec.id, entity_type: type, ...applyLink(state, type, rec, c.item) });
  }
  if (unlink) return noContent();
  return reply(ctx, links);
}

export const link = (type) => (ctx) => handle(ctx, type, { bulk: false, unlink: false });
export const unlink = (type) => (ctx) => handle(ctx, type, { bulk: false, unlink: true });
export const linkBulk = (type) => (ctx) => handle(ctx, type, { bulk: true, unlink: false });
export const unlinkBulk = (type) => (ctx) => handle(ctx, type, { bulk: true, unlink: true });
