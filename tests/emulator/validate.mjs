// Small field validators shared by the write endpoints. They push amoCRM-style
// `{code, path, detail}` errors (reference "Errors and limits") and return the
// normalised value (or undefined when absent/invalid).
import { MSG, err } from './customfields.mjs';
import { validationError, problemError } from './http.mjs';

export const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

export class Errors {
  constructor(prefix = '') {
    this.list = [];
    this.prefix = prefix;
  }
  add(code, path, detail) { this.list.push(err(code, this.prefix + path, detail)); }
  addAll(errors) { for (const e of errors) this.list.push({ ...e, path: this.prefix + e.path }); }
  get empty() { return this.list.length === 0; }
}

export function optString(item, key, errors) {
  if (!(key in item) || item[key] === null) return undefined;
  if (typeof item[key] !== 'string') { errors.add('InvalidType', key, MSG.type('string')); return undefined; }
  return item[key];
}

export function optInt(item, key, errors, { min = 0 } = {}) {
  if (!(key in item) || item[key] === null) return undefined;
  const v = item[key];
  if (!Number.isInteger(v)) { errors.add('InvalidType', key, MSG.type('int')); return undefined; }
  if (v < min) { errors.add('GreaterThanOrEqual', key, `This value should be greater than or equal to ${min}.`); return undefined; }
  return v;
}

/** A user id that must exist; 0 is allowed where amoCRM uses it for "robot/system". */
export function optUser(state, item, key, errors, { allowZero = false } = {}) {
  const v = optInt(item, key, errors);
  if (v === undefined) return undefined;
  if (v === 0 && allowZero) return 0;
  if (!state.data.users.has(v)) { errors.add('NotSupportedChoice', key, MSG.choice); return undefined; }
  return v;
}

/**
 * Tag references: `[{id}]` or `[{name}]` (reference: `_embedded{tags:[{id}|{name}]}`, tags_to_add).
 * Returns [{id}|{name}] or undefined. Unknown ids are NotSupportedChoice; new names are created on apply.
 */
export function tagRefs(state, entity, list, path, errors) {
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) { errors.add('InvalidType', path, MSG.type('array')); return undefined; }
  const out = [];
  list.forEach((t, i) => {
    if (!isObj(t)) { errors.add('InvalidType', `${path}.${i}`, MSG.type('array')); return; }
    if (t.id !== undefined && t.id !== null) {
      if (!Number.isInteger(t.id) || !state.data.tags[entity].has(t.id)) { errors.add('NotSupportedChoice', `${path}.${i}.id`, MSG.choice); return; }
      out.push({ id: t.id });
    } else if (typeof t.name === 'string' && t.name.trim() !== '') {
      out.push({ name: t.name.trim() });
    } else {
      errors.add('FieldMissing', `${path}.${i}.name`, MSG.blank);
    }
  });
  return out;
}

export function requestIdOf(item, index) {
  if (isObj(item) && (typeof item.request_id === 'string' || typeof item.request_id === 'number')) return String(item.request_id);
  return String(index);
}

/**
 * Batch body guard: must be a non-empty array of at most `max` items and at
 * most the runtime `maxWriteBatch` (over → 400 problem+json; the emulator
 * documents 250 per endpoint, 50 for complex).
 */
export function requireBatch(body, max, state) {
  if (!Array.isArray(body)) {
    throw validationError([{ request_id: '0', errors: [err('InvalidType', '', 'This value should be of type array.')] }]);
  }
  if (body.length === 0) throw validationError([{ request_id: '0', errors: [err('Count', '', 'This collection should contain 1 element or more.')] }]);
  const runtime = state?.config?.maxWriteBatch;
  const limit = Number.isInteger(runtime) && runtime > 0 ? Math.min(max, runtime) : max;
  if (body.length > limit) throw problemError(400, `Too many entities in request: ${body.length}, maximum is ${limit}`);
}

/** Throws the whole-request 400 when any item failed (atomic batches). */
export function throwIfErrors(entries) {
  const failed = entries.filter((e) => e.errors.length);
  if (failed.length) throw validationError(failed.map((e) => ({ request_id: e.request_id, errors: e.errors })));
}
