// Account-level reference data: account, users, pipelines/statuses, custom
// fields, loss reasons and tags (catalogs and their elements: catalogs.mjs).
import { hal, noContent, scalars } from './http.mjs';
import { ensureTag } from './store.mjs';
import { driveUrl } from './account.mjs';
import { MSG } from './customfields.mjs';
import { parsePaging, parseWith, parseOrder, sortBy, pageLinks } from './filters.mjs';
import { isObj, requestIdOf, requireBatch, throwIfErrors } from './validate.mjs';

const link = (ctx, p) => ({ self: { href: `${ctx.base}${p}` } });

/** Paged HAL list with _total_items/_page_count (users, custom fields, loss reasons carry them). */
function pagedWithTotals(ctx, key, items, map, opts) {
  const { page, limit } = parsePaging(ctx.query, opts);
  const slice = items.slice((page - 1) * limit, page * limit);
  if (!slice.length) return noContent();
  const pageCount = Math.max(1, Math.ceil(items.length / limit));
  const links = pageLinks(ctx, page, limit, page < pageCount);
  return hal({ _total_items: items.length, _page: page, _page_count: pageCount, _links: links, _embedded: { [key]: slice.map(map) } });
}

// ---- account --------------------------------------------------------------------
export function getAccount(ctx) {
  const { state } = ctx;
  const a = state.data.account;
  const w = parseWith(ctx.query);
  const out = {
    id: a.id, name: a.name, subdomain: a.subdomain, created_at: a.created_at, created_by: a.created_by,
    updated_at: a.updated_at, updated_by: a.updated_by, current_user_id: ctx.userId, country: a.country,
    currency: a.currency, currency_symbol: a.currency_symbol, customers_mode: a.customers_mode,
    is_unsorted_on: a.is_unsorted_on, mobile_feature_version: a.mobile_feature_version,
    is_loss_reason_enabled: a.is_loss_reason_enabled, is_helpbot_enabled: a.is_helpbot_enabled,
    is_technical_account: a.is_technical_account, contact_name_display_order: a.contact_name_display_order,
    is_api_filter_enabled: true, // reference: the filter API is per-account "alpha"; on here
  };
  if (w.has('amojo_id')) out.amojo_id = a.amojo_id;
  if (w.has('uuid')) out.uuid = a.uuid;
  if (w.has('version')) out.version = 11;
  if (w.has('drive_url')) out.drive_url = driveUrl(state);
  out._links = link(ctx, '/api/v4/account');
  // D:account-info and the PHP client (AccountModel) have amojo_rights and
  // datetime_settings under _embedded; `date_formant` is the docs' spelling.
  const emb = {};
  if (w.has('amojo_rights')) emb.amojo_rights = { can_direct: true, can_create_groups: true };
  if (w.has('datetime_settings')) {
    emb.datetime_settings = {
      date_pattern: 'd.m.Y H:i', short_date_pattern: 'd.m.Y', short_time_pattern: 'H:i', date_formant: 'd.m.Y',
      time_format: 'H:i:s', timezone: 'Europe/Moscow', timezone_offset: '+03:00',
    };
  }
  if (w.has('users_groups')) emb.users_groups = state.data.groups.map((g) => ({ ...g }));
  if (w.has('task_types')) emb.task_types = taskTypes(state).map((t) => ({ ...t }));
  if (w.has('entity_names')) {
    emb.entity_names = [{
      type: 'leads',
      ru: { gender: 'f', plural_form: { dative: 'сделкам', default: 'сделки', genitive: 'сделок', accusative: 'сделки', instrumental: 'сделками', prepositional: 'сделках' }, singular_form: { dative: 'сделке', default: 'сделка', genitive: 'сделки', accusative: 'сделку', instrumental: 'сделкой', prepositional: 'сделке' } },
      en: { singular_form: { default: 'lead' }, plural_form: { default: 'leads' }, gender: 'f' },
    }];
  }
  if (Object.keys(emb).length) out._embedded = emb;
  return hal(out);
}

