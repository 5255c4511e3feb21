// Leads: list/get with the real HAL shape, batch create/update with amoCRM's
// validation errors, /leads/complex, and the internal operations the admin API
// reuses (create/update/delete/restore, all emitting webhook events).
import { recordAdded, recordChanges, recordEvent, snapshot } from './events.mjs';
import { hal, json, noContent, problemError, validationError } from './http.mjs';
import { ACCOUNT_ID, nextId, newLead, ensureTag } from './store.mjs';
import { validateCustomFields, applyCustomFields, serializeCustomFields, MSG } from './customfields.mjs';
import { parsePaging, parseWith, parseOrder, sortBy, pageLinks, leadPredicate } from './filters.mjs';
import { Errors, isObj, optString, optInt, optUser, tagRefs, requestIdOf, requireBatch, throwIfErrors } from './validate.mjs';
import { validateEntity, createEntity } from './contacts.mjs';
import { leadEvent } from './webhooks.mjs';
import { elementRefs } from './links.mjs';

export const WON = 142;
export const LOST = 143;
const isClosed = (s) => s === WON || s === LOST;
export const MAX_BATCH = 250; // task spec; reference notes 50 (PHP README) vs 250, unproven
export const MAX_COMPLEX = 50; // reference: complex ≤ 50 leads

const href = (ctx, p) => ({ href: `${ctx.base}${p}` });

// ---- read shape -------------------------------------------------------------------
export function serializeLead(ctx, l, withSet = new Set()) {
  const { state } = ctx;
  const d = state.data;
  const out = {
    id: l.id, name: l.name, price: l.price, responsible_user_id: l.responsible_user_id, group_id: l.group_id,
    status_id: l.status_id, pipeline_id: l.pipeline_id, loss_reason_id: l.loss_reason_id,
  };
  if (withSet.has('source_id')) out.source_id = l.source_id;
  Object.assign(out, {
    created_by: l.created_by, updated_by: l.updated_by, created_at: l.created_at, updated_at: l.updated_at,
    closed_at: l.closed_at, closest_task_at: l.closest_task_at, is_deleted: l.is_deleted,
    custom_fields_values: serializeCustomFields(state, 'leads', l.cf), score: l.score, account_id: ACCOUNT_ID,
    labor_cost: l.labor_cost,
  });
  if (withSet.has('is_price_modified_by_robot')) out.is_price_modified_by_robot = l.is_price_modified_by_robot;
  out._links = { self: href(ctx, `/api/v4/leads/${l.id}`) };
  const emb = {
    tags: l.tags.map((id) => d.tags.leads.get(id)).filter(Boolean).map((t) => ({ id: t.id, name: t.name, color: t.color })),
    companies: l.company_id ? [{ id: l.company_id, _links: { self: href(ctx, `/api/v4/companies/${l.company_id}`) } }] : [],
  };
  if (withSet.has('contacts')) {
    emb.contacts = l.contacts.map((c) => ({ id: c.id, is_main: c.is_main, _links: { self: href(ctx, `/api/v4/contacts/${c.id}`) } }));
  }
  if (withSet.has('loss_reason')) {
    // reference: `loss_reason` is an array
    const lr = l.loss_reason_id ? d.lossReasons.get(l.loss_reason_id) : null;
    emb.loss_reason = lr ? [{ ...lr, _links: { self: href(ctx, `/api/v4/leads/loss_reasons/${lr.id}`) } }] : [];
  }
  if (withSet.has('catalog_elements')) {
    emb.catalog_elements = elementRefs(l); // metadata {quantity, catalog_id, price_id (when set)}
  }
  out._embedded = emb;
  return out;
}

/** reference: `only_deleted` → mostly-null models with is_deleted:true. */
export function serializeDeletedLead(ctx, l) {
  return {
    id: l.id, name: null, price: null, responsible_user_id: null, group_id: null, status_id: null, pipeline_id: null,
    loss_reason_id: null, created_by: null, updated_by: l.deleted_by, created_at: null, updated_at: l.deleted_at,
    closed_at: null, closest_task_at: null, is_deleted: true, custom_fields_values: null, score: null,
    account_id: ACCOUNT_ID, labor_cost: null, _links: { self: href(ctx, `/api/v4/leads/${l.id}`) }, _embedded: { tags: [], companies: [] },
  };
}

