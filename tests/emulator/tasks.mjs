// Tasks (reference entities §4): list with filters and order, get, batch
// create (text and complete_till required), batch PATCH and PATCH /{id};
// completing = {"is_completed": true, "result": {"text": …}}. Open tasks set
// their entity's closest_task_at.
import { recordAdded, recordChanges, snapshot } from './events.mjs';
import { hookEvent } from './webhooks.mjs';
import { hal, noContent, problemError, validationError, toList, scalars } from './http.mjs';
import { ACCOUNT_ID, nextId } from './store.mjs';
import { MSG } from './customfields.mjs';
import { parsePaging, parseOrder, sortBy, pageLinks, intList, rangePred, queryError } from './filters.mjs';
import { Errors, isObj, optInt, optUser, requestIdOf, requireBatch, throwIfErrors } from './validate.mjs';
import { taskTypes } from './catalog.mjs';

export const TASK_ENTITY_TYPES = ['leads', 'contacts', 'companies', 'customers'];
const MAX_TASKS = 250;

const taskHref = (ctx, id) => ({ self: { href: `${ctx.base}/api/v4/tasks/${id}` } });

export function serializeTask(ctx, t) {
  return {
    id: t.id, created_by: t.created_by, updated_by: t.updated_by, created_at: t.created_at, updated_at: t.updated_at,
    responsible_user_id: t.responsible_user_id, group_id: t.group_id, entity_id: t.entity_id, entity_type: t.entity_type,
    duration: t.duration, is_completed: t.is_completed, task_type_id: t.task_type_id, text: t.text,
    // an empty result reads back as [] (PHP-style empty array), a filled one as {text}
    result: t.result ? { text: t.result.text } : [], complete_till: t.complete_till, account_id: ACCOUNT_ID,
    _links: taskHref(ctx, t.id),
  };
}

/** Recomputes closest_task_at (earliest complete_till of open tasks) of one entity. */
export function refreshClosestTask(state, type, id) {
  const rec = type && id ? state.data[type]?.get(id) : null;
  if (!rec) return;
  let min = null;
  for (const t of state.data.tasks.values()) {
    if (t.entity_type === type && t.entity_id === id && !t.is_completed) min = min === null ? t.complete_till : Math.min(min, t.complete_till);
  }
  rec.closest_task_at = min;
}

// ---- list / get -------------------------------------------------------------------------
function boolList(v, path) {
  return (toList(v) ?? []).map((x, i) => {
    const s = typeof x === 'string' ? x.trim().toLowerCase() : '';
    if (s === '1' || s === 'true') return true;
    if (s === '0' || s === 'false') return false;
    throw queryError(Array.isArray(v) || isObj(v) ? `${path}.${i}` : path, 'InvalidType', 'This value should be of type bool.');
  });
}

function taskPredicate(query) {
  const f = isObj(query.filter) ? query.filter : null;
  if (!f) return null;
  const preds = [];
  for (const key of ['id', 'responsible_user_id', 'created_by']) {
    if (f[key] === undefined) continue;
    const set = new Set(intList(f[key], `filter.${key}`));
    preds.push((t) => set.has(t[key]));
  }
  if (f.is_completed !== undefined) {
    const set = new Set(boolList(f.is_completed, 'filter.is_completed'));
    preds.push((t) => set.has(t.is_completed));
  }
  // reference: `filter[task_type]`; the PHP client sends `filter[task_type_id]` — both work
  for (const key of ['task_type', 'task_type_id']) {
    if (f[key] === undefined) continue;
    const set = new Set(intList(f[key], `filter.${key}`));
    preds.push((t) => set.has(t.task_type_id));
  }
  if (f.entity_type !== undefined) {
    const types = new Set(scalars(f.entity_type));
    preds.push((t) => types.has(t.entity_type));
    // entity_id only counts together with entity_type (reference); alone it is ignored
    if (f.entity_id !== undefined) {
      const ids = new Set(intList(f.entity_id, 'filter.entity_id'));
      preds.push((t) => ids.has(t.entity_id));
    }
  }
  // complete_till is not in amoCRM's list of task filters, but integrations
  // use filter[complete_till][from|to] against live accounts; read like updated_at.
  for (const key of ['updated_at', 'complete_till']) {
    if (f[key] === undefined) continue;
    if (typeof f[key] === 'string') {
      // reference: an int means "changed after"
      const [after] = intList(f[key], `filter.${key}`);
      preds.push((t) => t[key] >= after);
    } else {
      const p = rangePred(f[key], `filter.${key}`);
      preds.push((t) => p(t[key]));
    }
  }
  return preds.length ? (t) => preds.every((p) => p(t)) : null;
}

