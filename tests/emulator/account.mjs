// What the AmoCRM Account node manages beyond entities: pipeline and status
// writes, loss reasons, users and roles, custom field writes and groups,
// sources, calls, talks, salesbots, and files (entity links here; the drive
// itself is a second loopback server, see startDrive). Rules and limits as
// the reference states them (amocrm-entities.md §7-10, 13, 15, 16).
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { hal, noContent, problemError, HttpError, problemBody, writeResponse, readBody, parseJson, normalizePath, newRequestId, JSON_TYPE, PROBLEM } from './http.mjs';
import { ACCOUNT_ID, nextId } from './store.mjs';
import { MSG, err } from './customfields.mjs';
import { parsePaging, pageLinks } from './filters.mjs';
import { isObj, requestIdOf, requireBatch, throwIfErrors } from './validate.mjs';
import { authenticate, unauthorized } from './oauth.mjs';

export const MAX_PIPELINES = 50;
export const MAX_STATUSES = 100;
export const WON = 142;
export const LOST = 143;
export const STATUS_COLORS = ['#fffeb2', '#fffd7f', '#fff000', '#ffeab2', '#ffdc7f', '#ffce5a', '#ffdbdb', '#ffc8c8', '#ff8f92', '#d6eaff', '#c1e0ff', '#98cbff', '#ebffb1', '#deff81', '#87f2c0', '#f9deff', '#f3beff', '#ccc8f9', '#eb93ff', '#f2f3f4', '#e6e8ea'];
export const FIELD_TYPES = ['text', 'numeric', 'checkbox', 'select', 'multiselect', 'multitext', 'date', 'url', 'textarea', 'radiobutton', 'streetaddress', 'smart_address', 'birthday', 'legal_entity', 'date_time', 'price', 'category', 'items', 'tracking_data', 'linked_entity', 'chained_list', 'monetary', 'file', 'payer', 'supplier', 'org_legal_name'];
/** Drive upload part size (DF:files-capabilities' example value). */
export const MAX_PART_SIZE = 524288;
export const MAX_FILE_SIZE = 512 * 1024 * 1024;

const link = (ctx, p) => ({ self: { href: `${ctx.base}${p}` } });
const blank = (v) => typeof v !== 'string' || v.trim() === '';
const pipelineOf = (ctx) => {
  const p = ctx.state.data.pipelines.get(ctx.params.id);
  if (!p) throw problemError(404, 'Pipeline not found');
  return p;
};
const pipelineView = (ctx, p) => {
  const { statuses, ...rest } = p;
  return { ...rest, _links: link(ctx, `/api/v4/leads/pipelines/${p.id}`), _embedded: { statuses: statuses.map((s) => ({ ...s })) } };
};
const ext = (state) => (state.data.accountApi ??= {
  roles: new Map([[1001, { id: 1001, name: 'Managers', rights: { leads: { view: 'A', edit: 'A', add: 'A', delete: 'M', export: 'D' } }, users: [] }]]),
  groups: { leads: new Map(), contacts: new Map(), companies: new Map(), customers: new Map() },
  sources: new Map(),
  talks: new Map([[501, { talk_id: 501, contact_id: 39000001, chat_id: 'c6a1f8f5-0c4b-4b1e-9d2a-000000000501', entity_id: 20000001, entity_type: 'lead', is_in_work: true, is_read: false, origin: 'telegram', rate: 0, missed_at: null, closed: false }]]),
  bots: new Map([[77, { id: 77, name: 'Greeting bot' }]]),
  botRuns: [],
  files: new Map(), // uuid → {model, bytes}
  entityFiles: { leads: new Map(), contacts: new Map(), companies: new Map(), customers: new Map() },
  sessions: new Map(),
  calls: [],
  ids: { group: 0, source: 900, role: 1001, user: 9000100 },
});

// ---- pipelines and statuses -------------------------------------------------------
function checkStatus(item, errors, prefix = '') {
  if (blank(item.name)) errors.push(err('FieldMissing', `${prefix}name`, MSG.blank));
  if (item.color !== undefined && !STATUS_COLORS.includes(String(item.color).toLowerCase())) errors.push(err('NotSupportedChoice', `${prefix}color`, MSG.choice));
  if (item.sort !== undefined && !Number.isInteger(item.sort)) errors.push(err('InvalidType', `${prefix}sort`, MSG.type('int')));
}

function newStatus(state, pipelineId, s, i) {
  return { id: nextId(state, 'status'), name: s.name, sort: s.sort ?? (i + 1) * 10, is_editable: true, pipeline_id: pipelineId, color: (s.color ?? STATUS_COLORS[i % STATUS_COLORS.length]).toLowerCase(), type: 0, account_id: ACCOUNT_ID };
}

