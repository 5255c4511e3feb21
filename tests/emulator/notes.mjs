// Notes of leads, contacts, companies and customers (reference "Notes",
// entities §11): `{entity_id, note_type, params, request_id}`; lists are paged
// and answer 204 when empty. Only lead notes fire (lead) webhooks.
import { recordNote } from './events.mjs';
import { hal, noContent, problemError, scalars } from './http.mjs';
import { ACCOUNT_ID, nextId, addNote } from './store.mjs';
import { MSG } from './customfields.mjs';
import { parsePaging, parseOrder, sortBy, pageLinks } from './filters.mjs';
import { isObj, requestIdOf, requireBatch, throwIfErrors } from './validate.mjs';
import { noteEvent, hookEvent } from './webhooks.mjs';

const MAX_NOTES = 250;

// Required params per note type (Kommo notes docs); other types accept any params object.
const REQUIRED = {
  common: { text: 'string' },
  service_message: { service: 'string', text: 'string' },
  extended_service_message: { service: 'string', text: 'string' },
  call_in: { uniq: 'string', duration: 'int', source: 'string', phone: 'string' },
  call_out: { uniq: 'string', duration: 'int', source: 'string', phone: 'string' },
  sms_in: { text: 'string', phone: 'string' },
  sms_out: { text: 'string', phone: 'string' },
  message_cashier: { status: 'string', text: 'string' },
  geolocation: { text: 'string', address: 'string', longitude: 'string', latitude: 'string' },
  attachment: { original_name: 'string', file_uuid: 'string' },
};
export const NOTE_TYPES = Object.keys(REQUIRED);

export function serializeNote(ctx, n) {
  return {
    id: n.id, entity_id: n.entity_id, created_by: n.created_by, updated_by: n.updated_by, created_at: n.created_at,
    updated_at: n.updated_at, responsible_user_id: n.responsible_user_id, group_id: n.group_id, note_type: n.note_type,
    params: { ...n.params }, account_id: ACCOUNT_ID, _links: { self: { href: noteHref(ctx, n) } },
  };
}

const noteHref = (ctx, n) => `${ctx.base}/api/v4/${n.entity_type}/${n.entity_id}/notes/${n.id}`;
const entityOf = (state, entity, id) => {
  const rec = Number.isInteger(id) ? state.data[entity].get(id) : null;
  return rec && !rec.is_deleted ? rec : null;
};

const num = (x) => (typeof x === 'string' ? Number(x) : NaN);

function listFrom(ctx, notes) {
  const { page, limit } = parsePaging(ctx.query);
  const f = isObj(ctx.query.filter) ? ctx.query.filter : {};
  const ints = (v) => new Set(scalars(v).map(Number));
  const ids = f.id !== undefined ? ints(f.id) : null;
  const entities = f.entity_id !== undefined ? ints(f.entity_id) : null;
  const types = f.note_type !== undefined ? new Set(scalars(f.note_type)) : null;
  const upd = isObj(f.updated_at) ? f.updated_at : f.updated_at !== undefined ? { from: f.updated_at, to: f.updated_at } : null;
  let items = notes.filter((n) => (!ids || ids.has(n.id)) && (!entities || entities.has(n.entity_id)) && (!types || types.has(n.note_type))
    && (!upd || ((upd.from === undefined || n.updated_at >= num(upd.from)) && (upd.to === undefined || n.updated_at <= num(upd.to)))));
  items = sortBy(items, parseOrder(ctx.query, ['updated_at', 'id']));
  const slice = items.slice((page - 1) * limit, page * limit);
  if (!slice.length) return noContent();
  return hal({ _page: page, _links: pageLinks(ctx, page, limit, slice.length === limit), _embedded: { notes: slice.map((n) => serializeNote(ctx, n)) } });
}

/** GET /api/v4/{entity}/notes */
export const listAllNotes = (entity) => (ctx) => {
  const store = ctx.state.data[entity];
  return listFrom(ctx, [...ctx.state.data.notes.values()].filter((n) => n.entity_type === entity && !store.get(n.entity_id)?.is_deleted));
};

/** GET /api/v4/{entity}/{id}/notes */
export const listEntityNotes = (entity) => (ctx) => {
  const ids = ctx.state.data.notesBy[entity].get(ctx.params.id) ?? [];
  return listFrom(ctx, ids.map((id) => ctx.state.data.notes.get(id)).filter(Boolean));
};

/** GET /api/v4/{entity}/notes/{id} and /{entity}/{id}/notes/{noteId}; unknown → 204. */
export const getNote = (entity) => (ctx) => {
  const n = ctx.state.data.notes.get(ctx.params.noteId ?? ctx.params.id);
  if (!n || n.entity_type !== entity || (ctx.params.noteId && n.entity_id !== ctx.params.id)) return noContent();
  return hal(serializeNote(ctx, n));
};

