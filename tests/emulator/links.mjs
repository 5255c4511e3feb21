// Lead links (reference "Links"): contacts, companies and catalog elements.
// Request metadata for contacts is `{is_main}`; the link read shape reports it
// as `{main_contact}`, catalog elements as `{quantity, catalog_id}`, companies null.
import { hal, noContent, problemError, validationError, scalars } from './http.mjs';
import { MSG } from './customfields.mjs';
import { isObj, requireBatch, throwIfErrors } from './validate.mjs';

const TYPES = ['contacts', 'companies', 'catalog_elements'];
const MAX_LINKS = 250;

function linksOf(lead) {
  const out = [];
  for (const c of lead.contacts) out.push({ to_entity_id: c.id, to_entity_type: 'contacts', metadata: { main_contact: c.is_main } });
  if (lead.company_id) out.push({ to_entity_id: lead.company_id, to_entity_type: 'companies', metadata: null });
  for (const e of lead.catalog_elements) {
    out.push({ to_entity_id: e.id, to_entity_type: 'catalog_elements', metadata: { quantity: e.quantity, catalog_id: e.catalog_id, ...(e.price_id ? { price_id: e.price_id } : {}) } });
  }
  return out;
}

function linkFilter(query) {
  const f = isObj(query.filter) ? query.filter : {};
  const types = f.to_entity_type !== undefined ? new Set(scalars(f.to_entity_type)) : null;
  const ids = f.to_entity_id !== undefined ? new Set(scalars(f.to_entity_id).map(Number)) : null;
  return (l) => (!types || types.has(l.to_entity_type)) && (!ids || ids.has(l.to_entity_id));
}

export function getLeadLinks(ctx) {
  const lead = ctx.state.data.leads.get(ctx.params.id);
  if (!lead || lead.is_deleted) return noContent();
  const links = linksOf(lead).filter(linkFilter(ctx.query));
  if (!links.length) return noContent();
  return hal({ _total_items: links.length, _links: { self: { href: `${ctx.base}${ctx.path}` } }, _embedded: { links } });
}

/** GET /api/v4/leads/links?filter[entity_id][]=… — filter[entity_id] is required. */
export function getLinksBulk(ctx) {
  const f = isObj(ctx.query.filter) ? ctx.query.filter : {};
  const ids = scalars(f.entity_id);
  if (!ids.length) throw validationError([{ request_id: '0', errors: [{ code: 'FieldMissing', path: 'filter.entity_id', detail: MSG.blank }] }]);
  const pred = linkFilter(ctx.query);
  const links = [];
  for (const raw of ids) {
    const lead = ctx.state.data.leads.get(Number(raw));
    if (!lead || lead.is_deleted) continue;
    for (const l of linksOf(lead)) if (pred(l)) links.push({ entity_id: lead.id, entity_type: 'leads', ...l });
  }
  if (!links.length) return noContent();
  return hal({ _total_items: links.length, _links: { self: { href: `${ctx.base}${ctx.path}` } }, _embedded: { links } });
}

function validateLink(state, item, i, bulk, unlink) {
  const errors = [];
  const add = (code, path, detail) => errors.push({ code, path, detail });
  if (!isObj(item)) { add('InvalidType', '', MSG.type('array')); return { request_id: String(i), errors }; }
  let lead = null;
  if (bulk) {
    lead = Number.isInteger(item.entity_id) ? state.data.leads.get(item.entity_id) : null;
    if (!lead || lead.is_deleted) add('NotFound', 'entity_id', 'Entity not found');
  }
  if (!TYPES.includes(item.to_entity_type)) add('NotSupportedChoice', 'to_entity_type', MSG.choice);
  else if (!Number.isInteger(item.to_entity_id)) add('InvalidType', 'to_entity_id', MSG.type('int'));
  else if (!unlink) {
    const store = { contacts: state.data.contacts, companies: state.data.companies, catalog_elements: state.data.catalogElements }[item.to_entity_type];
    const target = store.get(item.to_entity_id);
    if (!target || target.is_deleted) add('NotFound', 'to_entity_id', 'Entity not found');
    if (item.metadata !== undefined && item.metadata !== null && !isObj(item.metadata)) add('InvalidType', 'metadata', MSG.type('array'));
    if (target && item.to_entity_type === 'catalog_elements') {
      const md = isObj(item.metadata) ? item.metadata : {};
      if (md.catalog_id !== undefined && md.catalog_id !== target.catalog_id) add('NotSupportedChoice', 'metadata.catalog_id', MSG.choice);
      if (md.quantity !== undefined && (typeof md.quantity !== 'number' || md.quantity <= 0)) add('InvalidType', 'metadata.quantity', MSG.type('float'));
    }
  }
  return { request_id: String(i), errors, lead, item };
}

