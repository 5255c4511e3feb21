// custom_fields_values: write validation/normalisation and the read shape
// (reference "custom_fields_values": read `{field_id, field_name, field_code,
// field_type, values:[{value, enum_id, enum_code}]}`, write
// `{field_id|field_code, values:[…]}`, `"values": null` clears).

export const MSG = {
  choice: 'The value you selected is not a valid choice.', // the reference's NotSupportedChoice text
  blank: 'This value should not be blank.',
  type: (t) => `This value should be of type ${t}.`,
  one: 'This collection should contain 1 element or less.',
};

export const err = (code, path, detail) => ({ code, path, detail });

const MULTI = new Set(['multiselect', 'multitext', 'items', 'chained_list', 'file', 'linked_entity', 'legal_entity', 'smart_address', 'streetaddress', 'tracking_data']);

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isInt = (v) => Number.isInteger(v);

/** Dates: reference says RFC3339 or timestamps. Stored and read back as a unix timestamp. */
export function parseTimestamp(v) {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.floor(v);
  if (typeof v === 'string' && v.trim() !== '') {
    if (/^-?\d+$/.test(v.trim())) return Number(v.trim());
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
  }
  return null;
}

const NO_FIELDS = new Map();
/** The field map of an entity type (`leads`, …, `customers`, `catalog_<id>`); empty when unknown. */
export function fieldsOf(state, entity) {
  return state.data.customFields[entity] ?? NO_FIELDS;
}

export function findField(state, entity, ref) {
  const fields = fieldsOf(state, entity);
  if (ref.field_id !== undefined && ref.field_id !== null) return fields.get(Number(ref.field_id)) ?? null;
  if (typeof ref.field_code === 'string') {
    const code = ref.field_code.toUpperCase();
    for (const f of fields.values()) if (f.code && f.code.toUpperCase() === code) return f;
  }
  return null;
}

function resolveEnum(field, v, path, errors) {
  const enums = field.enums ?? [];
  if (v.enum_id !== undefined && v.enum_id !== null) {
    const e = isInt(v.enum_id) || /^\d+$/.test(String(v.enum_id)) ? enums.find((x) => x.id === Number(v.enum_id)) : null;
    if (!e) { errors.push(err('NotSupportedChoice', `${path}.enum_id`, MSG.choice)); return null; }
    return e;
  }
  if (v.enum_code !== undefined && v.enum_code !== null) {
    const e = enums.find((x) => x.value.toUpperCase() === String(v.enum_code).toUpperCase());
    if (!e) { errors.push(err('NotSupportedChoice', `${path}.enum_code`, MSG.choice)); return null; }
    return e;
  }
  if (v.value !== undefined && v.value !== null) {
    const e = enums.find((x) => x.value === String(v.value).trim());
    if (!e) { errors.push(err('NotSupportedChoice', `${path}.value`, MSG.choice)); return null; }
    return e;
  }
  errors.push(err('FieldMissing', `${path}.value`, MSG.blank));
  return null;
}

/** Normalises one value for its field type; pushes errors and returns null when invalid. */
function normalizeValue(field, v, path, errors) {
  if (!isObj(v)) { errors.push(err('InvalidType', path, MSG.type('array'))); return null; }
  // `enum` is the read-side name of old payloads; writing it is refused (reference: php#4).
  if ('enum' in v) { errors.push(err('FieldNotExpected', `${path}.enum`, 'This field was not expected.')); return null; }
  const value = v.value;
  const bad = (t) => { errors.push(err('InvalidType', `${path}.value`, MSG.type(t))); return null; };
  switch (field.type) {
    case 'select': case 'radiobutton': case 'multiselect': case 'category': {
      const e = resolveEnum(field, v, path, errors);
      return e ? { value: e.value, enum_id: e.id, enum_code: null } : null;
    }
    case 'multitext': { // PHONE / EMAIL: enum is WORK, MOB, … (the enum value is its code)
      if (typeof value !== 'string' && typeof value !== 'number') return bad('string');
      if (String(value).trim() === '') { errors.push(err('FieldMissing', `${path}.value`, MSG.blank)); return null; }
      let e = (field.enums ?? [])[0] ?? null;
      if (v.enum_id != null || v.enum_code != null) { e = resolveEnum(field, v, path, errors); if (!e) return null; }
      return { value: String(value), enum_id: e?.id ?? null, enum_code: e?.value ?? null };
    }
    case 'numeric': case 'price': case 'monetary': {
      // amoCRM returns numeric values as strings; numeric strings are accepted on write.
      if (typeof value === 'number' && Number.isFinite(value)) return { value: String(value) };
      if (typeof value === 'string' && /^\s*-?\d+([.,]\d+)?\s*$/.test(value)) return { value: value.trim().replace(',', '.') };
      return bad('numeric');
    }
    case 'checkbox':
      return typeof value === 'boolean' ? { value } : bad('bool');
    case 'date': case 'date_time': case 'birthday': {
      const ts = parseTimestamp(value);
      return ts === null ? bad('int') : { value: ts };
    }
    case 'url':
      if (typeof value !== 'string') return bad('string');
      if (value.trim() === '') { errors.push(err('FieldMissing', `${path}.value`, MSG.blank)); return null; }
      return { value };
    case 'text': case 'textarea': case 'tracking_data': case 'streetaddress':
      if (typeof value === 'string') return { value };
      if (typeof value === 'number' && Number.isFinite(value)) return { value: String(value) };
      return bad('string');
    default: // exotic types (legal_entity, items, …): stored as given
      return value === undefined ? bad('mixed') : { ...v };
  }
}