function validateNote(state, entity, item, fixedEntityId) {
  const errors = [];
  const add = (code, path, detail) => errors.push({ code, path, detail });
  if (!isObj(item)) { add('InvalidType', '', MSG.type('array')); return { errors }; }
  const entityId = fixedEntityId ?? item.entity_id;
  if (fixedEntityId === undefined) {
    if (item.entity_id === undefined || item.entity_id === null) add('FieldMissing', 'entity_id', MSG.blank);
    else if (!entityOf(state, entity, item.entity_id)) add('NotFound', 'entity_id', 'Entity not found');
  }
  if (typeof item.note_type !== 'string' || !REQUIRED[item.note_type]) add('NotSupportedChoice', 'note_type', MSG.choice);
  else if (!isObj(item.params)) add('FieldMissing', 'params', MSG.blank);
  else {
    for (const [k, t] of Object.entries(REQUIRED[item.note_type])) {
      const v = item.params[k];
      if (v === undefined || v === null || v === '') add('FieldMissing', `params.${k}`, MSG.blank);
      else if (t === 'int' ? !Number.isInteger(v) : typeof v !== 'string') add('InvalidType', `params.${k}`, MSG.type(t));
    }
  }
  if (item.responsible_user_id !== undefined && !state.data.users.has(item.responsible_user_id)) add('NotSupportedChoice', 'responsible_user_id', MSG.choice);
  return { errors, entityId };
}

function createNotes(ctx, entity, fixedEntityId) {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, MAX_NOTES, state);
  const checked = body.map((item, i) => ({ request_id: requestIdOf(item, i), item, ...validateNote(state, entity, item, fixedEntityId) }));
  throwIfErrors(checked);
  const now = state.now();
  const out = checked.map((c) => {
    const note = addNote(state, {
      id: nextId(state, 'note'), entity_type: entity, entity_id: c.entityId,
      created_by: c.item.created_by ?? ctx.userId, updated_by: c.item.created_by ?? ctx.userId,
      created_at: Number.isInteger(c.item.created_at) ? c.item.created_at : now, updated_at: now,
      responsible_user_id: c.item.responsible_user_id ?? ctx.userId, group_id: 0, note_type: c.item.note_type,
      params: { ...c.item.params }, is_pinned: false,
    });
    recordNote(state, note, ctx.userId);
    if (entity === 'leads') ctx.events.push(noteEvent(state, state.data.leads.get(c.entityId), note));
    else hookEvent(state, entity, 'note', state.data[entity].get(c.entityId), {}, note);
    return { id: note.id, entity_id: note.entity_id, request_id: c.request_id, _links: { self: { href: noteHref(ctx, note) } } };
  });
  return hal({ _links: { self: { href: `${ctx.base}${ctx.path}` } }, _embedded: { notes: out } });
}

/** POST /api/v4/{entity}/notes (entity_id in each item) */
export const createNotesBulk = (entity) => (ctx) => createNotes(ctx, entity, undefined);

/** POST /api/v4/{entity}/{id}/notes; unknown entity → 404 */
export const createEntityNotes = (entity) => (ctx) => {
  const rec = entityOf(ctx.state, entity, ctx.params.id);
  if (!rec) throw problemError(404, 'Entity not found');
  return createNotes(ctx, entity, rec.id);
};

function checkPatch(state, entity, item, i, fixed) {
  const errors = [];
  const id = fixed?.noteId ?? (isObj(item) ? item.id : undefined);
  const note = Number.isInteger(id) ? state.data.notes.get(id) : null;
  if (!isObj(item)) errors.push({ code: 'InvalidType', path: '', detail: MSG.type('array') });
  else if (!note || note.entity_type !== entity || (fixed?.entityId !== undefined && note.entity_id !== fixed.entityId)) {
    errors.push({ code: 'NotFound', path: 'id', detail: 'Entity not found' });
  } else if (item.params !== undefined && !isObj(item.params)) errors.push({ code: 'InvalidType', path: 'params', detail: MSG.type('array') });
  return { request_id: requestIdOf(item, i), errors, note, item };
}

function applyPatch(ctx, c) {
  Object.assign(c.note.params, c.item.params ?? {});
  c.note.updated_at = ctx.state.now();
  c.note.updated_by = ctx.userId;
  return { id: c.note.id, entity_id: c.note.entity_id, updated_at: c.note.updated_at, request_id: c.request_id };
}

/** PATCH /api/v4/{entity}/notes and /{entity}/{id}/notes: [{id, params}] — params merge. */
export const patchNotes = (entity) => (ctx) => {
  const { state } = ctx;
  const body = ctx.body();
  requireBatch(body, MAX_NOTES, state);
  const fixed = ctx.params.id !== undefined ? { entityId: ctx.params.id } : null;
  const checked = body.map((item, i) => checkPatch(state, entity, item, i, fixed));
  throwIfErrors(checked);
  const out = checked.map((c) => applyPatch(ctx, c));
  return hal({ _links: { self: { href: `${ctx.base}${ctx.path}` } }, _embedded: { notes: out } });
};

/** PATCH /api/v4/{entity}/{id}/notes/{noteId}: one object; unknown note → 404. */
export const patchNote = (entity) => (ctx) => {
  const body = ctx.body();
  const c = checkPatch(ctx.state, entity, body, 0, { entityId: ctx.params.id, noteId: ctx.params.noteId });
  if (c.errors.length && c.errors[0].code === 'NotFound') throw problemError(404, 'Entity not found');
  throwIfErrors([c]);
  return hal(applyPatch(ctx, c));
};