export function createPipelines(ctx) {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, 50, state);
  state.data.ids.status ??= 80000000;
  state.data.ids.pipeline ??= 7000100;
  if (state.data.pipelines.size + body.length > MAX_PIPELINES) throw problemError(422, `An account may have at most ${MAX_PIPELINES} pipelines`);
  const checked = body.map((item, i) => {
    const errors = [];
    if (!isObj(item)) errors.push(err('InvalidType', '', MSG.type('object')));
    else {
      if (blank(item.name)) errors.push(err('FieldMissing', 'name', MSG.blank));
      for (const k of ['sort']) if (!Number.isInteger(item[k])) errors.push(err('FieldMissing', k, MSG.blank));
      for (const k of ['is_main', 'is_unsorted_on']) if (typeof item[k] !== 'boolean') errors.push(err('FieldMissing', k, MSG.blank));
      (item._embedded?.statuses ?? []).forEach((s, j) => { if (s.id !== WON && s.id !== LOST) checkStatus(s, errors, `_embedded.statuses.${j}.`); });
    }
    return { request_id: requestIdOf(item, i), errors, item };
  });
  throwIfErrors(checked);
  const out = checked.map(({ item, request_id }) => {
    const id = nextId(state, 'pipeline');
    const own = (item._embedded?.statuses ?? []).filter((s) => s.id !== WON && s.id !== LOST);
    const named = (sid) => (item._embedded?.statuses ?? []).find((s) => s.id === sid)?.name;
    const p = {
      id, name: item.name, sort: item.sort, is_main: false, is_unsorted_on: item.is_unsorted_on, is_archive: false, account_id: ACCOUNT_ID,
      statuses: [
        { id: nextId(state, 'status'), name: 'Incoming leads', sort: 10, is_editable: false, pipeline_id: id, color: '#c1c1c1', type: 1, account_id: ACCOUNT_ID },
        ...own.map((s, i) => newStatus(state, id, s, i)),
        { id: WON, name: named(WON) ?? 'Closed - won', sort: 10000, is_editable: false, pipeline_id: id, color: '#CCFF66', type: 0, account_id: ACCOUNT_ID },
        { id: LOST, name: named(LOST) ?? 'Closed - lost', sort: 11000, is_editable: false, pipeline_id: id, color: '#D5D8DB', type: 0, account_id: ACCOUNT_ID },
      ],
    };
    state.data.pipelines.set(id, p);
    if (item.is_main) setMain(state, id);
    return { ...pipelineView(ctx, p), request_id };
  });
  return hal({ _total_items: out.length, _embedded: { pipelines: out } });
}

function setMain(state, id) {
  for (const p of state.data.pipelines.values()) p.is_main = p.id === id;
}

export function patchPipeline(ctx) {
  const p = pipelineOf(ctx);
  const b = ctx.body();
  const errors = [];
  if (!isObj(b)) throw problemError(400, 'Expected an object');
  if (b.name !== undefined && blank(b.name)) errors.push(err('NotBlank', 'name', MSG.blank));
  if (b.sort !== undefined && !Number.isInteger(b.sort)) errors.push(err('InvalidType', 'sort', MSG.type('int')));
  throwIfErrors([{ request_id: '0', errors }]);
  for (const k of ['name', 'sort', 'is_unsorted_on', 'is_archive']) if (b[k] !== undefined) p[k] = b[k];
  if (b.is_main === true) setMain(ctx.state, p.id);
  return hal(pipelineView(ctx, p));
}

export function deletePipeline(ctx) {
  const p = pipelineOf(ctx);
  if (p.is_main) throw problemError(422, 'The main pipeline cannot be deleted');
  if (ctx.state.data.pipelines.size <= 1) throw problemError(422, 'The last pipeline cannot be deleted');
  if ([...ctx.state.data.leads.values()].some((l) => l.pipeline_id === p.id && !l.is_deleted)) throw problemError(422, 'The pipeline has leads');
  ctx.state.data.pipelines.delete(p.id);
  return noContent();
}

export function createStatuses(ctx) {
  const p = pipelineOf(ctx);
  const { state } = ctx;
  state.data.ids.status ??= 80000000;
  const body = ctx.body();
  requireBatch(body, 100, state);
  if (p.statuses.length + body.length > MAX_STATUSES) throw problemError(422, `A pipeline may have at most ${MAX_STATUSES} statuses`);
  const checked = body.map((item, i) => {
    const errors = [];
    if (!isObj(item)) errors.push(err('InvalidType', '', MSG.type('object')));
    else {
      checkStatus(item, errors);
      if (!Number.isInteger(item.sort)) errors.push(err('FieldMissing', 'sort', MSG.blank));
    }
    return { request_id: requestIdOf(item, i), errors, item };
  });
  throwIfErrors(checked);
  const out = checked.map(({ item, request_id }) => {
    const s = newStatus(state, p.id, item, p.statuses.length);
    p.statuses.splice(p.statuses.length - 2, 0, s);
    return { ...s, request_id, _links: link(ctx, `/api/v4/leads/pipelines/${p.id}/statuses/${s.id}`) };
  });
  return hal({ _total_items: out.length, _embedded: { statuses: out } });
}

function editableStatus(ctx) {
  const p = pipelineOf(ctx);
  const s = p.statuses.find((x) => x.id === ctx.params.statusId);
  if (!s) throw problemError(404, 'Status not found');
  if (!s.is_editable) throw problemError(403, 'This status cannot be edited or deleted');
  return { p, s };
}