export function listLeads(ctx) {
  const { page, limit } = parsePaging(ctx.query);
  const withSet = parseWith(ctx.query);
  const onlyDeleted = withSet.has('only_deleted');
  const pred = leadPredicate(ctx.query, ctx.state);
  const order = parseOrder(ctx.query, ['created_at', 'updated_at', 'id']);
  const start = (page - 1) * limit;
  const keep = (l) => l.is_deleted === onlyDeleted && (!pred || pred(l));
  let slice = [];
  if (!order || (order.field === 'id' && order.dir === 'asc')) {
    // Map iteration order = id order; stream instead of materialising 50k leads.
    let seen = 0;
    for (const l of ctx.state.data.leads.values()) {
      if (!keep(l)) continue;
      if (seen++ < start) continue;
      slice.push(l);
      if (slice.length === limit) break;
    }
  } else {
    const all = [];
    for (const l of ctx.state.data.leads.values()) if (keep(l)) all.push(l);
    slice = sortBy(all, order).slice(start, start + limit);
  }
  // reference: empty list/search → 204 with an empty body (php#122, UsefulWeb/AmoCRM#42)
  if (!slice.length) return noContent();
  return hal({
    _page: page,
    _links: pageLinks(ctx, page, limit, slice.length === limit),
    _embedded: { leads: slice.map((l) => (onlyDeleted ? serializeDeletedLead(ctx, l) : serializeLead(ctx, l, withSet))) },
  });
}

export function getLead(ctx) {
  const l = ctx.state.data.leads.get(ctx.params.id);
  const withSet = parseWith(ctx.query);
  // reference: unknown id → 204, empty body (shevernitskiy/amo#16)
  if (!l) return noContent();
  if (withSet.has('only_deleted')) return l.is_deleted ? hal(serializeDeletedLead(ctx, l)) : noContent();
  if (l.is_deleted) return noContent();
  return hal(serializeLead(ctx, l, withSet));
}

// ---- validation ---------------------------------------------------------------------
function mainPipeline(state) {
  for (const p of state.data.pipelines.values()) if (p.is_main) return p;
  return state.data.pipelines.values().next().value;
}

/** First working stage: not unsorted (type 1), not 142/143. */
export function firstStage(pipeline) {
  return pipeline.statuses.filter((s) => s.type === 0 && !isClosed(s.id)).sort((a, b) => a.sort - b.sort)[0];
}

function resolveStatus(state, item, existing, errors) {
  const pipes = state.data.pipelines;
  const pid = optInt(item, 'pipeline_id', errors);
  const sid = optInt(item, 'status_id', errors);
  let pipeline = null;
  let status = null;
  if (pid !== undefined) {
    pipeline = pipes.get(pid) ?? null;
    if (!pipeline) { errors.add('NotSupportedChoice', 'pipeline_id', MSG.choice); return {}; }
  }
  if (sid !== undefined) {
    if (pipeline) {
      status = pipeline.statuses.find((s) => s.id === sid) ?? null;
    } else if (isClosed(sid)) {
      // 142/143 exist in every pipeline: without pipeline_id they mean "in the current (or main) pipeline".
      pipeline = existing ? pipes.get(existing.pipeline_id) : mainPipeline(state);
      status = pipeline.statuses.find((s) => s.id === sid);
    } else {
      for (const p of pipes.values()) {
        status = p.statuses.find((s) => s.id === sid) ?? null;
        if (status) { pipeline = p; break; }
      }
    }
    if (!status) { errors.add('NotSupportedChoice', 'status_id', MSG.choice); return {}; }
    if (status.type === 1 && !(existing && existing.status_id === sid && existing.pipeline_id === pipeline.id)) {
      // Leads cannot be put into "Неразобранное" through /leads (that is the unsorted API).
      errors.add('NotSupportedChoice', 'status_id', MSG.choice);
      return {};
    }
  } else if (pipeline) {
    if (!existing || existing.pipeline_id !== pipeline.id) status = firstStage(pipeline);
    else status = pipeline.statuses.find((s) => s.id === existing.status_id);
  } else if (!existing) {
    pipeline = mainPipeline(state);
    status = firstStage(pipeline);
  }
  return pipeline && status ? { pipeline_id: pipeline.id, status_id: status.id } : {};
}

/**
 * Validates one lead write item. mode: 'create' | 'update'; `existing` is the
 * stored lead for updates; `complex` skips _embedded.contacts/companies (they
 * are full entities there). Returns {errors, plan}.
 */