/**
 * Validates a custom_fields_values write. Returns {errors, ops}; ops are
 * {fieldId, values|null} (null = clear) ready for applyCustomFields.
 */
export function validateCustomFields(state, entity, input, basePath = 'custom_fields_values') {
  const errors = [];
  const ops = [];
  if (input === null || input === undefined) return { errors, ops };
  if (!Array.isArray(input)) {
    errors.push(err('InvalidType', basePath, MSG.type('array')));
    return { errors, ops };
  }
  input.forEach((item, i) => {
    const p = `${basePath}.${i}`;
    if (!isObj(item)) { errors.push(err('InvalidType', p, MSG.type('array'))); return; }
    if ((item.field_id === undefined || item.field_id === null) && (item.field_code === undefined || item.field_code === null)) {
      errors.push(err('FieldMissing', `${p}.field_id`, MSG.blank));
      return;
    }
    const field = findField(state, entity, item);
    if (!field) {
      errors.push(err('NotSupportedChoice', item.field_id != null ? `${p}.field_id` : `${p}.field_code`, MSG.choice));
      return;
    }
    if (item.values === null || (Array.isArray(item.values) && item.values.length === 0)) {
      ops.push({ fieldId: field.id, values: null });
      return;
    }
    if (!Array.isArray(item.values)) { errors.push(err('InvalidType', `${p}.values`, MSG.type('array'))); return; }
    if (item.values.length > 1 && !MULTI.has(field.type)) {
      errors.push(err('TooManyValues', `${p}.values`, MSG.one));
      return;
    }
    const before = errors.length;
    const values = item.values.map((v, j) => normalizeValue(field, v, `${p}.values.${j}`, errors));
    if (errors.length === before) ops.push({ fieldId: field.id, values });
  });
  return { errors, ops };
}

export function applyCustomFields(record, ops) {
  for (const op of ops) {
    if (op.values === null) delete record.cf[op.fieldId];
    else record.cf[op.fieldId] = op.values;
  }
}

/** Read shape; null when the entity has no values (as amoCRM returns it). */
export function serializeCustomFields(state, entity, cf) {
  const fields = fieldsOf(state, entity);
  const out = [];
  for (const key of Object.keys(cf)) {
    const f = fields.get(Number(key));
    const values = cf[key];
    if (!f || !values || values.length === 0) continue;
    out.push({
      field_id: f.id, field_name: f.name, field_code: f.code, field_type: f.type,
      values: values.map((v) => ({ ...v })),
    });
  }
  return out.length ? out : null;
}

// Field types whose values `query` does not look at (not text-like).
const NOT_SEARCHED = new Set(['checkbox', 'date', 'date_time', 'birthday']);

/**
 * The searchable strings of a record's field values for `query`:
 * [{text (lower case), phone (bool)}]; phone = a multitext PHONE value.
 */
export function cfSearchValues(state, entity, cf) {
  const fields = fieldsOf(state, entity);
  const out = [];
  for (const key of Object.keys(cf)) {
    const f = fields.get(Number(key));
    if (f && NOT_SEARCHED.has(f.type)) continue;
    const phone = !!f && f.type === 'multitext' && f.code === 'PHONE';
    for (const v of cf[key]) {
      if (v.value === null || v.value === undefined || typeof v.value === 'boolean') continue;
      const text = typeof v.value === 'object' ? JSON.stringify(v.value) : String(v.value);
      out.push({ text: text.toLowerCase(), phone });
    }
  }
  return out;
}