export function patchStatus(ctx) {
  const { p, s } = editableStatus(ctx);
  const b = ctx.body();
  const errors = [];
  if (b.name !== undefined && blank(b.name)) errors.push(err('NotBlank', 'name', MSG.blank));
  if (b.color !== undefined && !STATUS_COLORS.includes(String(b.color).toLowerCase())) errors.push(err('NotSupportedChoice', 'color', MSG.choice));
  throwIfErrors([{ request_id: '0', errors }]);
  for (const k of ['name', 'sort', 'color']) if (b[k] !== undefined) s[k] = k === 'color' ? b[k].toLowerCase() : b[k];
  return hal({ ...s, _links: link(ctx, `/api/v4/leads/pipelines/${p.id}/statuses/${s.id}`) });
}

export function deleteStatus(ctx) {
  const { p, s } = editableStatus(ctx);
  p.statuses = p.statuses.filter((x) => x !== s);
  // D:leads_pipelines: the status's leads move to the first stage.
  const first = p.statuses.find((x) => x.type === 0);
  for (const l of ctx.state.data.leads.values()) if (l.status_id === s.id && l.pipeline_id === p.id) l.status_id = first.id;
  return noContent();
}

// ---- loss reasons --------------------------------------------------------------------
export function createLossReasons(ctx) {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, 250, state);
  const checked = body.map((item, i) => ({ request_id: requestIdOf(item, i), errors: blank(item?.name) ? [err('FieldMissing', 'name', MSG.blank)] : [], item }));
  throwIfErrors(checked);
  state.data.ids.lossReason ??= 6100;
  const out = checked.map(({ item, request_id }) => {
    const r = { id: nextId(state, 'lossReason'), name: item.name, sort: item.sort ?? 100, created_at: state.now(), updated_at: state.now() };
    state.data.lossReasons.set(r.id, r);
    return { ...r, request_id, _links: link(ctx, `/api/v4/leads/loss_reasons/${r.id}`) };
  });
  return hal({ _total_items: out.length, _embedded: { loss_reasons: out } });
}

const lossReasonOf = (ctx) => {
  const r = ctx.state.data.lossReasons.get(ctx.params.id);
  if (!r) throw problemError(404, 'Loss reason not found');
  return r;
};

export function patchLossReason(ctx) {
  const r = lossReasonOf(ctx);
  const b = ctx.body();
  if (b.name !== undefined && blank(b.name)) throw problemError(400, 'name must not be blank');
  for (const k of ['name', 'sort']) if (b[k] !== undefined) r[k] = b[k];
  r.updated_at = ctx.state.now();
  return hal({ ...r, _links: link(ctx, `/api/v4/leads/loss_reasons/${r.id}`) });
}

export function deleteLossReason(ctx) {
  lossReasonOf(ctx);
  ctx.state.data.lossReasons.delete(ctx.params.id);
  return noContent();
}

// ---- users and roles --------------------------------------------------------------
/** D:users-api: admin only, ≤ 10 per request, off above 100 users; 201. */
export function createUsers(ctx) {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, 10, state);
  if (state.data.users.size + body.length > 100) throw problemError(403, 'Adding users through the API is off for accounts with more than 100 users');
  const x = ext(state);
  const checked = body.map((item, i) => {
    const errors = [];
    if (blank(item?.name)) errors.push(err('FieldMissing', 'name', MSG.blank));
    if (blank(item?.email) || !item.email.includes('@')) errors.push(err('FieldMissing', 'email', MSG.blank));
    else if ([...state.data.users.values()].some((u) => u.email === item.email)) errors.push(err('NotUnique', 'email', 'This e-mail is already taken.'));
    if (item?.password !== undefined && !(/\d/.test(item.password) && /[a-z]/.test(item.password) && /[A-Z]/.test(item.password) && item.password.length >= 6)) {
      errors.push(err('InvalidPassword', 'password', 'The password must have 6 characters with a digit, a lower- and an upper-case letter.'));
    }
    return { request_id: requestIdOf(item, i), errors, item };
  });
  throwIfErrors(checked);
  const out = checked.map(({ item, request_id }) => {
    const id = ++x.ids.user;
    state.data.users.set(id, { id, name: item.name, email: item.email, lang: item.lang ?? 'en', is_admin: false, group_id: 0 });
    return { id, name: item.name, email: item.email, lang: item.lang ?? 'en', request_id, _links: link(ctx, `/api/v4/users/${id}`) };
  });
  return hal({ _total_items: out.length, _embedded: { users: out } }, 201);
}

const roleView = (ctx, r) => ({ id: r.id, name: r.name, rights: r.rights, _links: link(ctx, `/api/v4/roles/${r.id}`), _embedded: { users: r.users } });
export function listRoles(ctx) {
  const items = [...ext(ctx.state).roles.values()];
  const { page, limit } = parsePaging(ctx.query);
  const slice = items.slice((page - 1) * limit, page * limit);
  if (!slice.length) return noContent();
  return hal({ _page: page, _links: pageLinks(ctx, page, limit, slice.length === limit), _embedded: { roles: slice.map((r) => roleView(ctx, r)) } });
}
export function getRole(ctx) {
  const r = ext(ctx.state).roles.get(ctx.params.id);
  return r ? hal(roleView(ctx, r)) : noContent();
}