export function validateLead(state, item, { mode = 'create', existing = null, complex = false } = {}) {
  const errors = new Errors();
  if (!isObj(item)) { errors.add('InvalidType', '', MSG.type('array')); return { errors: errors.list }; }
  const plan = { name: optString(item, 'name', errors) };
  if (item.price === null) plan.price = 0;
  else plan.price = optInt(item, 'price', errors); // amocrm.ru: integer ≥ 0 (floats are Kommo-only)
  plan.responsible_user_id = optUser(state, item, 'responsible_user_id', errors);
  plan.created_by = optUser(state, item, 'created_by', errors, { allowZero: true });
  plan.updated_by = optUser(state, item, 'updated_by', errors, { allowZero: true });
  for (const k of ['created_at', 'updated_at', 'closed_at']) plan[k] = optInt(item, k, errors);
  Object.assign(plan, resolveStatus(state, item, existing, errors));
  const finalStatus = plan.status_id ?? existing?.status_id;
  if (item.loss_reason_id === null) plan.loss_reason_id = null;
  else {
    const lr = optInt(item, 'loss_reason_id', errors);
    if (lr !== undefined) {
      if (!state.data.lossReasons.has(lr)) errors.add('NotSupportedChoice', 'loss_reason_id', MSG.choice);
      // reference: loss_reason_id only with status 143 (lost)
      else if (finalStatus !== undefined && finalStatus !== LOST) errors.add('NotSupportedChoice', 'loss_reason_id', 'A loss reason can only be set for a lead in status 143 (closed - lost).');
      else plan.loss_reason_id = lr;
    }
  }
  const cf = validateCustomFields(state, 'leads', item.custom_fields_values);
  errors.addAll(cf.errors);
  plan.cfOps = cf.ops;
  const emb = item._embedded;
  if (emb !== undefined && emb !== null && !isObj(emb)) errors.add('InvalidType', '_embedded', MSG.type('array'));
  const e = isObj(emb) ? emb : {};
  plan.tags = tagRefs(state, 'leads', e.tags, '_embedded.tags', errors);
  plan.tagsToAdd = tagRefs(state, 'leads', item.tags_to_add, 'tags_to_add', errors);
  if (mode === 'update') plan.tagsToDelete = tagRefs(state, 'leads', item.tags_to_delete, 'tags_to_delete', errors);
  if (mode === 'create' && !complex) {
    // reference: `_embedded` contacts/companies only on create (later: links).
    if (e.contacts !== undefined) {
      if (!Array.isArray(e.contacts)) errors.add('InvalidType', '_embedded.contacts', MSG.type('array'));
      else {
        plan.contacts = [];
        e.contacts.forEach((c, i) => {
          if (!isObj(c) || !Number.isInteger(c.id) || !state.data.contacts.has(c.id)) { errors.add('NotFound', `_embedded.contacts.${i}.id`, 'Entity not found'); return; }
          plan.contacts.push({ id: c.id, is_main: c.is_main === true });
        });
      }
    }
    if (e.companies !== undefined) {
      if (!Array.isArray(e.companies)) errors.add('InvalidType', '_embedded.companies', MSG.type('array'));
      else if (e.companies.length > 1) errors.add('Count', '_embedded.companies', MSG.one); // a lead has one company
      else if (e.companies.length === 1) {
        const c = e.companies[0];
        if (!isObj(c) || !Number.isInteger(c.id) || !state.data.companies.has(c.id)) errors.add('NotFound', '_embedded.companies.0.id', 'Entity not found');
        else plan.company_id = c.id;
      }
    }
  }
  if (mode === 'create' && e.source !== undefined) {
    if (!isObj(e.source) || (typeof e.source.external_id !== 'string' && typeof e.source.external_id !== 'number')) {
      errors.add('InvalidType', '_embedded.source.external_id', MSG.type('string'));
    } else plan.source = { external_id: String(e.source.external_id), type: e.source.type ?? 'widget' };
  }
  return { errors: errors.list, plan };
}