function applyLink(state, lead, item) {
  const md = isObj(item.metadata) ? item.metadata : {};
  if (item.to_entity_type === 'contacts') {
    let c = lead.contacts.find((x) => x.id === item.to_entity_id);
    if (!c) lead.contacts.push((c = { id: item.to_entity_id, is_main: false }));
    if (md.is_main === true || lead.contacts.length === 1) {
      for (const x of lead.contacts) x.is_main = x === c;
    }
    return { to_entity_id: c.id, to_entity_type: 'contacts', metadata: { main_contact: c.is_main } };
  }
  if (item.to_entity_type === 'companies') {
    lead.company_id = item.to_entity_id; // a lead has one company: linking another replaces it
    return { to_entity_id: item.to_entity_id, to_entity_type: 'companies', metadata: null };
  }
  const el = state.data.catalogElements.get(item.to_entity_id);
  let e = lead.catalog_elements.find((x) => x.id === el.id);
  if (!e) lead.catalog_elements.push((e = { id: el.id, catalog_id: el.catalog_id, quantity: 1 }));
  if (md.quantity !== undefined) e.quantity = md.quantity;
  if (md.price_id !== undefined) e.price_id = md.price_id;
  return { to_entity_id: e.id, to_entity_type: 'catalog_elements', metadata: { quantity: e.quantity, catalog_id: e.catalog_id } };
}

function applyUnlink(lead, item) {
  if (item.to_entity_type === 'contacts') {
    const wasMain = lead.contacts.find((c) => c.id === item.to_entity_id)?.is_main;
    lead.contacts = lead.contacts.filter((c) => c.id !== item.to_entity_id);
    if (wasMain && lead.contacts.length) lead.contacts[0].is_main = true;
  } else if (item.to_entity_type === 'companies') {
    if (lead.company_id === item.to_entity_id) lead.company_id = null;
  } else {
    lead.catalog_elements = lead.catalog_elements.filter((e) => e.id !== item.to_entity_id);
  }
}

function handle(ctx, { bulk, unlink }) {
  const { state } = ctx;
  let fixedLead = null;
  if (!bulk) {
    fixedLead = state.data.leads.get(ctx.params.id);
    if (!fixedLead || fixedLead.is_deleted) throw problemError(404, 'Entity not found');
  }
  const body = ctx.body();
  requireBatch(body, MAX_LINKS);
  const checked = body.map((item, i) => validateLink(state, item, i, bulk, unlink));
  throwIfErrors(checked);
  const links = [];
  for (const c of checked) {
    const lead = fixedLead ?? c.lead;
    if (unlink) applyUnlink(lead, c.item);
    else links.push({ entity_id: lead.id, entity_type: 'leads', ...applyLink(state, lead, c.item) });
  }
  if (unlink) return noContent();
  return hal({ _total_items: links.length, _links: { self: { href: `${ctx.base}${ctx.path}` } }, _embedded: { links } });
}

export const linkLead = (ctx) => handle(ctx, { bulk: false, unlink: false });
export const unlinkLead = (ctx) => handle(ctx, { bulk: false, unlink: true });
export const linkBulk = (ctx) => handle(ctx, { bulk: true, unlink: false });
export const unlinkBulk = (ctx) => handle(ctx, { bulk: true, unlink: true });