// ---- custom fields and groups ---------------------------------------------------------
const fieldMap = (ctx, entity) => {
  const key = entity === 'catalogs' ? `catalog_${ctx.params.id}` : entity;
  const map = ctx.state.data.customFields[key];
  if (!map) throw problemError(404, 'Catalog not found');
  return map;
};
const fieldBase = (ctx, entity) => (entity === 'catalogs' ? `/api/v4/catalogs/${ctx.params.id}` : `/api/v4/${entity}`);
const fieldView = (ctx, entity, f) => ({ ...f, enums: f.enums ? f.enums.map((e) => ({ ...e })) : null, _links: link(ctx, `${fieldBase(ctx, entity)}/custom_fields/${f.id}`) });

function checkField(item, create, errors) {
  if (create) {
    if (blank(item.name)) errors.push(err('FieldMissing', 'name', MSG.blank));
    if (!FIELD_TYPES.includes(item.type)) errors.push(err('NotSupportedChoice', 'type', MSG.choice));
    if (['select', 'multiselect', 'radiobutton'].includes(item.type) && !(Array.isArray(item.enums) && item.enums.length)) errors.push(err('FieldMissing', 'enums', MSG.blank));
  } else if (item.name !== undefined && blank(item.name)) errors.push(err('NotBlank', 'name', MSG.blank));
}

function applyField(ctx, f, item) {
  for (const k of ['name', 'code', 'sort', 'group_id', 'is_api_only', 'remind', 'currency', 'required_statuses']) if (item[k] !== undefined) f[k] = item[k];
  if (Array.isArray(item.enums)) f.enums = item.enums.map((e, i) => ({ id: e.id ?? nextId(ctx.state, 'enum'), value: e.value, sort: e.sort ?? (i + 1) * 10, code: e.code ?? null }));
}

export const createFields = (entity) => (ctx) => {
  const map = fieldMap(ctx, entity);
  const body = ctx.body();
  requireBatch(body, 250, ctx.state);
  const checked = body.map((item, i) => { const errors = []; checkField(item ?? {}, true, errors); return { request_id: requestIdOf(item, i), errors, item }; });
  throwIfErrors(checked);
  const out = checked.map(({ item, request_id }) => {
    const f = { id: nextId(ctx.state, 'field'), name: item.name, type: item.type, account_id: ACCOUNT_ID, code: null, sort: 500, is_api_only: false, enums: null, group_id: null, required_statuses: [], is_deletable: true, is_predefined: false, entity_type: entity, remind: null, settings: null, nested: null };
    applyField(ctx, f, item);
    map.set(f.id, f);
    return { ...fieldView(ctx, entity, f), request_id };
  });
  return hal({ _total_items: out.length, _embedded: { custom_fields: out } }, 201);
};

export const patchFields = (entity) => (ctx) => {
  const map = fieldMap(ctx, entity);
  const one = ctx.params.fieldId ?? (entity !== 'catalogs' ? ctx.params.id : undefined);
  const body = one !== undefined ? [{ ...ctx.body(), id: one }] : ctx.body();
  requireBatch(body, 250, ctx.state);
  const checked = body.map((item, i) => {
    const errors = [];
    if (!map.has(item?.id)) errors.push(err('NotFound', 'id', 'Field not found'));
    else checkField(item, false, errors);
    return { request_id: requestIdOf(item, i), errors, item };
  });
  throwIfErrors(checked);
  const out = checked.map(({ item, request_id }) => { const f = map.get(item.id); applyField(ctx, f, item); return { ...fieldView(ctx, entity, f), request_id }; });
  return hal(one !== undefined ? out[0] : { _total_items: out.length, _embedded: { custom_fields: out } }, 201);
};

export const deleteField = (entity) => (ctx) => {
  const map = fieldMap(ctx, entity);
  const id = entity === 'catalogs' ? ctx.params.fieldId : ctx.params.id;
  const f = map.get(id);
  if (!f) throw problemError(404, 'Field not found');
  if (!f.is_deletable || f.is_predefined) throw problemError(403, 'This field cannot be deleted');
  map.delete(id);
  return noContent();
};

