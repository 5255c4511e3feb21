// The same work as the core's Get Many page handling with Simplify on, done in
// plain JavaScript, as the benchmark's baseline: parse a 250-lead page and
// flatten each lead (src/lead/simplify.rs, src/lead/fields.rs).

function simplifyValues(values) {
  const out = {};
  for (const field of Array.isArray(values) ? values : []) {
    const name = field.field_name ?? String(field.field_id);
    const vals = (field.values ?? []).map((v) => v?.value ?? null);
    const multi = field.field_type === 'multiselect' || field.field_type === 'multitext' || vals.length > 1;
    const key = name in out ? `${name} (${field.field_id})` : name;
    out[key] = multi ? vals : vals.length ? vals[0] : null;
  }
  return out;
}

export function simplifyLead(lead) {
  const out = {};
  for (const [k, v] of Object.entries(lead)) {
    if (k !== '_links' && k !== '_embedded' && k !== 'custom_fields_values') out[k] = v;
  }
  const e = lead._embedded ?? {};
  out.custom_fields = simplifyValues(lead.custom_fields_values);
  out.tags = (e.tags ?? []).map((t) => t.name ?? null);
  if (e.contacts) {
    out.contacts = e.contacts.map((c) => c.id ?? null);
    out.main_contact_id = e.contacts.find((c) => c.is_main === true)?.id ?? null;
  }
  out.companies = (e.companies ?? []).map((c) => c.id ?? null);
  if (Array.isArray(e.loss_reason) && e.loss_reason.length) out.loss_reason = e.loss_reason[0].name ?? null;
  if (Array.isArray(e.catalog_elements)) {
    out.catalog_elements = e.catalog_elements.map((c) => ({ id: c.id ?? null, catalog_id: c.metadata?.catalog_id ?? null, quantity: c.metadata?.quantity ?? null }));
  }
  return out;
}

/**
 * The simplified leads of a page body as received: bytes (what the HTTP
 * client hands over before anyone decodes them) or text.
 */
export function shapePage(body) {
  const page = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  return (page._embedded?.leads ?? []).map(simplifyLead);
}