// ---- apply ----------------------------------------------------------------------------
function resolveTagIds(state, refs) {
  const ids = [];
  for (const r of refs) {
    const id = r.id ?? ensureTag(state, 'leads', r.name).id; // new names create tags
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

function sourceId(state, externalId) {
  let id = state.data.sources.get(externalId);
  if (!id) state.data.sources.set(externalId, (id = nextId(state, 'source')));
  return id;
}

function normalizeMain(contacts) {
  if (contacts.length && !contacts.some((c) => c.is_main)) contacts[0].is_main = true;
  let seen = false;
  for (const c of contacts) { if (c.is_main) { if (seen) c.is_main = false; seen = true; } }
  return contacts;
}

export function applyCreate(state, plan, userId, events) {
  const now = state.now();
  const id = nextId(state, 'lead');
  const responsible = plan.responsible_user_id ?? userId;
  const lead = newLead({
    id, name: plan.name ?? `Сделка #${id}`, price: plan.price ?? 0,
    responsible_user_id: responsible, group_id: state.data.users.get(responsible)?.group_id ?? 0,
    status_id: plan.status_id, pipeline_id: plan.pipeline_id,
    loss_reason_id: plan.status_id === LOST ? plan.loss_reason_id ?? null : null,
    created_by: plan.created_by ?? userId, updated_by: plan.updated_by ?? userId,
    created_at: plan.created_at ?? now, updated_at: plan.updated_at ?? plan.created_at ?? now,
    closed_at: plan.closed_at ?? (isClosed(plan.status_id) ? now : null),
  });
  applyCustomFields(lead, plan.cfOps);
  lead.tags = resolveTagIds(state, [...(plan.tags ?? []), ...(plan.tagsToAdd ?? [])]);
  lead.contacts = normalizeMain((plan.contacts ?? []).map((c) => ({ ...c })));
  lead.company_id = plan.company_id ?? null;
  if (plan.source) lead.source_id = sourceId(state, plan.source.external_id);
  state.data.leads.set(id, lead);
  state.stats.leadsCreated++;
  recordAdded(state, 'leads', lead, userId);
  events.push(leadEvent(state, 'add', lead));
  return lead;
}

export function applyUpdate(state, lead, plan, userId, events) {
  const now = state.now();
  const old = { status_id: lead.status_id, pipeline_id: lead.pipeline_id, responsible_user_id: lead.responsible_user_id };
  const before = snapshot(lead);
  if (plan.name !== undefined) lead.name = plan.name;
  if (plan.price !== undefined) lead.price = plan.price;
  if (plan.responsible_user_id !== undefined) {
    lead.responsible_user_id = plan.responsible_user_id;
    lead.group_id = state.data.users.get(plan.responsible_user_id)?.group_id ?? 0;
  }
  if (plan.created_at !== undefined) lead.created_at = plan.created_at;
  if (plan.status_id !== undefined) { lead.status_id = plan.status_id; lead.pipeline_id = plan.pipeline_id; }
  const statusChanged = lead.status_id !== old.status_id || lead.pipeline_id !== old.pipeline_id;
  // 142/143 set closed_at; reopening a closed lead clears it (and the loss reason).
  if (statusChanged) lead.closed_at = isClosed(lead.status_id) ? plan.closed_at ?? now : null;
  else if (plan.closed_at !== undefined) lead.closed_at = plan.closed_at;
  if (plan.loss_reason_id !== undefined) lead.loss_reason_id = plan.loss_reason_id;
  if (lead.status_id !== LOST) lead.loss_reason_id = null;
  applyCustomFields(lead, plan.cfOps);
  if (plan.tags !== undefined) lead.tags = resolveTagIds(state, plan.tags); // `_embedded.tags` replaces the set
  if (plan.tagsToAdd) for (const id of resolveTagIds(state, plan.tagsToAdd)) if (!lead.tags.includes(id)) lead.tags.push(id);
  if (plan.tagsToDelete) {
    const idx = state.data.tagIndex.leads;
    const drop = new Set(plan.tagsToDelete.map((r) => r.id ?? idx.get(r.name.toLowerCase())).filter(Boolean));
    lead.tags = lead.tags.filter((id) => !drop.has(id));
  }
  lead.updated_at = plan.updated_at ?? now;
  lead.updated_by = plan.updated_by ?? userId;
  state.stats.leadsUpdated++;
  recordChanges(state, 'leads', before, lead, lead.updated_by);
  events.push(leadEvent(state, 'update', lead));
  if (statusChanged) events.push(leadEvent(state, 'status', lead, { old_status_id: old.status_id, old_pipeline_id: old.pipeline_id }));
  if (lead.responsible_user_id !== old.responsible_user_id) {
    events.push(leadEvent(state, 'responsible', lead, { old_responsible_user_id: old.responsible_user_id }));
  }
  return lead;
}

/** Not reachable through the API (reference: no delete, php#174); admin/UI only. */
export function deleteLead(state, lead, userId, events) {
  lead.is_deleted = true;
  lead.deleted_at = state.now();
  lead.deleted_by = userId;
  recordEvent(state, { type: 'lead_deleted', entity_type: 'leads', entity_id: lead.id, created_by: userId });
  events.push(leadEvent(state, 'delete', lead));
}

export function restoreLead(state, lead, userId, events) {
  lead.is_deleted = false;
  lead.deleted_at = null;
  lead.updated_at = state.now();
  lead.updated_by = userId;
  recordEvent(state, { type: 'lead_restored', entity_type: 'leads', entity_id: lead.id, created_by: userId });
  events.push(leadEvent(state, 'restore', lead));
}

// ---- write handlers ---------------------------------------------------------------------
export function createLeads(ctx) {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, MAX_BATCH, state);
  const checked = body.map((item, i) => ({ request_id: requestIdOf(item, i), ...validateLead(state, item, { mode: 'create' }) }));
  // Atomic: any invalid item rejects the whole request and nothing is created.
  throwIfErrors(checked);
  const out = checked.map((c) => {
    const lead = applyCreate(state, c.plan, ctx.userId, ctx.events);
    return { id: lead.id, request_id: c.request_id, _links: { self: href(ctx, `/api/v4/leads/${lead.id}`) } };
  });
  return hal({ _links: { self: href(ctx, '/api/v4/leads') }, _embedded: { leads: out } });
}

function checkUpdateItem(state, item, i) {
  const request_id = requestIdOf(item, i);
  if (!isObj(item)) return { request_id, errors: [{ code: 'InvalidType', path: '', detail: MSG.type('array') }] };
  if (item.id === undefined || item.id === null) return { request_id, errors: [{ code: 'FieldMissing', path: 'id', detail: MSG.blank }] };
  const lead = Number.isInteger(item.id) ? state.data.leads.get(item.id) : null;
  if (!lead || lead.is_deleted) return { request_id, errors: [{ code: 'NotFound', path: 'id', detail: 'Entity not found' }] };
  return { request_id, lead, ...validateLead(state, item, { mode: 'update', existing: lead }) };
}

export function patchLeads(ctx) {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, MAX_BATCH, state);
  const checked = body.map((item, i) => checkUpdateItem(state, item, i));
  throwIfErrors(checked);
  const out = checked.map((c) => {
    const lead = applyUpdate(state, c.lead, c.plan, ctx.userId, ctx.events);
    return { id: lead.id, updated_at: lead.updated_at, request_id: c.request_id, _links: { self: href(ctx, `/api/v4/leads/${lead.id}`) } };
  });
  return hal({ _links: { self: href(ctx, '/api/v4/leads') }, _embedded: { leads: out } });
}