const groupView = (ctx, entity, g) => ({ ...g, _links: link(ctx, `/api/v4/${entity}/custom_fields/groups/${g.id}`) });
export const listGroups = (entity) => (ctx) => {
  const items = [...ext(ctx.state).groups[entity].values()];
  if (!items.length) return noContent();
  return hal({ _total_items: items.length, _links: link(ctx, `/api/v4/${entity}/custom_fields/groups`), _embedded: { custom_field_groups: items.map((g) => groupView(ctx, entity, g)) } });
};
const groupOf = (ctx, entity) => {
  const g = ext(ctx.state).groups[entity].get(ctx.params.groupId);
  if (!g) throw problemError(404, 'Group not found'); // reference: 404 for groups, not 204
  return g;
};
export const getGroup = (entity) => (ctx) => hal(groupView(ctx, entity, groupOf(ctx, entity)));
export const createGroups = (entity) => (ctx) => {
  const x = ext(ctx.state);
  const body = ctx.body();
  requireBatch(body, 250, ctx.state);
  const checked = body.map((item, i) => {
    const errors = [];
    if (blank(item?.name)) errors.push(err('FieldMissing', 'name', MSG.blank));
    if (!Number.isInteger(item?.sort)) errors.push(err('FieldMissing', 'sort', MSG.blank));
    return { request_id: requestIdOf(item, i), errors, item };
  });
  throwIfErrors(checked);
  const out = checked.map(({ item, request_id }) => {
    const g = { id: `${entity}_${16281573493640 + ++x.ids.group}`, name: item.name, sort: item.sort, entity_type: entity, is_predefined: false, type: 'custom_field_group' };
    x.groups[entity].set(g.id, g);
    return { ...groupView(ctx, entity, g), request_id };
  });
  return hal({ _total_items: out.length, _embedded: { custom_field_groups: out } }, 201);
};
export const patchGroup = (entity) => (ctx) => {
  const g = groupOf(ctx, entity);
  const b = ctx.body();
  for (const k of ['name', 'sort']) if (b[k] !== undefined) g[k] = b[k];
  if (Array.isArray(b.fields)) {
    const map = ctx.state.data.customFields[entity];
    for (const id of b.fields) { const f = map.get(id); if (f) f.group_id = g.id; }
  }
  return hal(groupView(ctx, entity, g));
};
export const deleteGroup = (entity) => (ctx) => {
  const g = groupOf(ctx, entity);
  if (g.is_predefined) throw problemError(403, 'This group cannot be deleted');
  ext(ctx.state).groups[entity].delete(g.id);
  return noContent();
};

// ---- sources (D:sources-api) -------------------------------------------------------------
const sourceView = (ctx, s) => ({ ...s, _links: link(ctx, `/api/v4/sources/${s.id}`) });
export function listSources(ctx) {
  const items = [...ext(ctx.state).sources.values()];
  if (!items.length) return noContent();
  return hal({ _total_items: items.length, _embedded: { sources: items.map((s) => sourceView(ctx, s)) } });
}
export function getSource(ctx) {
  const s = ext(ctx.state).sources.get(ctx.params.id);
  return s ? hal(sourceView(ctx, s)) : noContent();
}
export function createSources(ctx) {
  const x = ext(ctx.state);
  const body = ctx.body();
  requireBatch(body, 100, ctx.state);
  const checked = body.map((item, i) => {
    const errors = [];
    if (blank(item?.name)) errors.push(err('FieldMissing', 'name', MSG.blank));
    if (blank(item?.external_id)) errors.push(err('FieldMissing', 'external_id', MSG.blank));
    else if ([...x.sources.values()].some((s) => s.external_id === item.external_id)) errors.push(err('NotUnique', 'external_id', 'This external_id is already used.'));
    if (item?.pipeline_id !== undefined && !ctx.state.data.pipelines.has(item.pipeline_id)) errors.push(err('NotSupportedChoice', 'pipeline_id', MSG.choice));
    return { request_id: requestIdOf(item, i), errors, item };
  });
  throwIfErrors(checked);
  if (x.sources.size + body.length > 100) throw problemError(422, 'At most 100 active sources per integration');
  const main = [...ctx.state.data.pipelines.values()].find((p) => p.is_main);
  const out = checked.map(({ item, request_id }) => {
    const s = { id: ++x.ids.source, name: item.name, external_id: item.external_id, pipeline_id: item.pipeline_id ?? main.id, default: !!item.default, origin_code: item.origin_code ?? null, services: [], account_id: ACCOUNT_ID };
    x.sources.set(s.id, s);
    ctx.state.data.sources.set(s.external_id, s.id);
    return { ...sourceView(ctx, s), request_id };
  });
  return hal({ _total_items: out.length, _embedded: { sources: out } });
}
export function patchSources(ctx) {
  const x = ext(ctx.state);
  const body = ctx.params.id !== undefined ? [{ ...ctx.body(), id: ctx.params.id }] : ctx.body();
  requireBatch(body, 100, ctx.state);
  const checked = body.map((item, i) => ({ request_id: requestIdOf(item, i), errors: x.sources.has(item?.id) ? [] : [err('NotFound', 'id', 'Source not found')], item }));
  throwIfErrors(checked);
  const out = checked.map(({ item, request_id }) => {
    const s = x.sources.get(item.id);
    for (const k of ['name', 'pipeline_id', 'default', 'origin_code']) if (item[k] !== undefined) s[k] = item[k];
    return { ...sourceView(ctx, s), request_id };
  });
  return hal(ctx.params.id !== undefined ? out[0] : { _total_items: out.length, _embedded: { sources: out } });
}
export function deleteSource(ctx) {
  const x = ext(ctx.state);
  const s = x.sources.get(ctx.params.id);
  if (!s) throw problemError(404, 'Source not found');
  x.sources.delete(s.id);
  ctx.state.data.sources.delete(s.external_id);
  return noContent();
}

// ---- calls (D:calls-api) ---------------------------------------------------------------
const digits = (s) => String(s ?? '').replace(/\D/g, '').slice(-10);
function phoneOwner(state, phone) {
  const want = digits(phone);
  if (want.length < 5) return null;
  for (const entity of ['contacts', 'companies']) {
    for (const r of state.data[entity].values()) {
      if (r.is_deleted) continue;
      for (const values of Object.values(r.cf ?? {})) {
        for (const v of Array.isArray(values) ? values : []) if (digits(v?.value) === want) return { entity_type: entity === 'contacts' ? 'contact' : 'company', id: r.id };
      }
    }
  }
  return null;
}