/** System task types 1 and 2 (reference §4: "Связаться"/FOLLOW_UP, "Встреча"/MEETING) + the account's own. */
export const SYSTEM_TASK_TYPES = [
  { id: 1, name: 'Связаться', color: null, icon_id: null, code: 'FOLLOW_UP' },
  { id: 2, name: 'Встреча', color: null, icon_id: null, code: 'MEETING' },
];
export function taskTypes(state) {
  return [...SYSTEM_TASK_TYPES, ...state.data.taskTypes];
}

// ---- users ----------------------------------------------------------------------
function rights(u) {
  const all = { view: 'A', edit: 'A', add: 'A', delete: 'A', export: 'A' };
  return {
    leads: { ...all }, contacts: { ...all }, companies: { ...all }, tasks: { edit: 'A', delete: 'A' },
    mail_access: true, catalog_access: true, files_access: true, status_rights: [], catalog_rights: null,
    custom_fields_rights: null, oper_day_reports_view_access: false, oper_day_user_tracking: false,
    is_admin: u.is_admin, is_free: false, is_active: true, group_id: u.group_id || null, role_id: null,
  };
}

function userView(ctx, u) {
  return { id: u.id, name: u.name, email: u.email, lang: u.lang, rights: rights(u), _links: link(ctx, `/api/v4/users/${u.id}`) };
}

export function listUsers(ctx) {
  return pagedWithTotals(ctx, 'users', [...ctx.state.data.users.values()], (u) => userView(ctx, u));
}

export function getUser(ctx) {
  const u = ctx.state.data.users.get(ctx.params.id);
  return u ? hal(userView(ctx, u)) : noContent();
}

// ---- pipelines --------------------------------------------------------------------
function statusView(ctx, s) {
  return { ...s, _links: link(ctx, `/api/v4/leads/pipelines/${s.pipeline_id}/statuses/${s.id}`) };
}

function pipelineView(ctx, p) {
  const { statuses, ...rest } = p;
  return {
    ...rest, _links: link(ctx, `/api/v4/leads/pipelines/${p.id}`),
    _embedded: { statuses: statuses.map((s) => statusView(ctx, s)) },
  };
}

export function listPipelines(ctx) {
  const items = [...ctx.state.data.pipelines.values()].sort((a, b) => a.sort - b.sort);
  return hal({ _total_items: items.length, _links: link(ctx, '/api/v4/leads/pipelines'), _embedded: { pipelines: items.map((p) => pipelineView(ctx, p)) } });
}

export function getPipeline(ctx) {
  const p = ctx.state.data.pipelines.get(ctx.params.id);
  return p ? hal(pipelineView(ctx, p)) : noContent();
}

export function listStatuses(ctx) {
  const p = ctx.state.data.pipelines.get(ctx.params.id);
  if (!p) return noContent();
  return hal({
    _total_items: p.statuses.length, _links: link(ctx, `/api/v4/leads/pipelines/${p.id}/statuses`),
    _embedded: { statuses: p.statuses.map((s) => statusView(ctx, s)) },
  });
}

export function getStatus(ctx) {
  const p = ctx.state.data.pipelines.get(ctx.params.id);
  const s = p?.statuses.find((x) => x.id === ctx.params.statusId);
  return s ? hal(statusView(ctx, s)) : noContent();
}

// ---- custom fields ------------------------------------------------------------------
function fieldView(ctx, basePath, f) {
  return { ...f, enums: f.enums ? f.enums.map((e) => ({ ...e })) : null, _links: link(ctx, `${basePath}/custom_fields/${f.id}`) };
}

// `entity` is a field-map key; catalogs use `catalog_<id>` (the id comes from the path).
const fieldKey = (entity, ctx) => (entity === 'catalogs' ? `catalog_${ctx.params.id}` : entity);
const fieldBase = (entity, ctx) => (entity === 'catalogs' ? `/api/v4/catalogs/${ctx.params.id}` : `/api/v4/${entity}`);