export function patchLead(ctx) {
  const { state } = ctx;
  const body = ctx.body();
  const lead = state.data.leads.get(ctx.params.id);
  if (!lead || lead.is_deleted) throw problemError(404, 'Entity not found');
  if (!isObj(body)) throw validationError([{ request_id: '0', errors: [{ code: 'InvalidType', path: '', detail: MSG.type('array') }] }]);
  const { errors, plan } = validateLead(state, body, { mode: 'update', existing: lead });
  if (errors.length) throw validationError([{ request_id: requestIdOf(body, 0), errors }]);
  applyUpdate(state, lead, plan, ctx.userId, ctx.events);
  return hal({ id: lead.id, updated_at: lead.updated_at, _links: { self: href(ctx, `/api/v4/leads/${lead.id}`) } });
}

/** POST /api/v4/leads/complex: lead + one full contact + one company per item (reference "Complex"). */
export function complexLeads(ctx) {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, MAX_COMPLEX, state);
  const checked = body.map((item, i) => {
    const request_id = requestIdOf(item, i);
    const res = validateLead(state, item, { mode: 'create', complex: true });
    if (!res.plan) return { request_id, errors: res.errors };
    const errors = [...res.errors];
    const emb = isObj(item._embedded) ? item._embedded : {};
    const sub = {};
    for (const [key, entity] of [['contacts', 'contacts'], ['companies', 'companies']]) {
      const list = emb[key];
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) { errors.push({ code: 'InvalidType', path: `_embedded.${key}`, detail: MSG.type('array') }); continue; }
      if (list.length > 1) { errors.push({ code: 'Count', path: `_embedded.${key}`, detail: MSG.one }); continue; }
      if (list.length === 0) continue;
      const v = validateEntity(state, entity, list[0], `_embedded.${key}.0.`);
      errors.push(...v.errors);
      sub[entity] = v.plan;
    }
    return { request_id, errors, plan: res.plan, sub };
  });
  throwIfErrors(checked);
  const out = checked.map((c) => {
    const company = c.sub.companies ? createEntity(state, 'companies', c.sub.companies, ctx.userId) : null;
    const contact = c.sub.contacts ? createEntity(state, 'contacts', c.sub.contacts, ctx.userId) : null;
    if (contact && company && !contact.company_id) contact.company_id = company.id;
    const lead = applyCreate(state, {
      ...c.plan, contacts: contact ? [{ id: contact.id, is_main: true }] : [], company_id: company?.id ?? null,
    }, ctx.userId, ctx.events);
    // No duplicate control in the emulator: `merged` is always false.
    return { id: lead.id, contact_id: contact?.id ?? null, company_id: company?.id ?? null, request_id: [c.request_id], merged: false };
  });
  return json(out);
}