export function createCalls(ctx) {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, 250, state);
  const checked = body.map((item, i) => {
    const errors = [];
    if (!['inbound', 'outbound'].includes(item?.direction)) errors.push(err('NotSupportedChoice', 'direction', MSG.choice));
    if (!Number.isInteger(item?.duration)) errors.push(err('FieldMissing', 'duration', MSG.blank));
    for (const k of ['source', 'phone']) if (blank(item?.[k])) errors.push(err('FieldMissing', k, MSG.blank));
    if (item?.call_status !== undefined && !(item.call_status >= 1 && item.call_status <= 7)) errors.push(err('NotSupportedChoice', 'call_status', MSG.choice));
    return { request_id: requestIdOf(item, i), errors, item };
  });
  throwIfErrors(checked);
  const calls = [];
  const errors = [];
  for (const { item, request_id } of checked) {
    const owner = phoneOwner(state, item.phone);
    if (!owner) { errors.push({ request_id, title: 'Entity not found', status: 404, detail: `No contact or company with phone ${item.phone}` }); continue; }
    const id = nextId(state, 'note');
    ext(state).calls.push({ id, ...item, entity_id: owner.id, entity_type: owner.entity_type });
    calls.push({ id, entity_id: owner.id, entity_type: owner.entity_type, account_id: ACCOUNT_ID, request_id, _embedded: { entity: { id: owner.id } } });
  }
  // php#52: a request whose calls all miss answers 400 with the errors.
  if (!calls.length) throw new HttpError(400, { _total_items: 0, errors }, JSON_TYPE);
  return hal({ _total_items: calls.length, errors, _embedded: { calls } });
}

// ---- talks and salesbots ------------------------------------------------------------------
const talkOf = (ctx) => {
  const t = ext(ctx.state).talks.get(ctx.params.id);
  if (!t) throw problemError(404, 'Talk not found'); // D:talks-api: 404, not 204
  return t;
};
export function getTalk(ctx) {
  const { closed, ...t } = talkOf(ctx);
  return hal({ ...t, is_in_work: !closed && t.is_in_work, created_at: 1700000000, updated_at: 1700000000, account_id: ACCOUNT_ID, _links: link(ctx, `/api/v4/talks/${t.talk_id}`) });
}
export function closeTalk(ctx) {
  const t = talkOf(ctx);
  if (t.closed) throw problemError(422, 'Talk is already closed');
  t.closed = true;
  t.force_closed = !!ctx.body()?.force_close;
  return { status: 202, body: null };
}
export function runSalesbot(ctx) {
  const body = ctx.body();
  if (!Array.isArray(body) || !body.length) throw problemError(400, 'Expected a list');
  const x = ext(ctx.state);
  for (const r of body) {
    if (!x.bots.has(r?.bot_id)) throw problemError(400, `Unknown bot ${r?.bot_id}`);
    if (![1, 2].includes(r.entity_type)) throw problemError(400, 'entity_type must be 1 (contact) or 2 (lead)');
  }
  for (const r of body) x.botRuns.push({ ...r, running: true });
  return { status: 202, body: null };
}
export function stopSalesbot(ctx) {
  const x = ext(ctx.state);
  const b = ctx.body() ?? {};
  if (!x.bots.has(ctx.params.id)) throw problemError(404, 'Bot not found');
  for (const r of x.botRuns) if (r.bot_id === ctx.params.id && r.entity_id === b.entity_id) r.running = false;
  return { status: 202, body: null };
}

// ---- files linked to records (PHP EntityFiles.php) -----------------------------------------
const recordOf = (ctx, entity) => {
  const r = ctx.state.data[entity].get(ctx.params.id);
  if (!r) throw problemError(404, 'Entity not found');
  return ext(ctx.state).entityFiles[entity];
};
export const listEntityFiles = (entity) => (ctx) => {
  const links = recordOf(ctx, entity).get(ctx.params.id) ?? [];
  const { page, limit } = parsePaging(ctx.query);
  const slice = links.slice((page - 1) * limit, page * limit);
  if (!slice.length) return noContent();
  return hal({ _page: page, _links: pageLinks(ctx, page, limit, slice.length === limit), _embedded: { files: slice.map((l) => ({ ...l })) } });
};
export const putEntityFiles = (entity) => (ctx) => {
  const map = recordOf(ctx, entity);
  const body = ctx.body();
  requireBatch(body, 50, ctx.state);
  const x = ext(ctx.state);
  const checked = body.map((item, i) => ({ request_id: String(i), errors: x.files.has(item?.file_uuid) ? [] : [err('NotFound', 'file_uuid', 'File not found')], item }));
  throwIfErrors(checked);
  const list = map.get(ctx.params.id) ?? [];
  for (const { item } of checked) if (!list.some((l) => l.file_uuid === item.file_uuid)) list.push({ id: list.length + 1, file_uuid: item.file_uuid });
  map.set(ctx.params.id, list);
  return { status: 202, body: { _embedded: { files: list.map((l) => ({ ...l })) } }, contentType: JSON_TYPE };
};
export const deleteEntityFiles = (entity) => (ctx) => {
  const map = recordOf(ctx, entity);
  const uuids = new Set((ctx.body() ?? []).map((x) => x?.file_uuid));
  map.set(ctx.params.id, (map.get(ctx.params.id) ?? []).filter((l) => !uuids.has(l.file_uuid)));
  return { status: 202, body: null };
};