/** GET /api/v4/tasks: paging, filters, order[created_at|complete_till|id]; 204 when empty. */
export function listTasks(ctx) {
  const { page, limit } = parsePaging(ctx.query);
  const pred = taskPredicate(ctx.query);
  let items = [];
  for (const t of ctx.state.data.tasks.values()) if (!pred || pred(t)) items.push(t);
  items = sortBy(items, parseOrder(ctx.query, ['created_at', 'complete_till', 'id']));
  const slice = items.slice((page - 1) * limit, page * limit);
  if (!slice.length) return noContent();
  return hal({ _page: page, _links: pageLinks(ctx, page, limit, slice.length === limit), _embedded: { tasks: slice.map((t) => serializeTask(ctx, t)) } });
}

/** GET /api/v4/tasks/{id}; unknown → 204 (UNVERIFIED in the reference; same as contacts). */
export function getTask(ctx) {
  const t = ctx.state.data.tasks.get(ctx.params.id);
  return t ? hal(serializeTask(ctx, t)) : noContent();
}

// ---- validation ---------------------------------------------------------------------------
function validateTask(state, item, { mode = 'create', existing = null } = {}) {
  const errors = new Errors();
  if (!isObj(item)) { errors.add('InvalidType', '', MSG.type('array')); return { errors: errors.list }; }
  const plan = {};
  if (item.text === undefined || item.text === null) { if (mode === 'create') errors.add('FieldMissing', 'text', MSG.blank); }
  else if (typeof item.text !== 'string') errors.add('InvalidType', 'text', MSG.type('string'));
  else if (item.text.trim() === '') errors.add('FieldMissing', 'text', MSG.blank);
  else plan.text = item.text;
  if (item.complete_till === undefined || item.complete_till === null) { if (mode === 'create') errors.add('FieldMissing', 'complete_till', MSG.blank); }
  else plan.complete_till = optInt(item, 'complete_till', errors);
  plan.responsible_user_id = optUser(state, item, 'responsible_user_id', errors);
  plan.created_by = optUser(state, item, 'created_by', errors, { allowZero: true });
  plan.updated_by = optUser(state, item, 'updated_by', errors, { allowZero: true });
  plan.created_at = optInt(item, 'created_at', errors);
  plan.updated_at = optInt(item, 'updated_at', errors);
  plan.duration = optInt(item, 'duration', errors);
  const type = optInt(item, 'task_type_id', errors);
  if (type !== undefined) {
    if (!taskTypes(state).some((t) => t.id === type)) errors.add('NotSupportedChoice', 'task_type_id', MSG.choice);
    else plan.task_type_id = type;
  }
  if (item.is_completed !== undefined && item.is_completed !== null) {
    if (typeof item.is_completed !== 'boolean') errors.add('InvalidType', 'is_completed', MSG.type('bool'));
    else plan.is_completed = item.is_completed;
  }
  if (item.result === null) plan.result = null;
  else if (item.result !== undefined) {
    if (!isObj(item.result)) errors.add('InvalidType', 'result', MSG.type('array'));
    else if (typeof item.result.text !== 'string') errors.add('InvalidType', 'result.text', MSG.type('string'));
    else plan.result = { text: item.result.text };
  }
  // entity_type + entity_id come together; the entity must exist
  const et = item.entity_type ?? undefined;
  const eid = item.entity_id ?? undefined;
  let typeOk = true;
  if (et !== undefined && !TASK_ENTITY_TYPES.includes(et)) { errors.add('NotSupportedChoice', 'entity_type', MSG.choice); typeOk = false; }
  if (eid !== undefined && !Number.isInteger(eid)) { errors.add('InvalidType', 'entity_id', MSG.type('int')); typeOk = false; }
  if (typeOk && (et !== undefined || eid !== undefined)) {
    const finalType = et ?? existing?.entity_type ?? undefined;
    const finalId = eid ?? existing?.entity_id ?? undefined;
    if (finalType === undefined) errors.add('FieldMissing', 'entity_type', MSG.blank);
    else if (finalId === undefined) errors.add('FieldMissing', 'entity_id', MSG.blank);
    else {
      const rec = state.data[finalType].get(finalId);
      if (!rec || rec.is_deleted) errors.add('NotFound', 'entity_id', 'Entity not found');
      else { plan.entity_type = finalType; plan.entity_id = finalId; }
    }
  }
  return { errors: errors.list, plan };
}