/** GET /api/v4/{entity}/custom_fields (and /catalogs/{id}/custom_fields with entity 'catalogs'). */
export const listCustomFields = (entity) => (ctx) => {
  const f = isObj(ctx.query.filter) ? ctx.query.filter : {};
  const types = f.type !== undefined ? new Set(scalars(f.type)) : null;
  const map = ctx.state.data.customFields[fieldKey(entity, ctx)];
  if (!map) return noContent(); // unknown catalog
  let items = [...map.values()].filter((x) => !types || types.has(x.type));
  const order = parseOrder(ctx.query, ['sort', 'id']);
  if (order?.field === 'sort') items = items.slice().sort((a, b) => (order.dir === 'desc' ? -1 : 1) * (a.sort - b.sort || a.id - b.id));
  else if (order) items = sortBy(items, order);
  const base = fieldBase(entity, ctx);
  return pagedWithTotals(ctx, 'custom_fields', items, (x) => fieldView(ctx, base, x));
};

export const getCustomField = (entity) => (ctx) => {
  const f = ctx.state.data.customFields[fieldKey(entity, ctx)]?.get(entity === 'catalogs' ? ctx.params.fieldId : ctx.params.id);
  return f ? hal(fieldView(ctx, fieldBase(entity, ctx), f)) : noContent();
};

// ---- loss reasons ---------------------------------------------------------------------
const lossView = (ctx, r) => ({ ...r, _links: link(ctx, `/api/v4/leads/loss_reasons/${r.id}`) });

export function listLossReasons(ctx) {
  return pagedWithTotals(ctx, 'loss_reasons', [...ctx.state.data.lossReasons.values()], (r) => lossView(ctx, r));
}

export function getLossReason(ctx) {
  const r = ctx.state.data.lossReasons.get(ctx.params.id);
  return r ? hal(lossView(ctx, r)) : noContent();
}

// ---- tags ---------------------------------------------------------------------------
export const listTags = (entity) => (ctx) => {
  const { page, limit } = parsePaging(ctx.query);
  const f = isObj(ctx.query.filter) ? ctx.query.filter : {};
  const q = typeof ctx.query.query === 'string' ? ctx.query.query.trim().toLowerCase() : '';
  const names = f.name !== undefined ? new Set(scalars(f.name).map((s) => s.toLowerCase())) : null;
  const ids = f.id !== undefined ? new Set(scalars(f.id).map(Number)) : null;
  const items = [...ctx.state.data.tags[entity].values()].filter((t) =>
    (!q || t.name.toLowerCase().includes(q)) && (!names || names.has(t.name.toLowerCase())) && (!ids || ids.has(t.id)));
  const slice = items.slice((page - 1) * limit, page * limit);
  if (!slice.length) return noContent();
  return hal({ _page: page, _links: pageLinks(ctx, page, limit, slice.length === limit), _embedded: { tags: slice.map((t) => ({ ...t })) } });
};

/** POST /api/v4/leads/tags [{name, color?}]: an existing name returns the existing tag. */
export const createTags = (entity) => (ctx) => {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, 250, state);
  const checked = body.map((item, i) => {
    const errors = [];
    if (!isObj(item) || typeof item.name !== 'string' || item.name.trim() === '') errors.push({ code: 'FieldMissing', path: 'name', detail: MSG.blank });
    else if (item.color !== undefined && item.color !== null && (typeof item.color !== 'string' || !/^[0-9A-Fa-f]{6}$/.test(item.color))) {
      errors.push({ code: 'NotSupportedChoice', path: 'color', detail: MSG.choice });
    }
    return { request_id: requestIdOf(item, i), errors, item };
  });
  throwIfErrors(checked);
  const out = checked.map((c) => {
    const tag = ensureTag(state, entity, c.item.name);
    if (c.item.color) tag.color = c.item.color.toUpperCase();
    return { id: tag.id, name: tag.name, color: tag.color, request_id: c.request_id };
  });
  return hal({ _links: link(ctx, `/api/v4/${entity}/tags`), _embedded: { tags: out } });
};