/** Every route of this module, added to the API router. */
export function addAccountRoutes(r) {
  r.add('POST', '/api/v4/leads/pipelines', createPipelines);
  r.add('PATCH', '/api/v4/leads/pipelines/{id}', patchPipeline);
  r.add('DELETE', '/api/v4/leads/pipelines/{id}', deletePipeline);
  r.add('POST', '/api/v4/leads/pipelines/{id}/statuses', createStatuses);
  r.add('PATCH', '/api/v4/leads/pipelines/{id}/statuses/{statusId}', patchStatus);
  r.add('DELETE', '/api/v4/leads/pipelines/{id}/statuses/{statusId}', deleteStatus);
  r.add('POST', '/api/v4/leads/loss_reasons', createLossReasons);
  r.add('PATCH', '/api/v4/leads/loss_reasons/{id}', patchLossReason);
  r.add('DELETE', '/api/v4/leads/loss_reasons/{id}', deleteLossReason);
  r.add('POST', '/api/v4/users', createUsers);
  r.add('GET', '/api/v4/roles', listRoles);
  r.add('GET', '/api/v4/roles/{id}', getRole);
  for (const entity of ['leads', 'contacts', 'companies', 'customers']) {
    r.add('POST', `/api/v4/${entity}/custom_fields`, createFields(entity));
    r.add('PATCH', `/api/v4/${entity}/custom_fields`, patchFields(entity));
    r.add('GET', `/api/v4/${entity}/custom_fields/groups`, listGroups(entity));
    r.add('POST', `/api/v4/${entity}/custom_fields/groups`, createGroups(entity));
    r.add('GET', `/api/v4/${entity}/custom_fields/groups/{groupId}`, getGroup(entity));
    r.add('PATCH', `/api/v4/${entity}/custom_fields/groups/{groupId}`, patchGroup(entity));
    r.add('DELETE', `/api/v4/${entity}/custom_fields/groups/{groupId}`, deleteGroup(entity));
    r.add('PATCH', `/api/v4/${entity}/custom_fields/{id}`, patchFields(entity));
    r.add('DELETE', `/api/v4/${entity}/custom_fields/{id}`, deleteField(entity));
    r.add('GET', `/api/v4/${entity}/{id}/files`, listEntityFiles(entity));
    r.add('PUT', `/api/v4/${entity}/{id}/files`, putEntityFiles(entity));
    r.add('DELETE', `/api/v4/${entity}/{id}/files`, deleteEntityFiles(entity));
  }
  r.add('POST', '/api/v4/catalogs/{id}/custom_fields', createFields('catalogs'));
  r.add('PATCH', '/api/v4/catalogs/{id}/custom_fields', patchFields('catalogs'));
  r.add('PATCH', '/api/v4/catalogs/{id}/custom_fields/{fieldId}', patchFields('catalogs'));
  r.add('DELETE', '/api/v4/catalogs/{id}/custom_fields/{fieldId}', deleteField('catalogs'));
  r.add('GET', '/api/v4/sources', listSources);
  r.add('POST', '/api/v4/sources', createSources);
  r.add('PATCH', '/api/v4/sources', patchSources);
  r.add('GET', '/api/v4/sources/{id}', getSource);
  r.add('PATCH', '/api/v4/sources/{id}', patchSources);
  r.add('DELETE', '/api/v4/sources/{id}', deleteSource);
  r.add('POST', '/api/v4/calls', createCalls);
  r.add('GET', '/api/v4/talks/{id}', getTalk);
  r.add('POST', '/api/v4/talks/{id}/close', closeTalk);
  r.add('POST', '/api/v2/salesbot/run', runSalesbot);
  r.add('POST', '/api/v2/salesbot/{id}/stop', stopSalesbot);
}

// ---- the drive: a second loopback server standing for drive-*.amocrm.ru ----------------------
function fileModel(base, f) {
  return {
    uuid: f.uuid, type: 'file', is_trashed: false, name: f.name, sanitized_name: f.name, size: f.size, source_id: null,
    version_uuid: f.version_uuid, has_multiple_versions: false, created_at: f.created_at, created_by: { id: f.user, type: 'user' },
    updated_at: f.created_at, updated_by: { id: f.user, type: 'user' }, deleted_at: null, deleted_by: null,
    metadata: { extension: f.name.includes('.') ? f.name.split('.').pop() : '', mime_type: f.mime },
    previews: [],
    _links: { download: { href: `${base}/download/${f.uuid}` }, download_version: { href: `${base}/download/${f.uuid}/${f.version_uuid}` }, self: { href: `${base}/v1.0/files/${f.uuid}` } },
  };
}