// ---- apply ----------------------------------------------------------------------------------
export function createTask(state, plan, userId) {
  const now = state.now();
  const responsible = plan.responsible_user_id ?? userId;
  const t = {
    id: nextId(state, 'task'), created_by: plan.created_by ?? userId, updated_by: plan.updated_by ?? userId,
    created_at: plan.created_at ?? now, updated_at: plan.updated_at ?? plan.created_at ?? now,
    responsible_user_id: responsible, group_id: state.data.users.get(responsible)?.group_id ?? 0,
    entity_id: plan.entity_id ?? null, entity_type: plan.entity_type ?? null, duration: plan.duration ?? 0,
    is_completed: plan.is_completed ?? false, task_type_id: plan.task_type_id ?? 1, text: plan.text,
    result: plan.result ?? null, complete_till: plan.complete_till,
  };
  state.data.tasks.set(t.id, t);
  refreshClosestTask(state, t.entity_type, t.entity_id);
  recordAdded(state, 'tasks', t, userId);
  hookEvent(state, 'tasks', 'add', t);
  return t;
}

function updateTask(state, t, plan, userId) {
  const before = [t.entity_type, t.entity_id];
  const was = snapshot(t);
  for (const k of ['text', 'complete_till', 'created_by', 'created_at', 'duration', 'task_type_id', 'is_completed', 'result', 'entity_type', 'entity_id']) {
    if (plan[k] !== undefined) t[k] = plan[k];
  }
  if (plan.responsible_user_id !== undefined) {
    t.responsible_user_id = plan.responsible_user_id;
    t.group_id = state.data.users.get(plan.responsible_user_id)?.group_id ?? 0;
  }
  t.updated_at = plan.updated_at ?? state.now();
  t.updated_by = plan.updated_by ?? userId;
  refreshClosestTask(state, before[0], before[1]);
  if (before[0] !== t.entity_type || before[1] !== t.entity_id) refreshClosestTask(state, t.entity_type, t.entity_id);
  recordChanges(state, 'tasks', was, t, t.updated_by);
  hookEvent(state, 'tasks', 'update', t);
  if (was.responsible_user_id !== t.responsible_user_id) hookEvent(state, 'tasks', 'responsible', t, { old_responsible_user_id: was.responsible_user_id });
  return t;
}

// ---- handlers ---------------------------------------------------------------------------------
/** POST /api/v4/tasks (array) → [{id, request_id, _links}] */
export function createTasks(ctx) {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, MAX_TASKS, state);
  const checked = body.map((item, i) => ({ request_id: requestIdOf(item, i), ...validateTask(state, item, { mode: 'create' }) }));
  throwIfErrors(checked); // atomic
  const out = checked.map((c) => {
    const t = createTask(state, c.plan, ctx.userId);
    return { id: t.id, request_id: c.request_id, _links: taskHref(ctx, t.id) };
  });
  return hal({ _links: { self: { href: `${ctx.base}/api/v4/tasks` } }, _embedded: { tasks: out } });
}

const updateReply = (ctx, t, requestId) => ({ id: t.id, updated_at: t.updated_at, request_id: requestId, _links: taskHref(ctx, t.id) });

/** PATCH /api/v4/tasks (array with id) */
export function patchTasks(ctx) {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, MAX_TASKS, state);
  const checked = body.map((item, i) => {
    const request_id = requestIdOf(item, i);
    if (!isObj(item)) return { request_id, errors: [{ code: 'InvalidType', path: '', detail: MSG.type('array') }] };
    if (item.id === undefined || item.id === null) return { request_id, errors: [{ code: 'FieldMissing', path: 'id', detail: MSG.blank }] };
    const t = Number.isInteger(item.id) ? state.data.tasks.get(item.id) : null;
    if (!t) return { request_id, errors: [{ code: 'NotFound', path: 'id', detail: 'Entity not found' }] };
    return { request_id, t, ...validateTask(state, item, { mode: 'update', existing: t }) };
  });
  throwIfErrors(checked);
  const out = checked.map((c) => updateReply(ctx, updateTask(state, c.t, c.plan, ctx.userId), c.request_id));
  return hal({ _links: { self: { href: `${ctx.base}/api/v4/tasks` } }, _embedded: { tasks: out } });
}

/** PATCH /api/v4/tasks/{id} (object); unknown → 404 */
export function patchTask(ctx) {
  const { state } = ctx;
  const t = state.data.tasks.get(ctx.params.id);
  if (!t) throw problemError(404, 'Entity not found');
  const body = ctx.body();
  if (!isObj(body)) throw validationError([{ request_id: '0', errors: [{ code: 'InvalidType', path: '', detail: MSG.type('array') }] }]);
  const { errors, plan } = validateTask(state, body, { mode: 'update', existing: t });
  const request_id = requestIdOf(body, 0);
  if (errors.length) throw validationError([{ request_id, errors }]);
  return hal(updateReply(ctx, updateTask(state, t, plan, ctx.userId), request_id));
}