/**
 * Starts the drive on 127.0.0.1 (a port of its own). Every call needs the
 * account's Bearer token. `state.config.driveUrl` / `driveUrls` override the
 * address the account reports (tests set hostile values);
 * `state.config.driveRedirect` makes downloads answer 302 to it;
 * `state.config.driveNextUrl` makes upload answers name it as next_url. Each
 * call is logged in `state.driveLog` (method, path, bytes, status, whether
 * it carried a token).
 */
export async function startDrive(state) {
  const x = () => ext(state);
  state.driveLog = [];
  const server = http.createServer(async (req, res) => {
    const requestId = newRequestId();
    const url = new URL(req.url, 'http://127.0.0.1');
    const path = normalizePath(url.pathname);
    const base = state.driveBase;
    const entry = { method: req.method, path, bytes: 0, status: null, auth: Boolean(req.headers.authorization), contentType: req.headers['content-type'] ?? null };
    let resp;
    try {
      const raw = await readBody(req, 64 * 1024 * 1024);
      entry.bytes = raw.length;
      const auth = authenticate(state, req.headers.authorization);
      if (auth.kind !== 'access' && auth.kind !== 'long_lived') throw unauthorized();
      let m;
      if (req.method === 'POST' && path === '/v1.0/sessions') {
        const b = parseJson(raw) ?? {};
        if (typeof b.file_name !== 'string' || !Number.isInteger(b.file_size) || b.file_size <= 0) throw problemError(400, 'file_name and a positive file_size are required');
        if (b.file_size > MAX_FILE_SIZE) throw problemError(400, 'File is too large');
        const id = randomUUID();
        const partSize = state.config.drivePartSize ?? MAX_PART_SIZE;
        x().sessions.set(id, { id, name: b.file_name, size: b.file_size, mime: b.content_type ?? 'application/octet-stream', received: 0, chunks: [], part: 0, partSize, user: auth.rec.userId });
        resp = { status: 200, body: { session_id: id, upload_url: `${base}/upload/${id}/1`, max_file_size: MAX_FILE_SIZE, max_part_size: partSize }, contentType: JSON_TYPE };
      } else if (req.method === 'POST' && (m = path.match(/^\/upload\/([\w-]+)\/(\d+)$/))) {
        const s = x().sessions.get(m[1]);
        if (!s) throw problemError(404, 'Session not found');
        if (Number(m[2]) !== s.part + 1) throw problemError(400, `Expected part ${s.part + 1}`);
        if (raw.length === 0 || raw.length > s.partSize) throw problemError(400, `A part must have 1 to ${s.partSize} bytes`);
        if (s.received + raw.length > s.size) throw problemError(400, 'More bytes than the session announced');
        s.part += 1;
        s.received += raw.length;
        if (state.config.driveKeepBytes !== false) s.chunks.push(raw);
        if (s.received < s.size) {
          resp = { status: 200, body: { next_url: state.config.driveNextUrl ?? `${base}/upload/${s.id}/${s.part + 1}`, session_id: s.id }, contentType: JSON_TYPE };
        } else {
          x().sessions.delete(s.id);
          const f = { uuid: randomUUID(), version_uuid: randomUUID(), name: s.name, size: s.size, mime: s.mime, created_at: state.now(), user: s.user, bytes: s.chunks.length ? Buffer.concat(s.chunks) : null };
          x().files.set(f.uuid, f);
          resp = { status: 200, body: fileModel(base, f), contentType: JSON_TYPE };
        }
      } else if (req.method === 'GET' && (m = path.match(/^\/v1\.0\/files\/([\w-]+)$/))) {
        const f = x().files.get(m[1]);
        if (!f) throw problemError(404, 'File not found');
        resp = { status: 200, body: fileModel(base, f), contentType: JSON_TYPE };
      } else if (req.method === 'GET' && (m = path.match(/^\/download\/([\w-]+)/))) {
        const f = x().files.get(m[1]);
        if (!f) throw problemError(404, 'File not found');
        if (state.config.driveRedirect) resp = { status: 302, body: null, headers: { location: state.config.driveRedirect } };
        else resp = { status: 200, body: f.bytes ?? Buffer.alloc(0), contentType: f.mime };
      } else {
        throw problemError(404, `Unknown drive route ${req.method} ${path}`);
      }
    } catch (e) {
      resp = e instanceof HttpError ? { status: e.status, body: e.body, contentType: e.contentType ?? PROBLEM, headers: e.headers } : { status: 500, body: problemBody(500, String(e)), contentType: PROBLEM };
    }
    entry.status = resp.status;
    state.driveLog.push(entry);
    if (state.driveLog.length > 10000) state.driveLog.splice(0, 1000);
    writeResponse(res, resp, requestId);
  });
  server.on('clientError', (e, socket) => socket.destroy());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.driveBase = `http://127.0.0.1:${server.address().port}`;
  return server;
}

/**
 * The drive address the account reports (`with=drive_url`): the next of
 * `state.config.driveUrls` while any is left (each read takes one, so that
 * one workflow run can meet several), else `driveUrl`, else the drive.
 */
export const driveUrl = (state) => (state.config.driveUrls?.length ? state.config.driveUrls.shift() : state.config.driveUrl ?? state.driveBase);
