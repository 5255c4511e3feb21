// In-memory state of the one emulated account: runtime config, the CRM data
// (rebuilt from the seed on reset), OAuth artefacts, faults, stats and logs.
import { randomBytes } from 'node:crypto';

export const ACCOUNT_ID = 31000001;
export const SUBDOMAIN = 'demo';

export const DEFAULT_INTEGRATION = {
  clientId: '6a1f8f5e-0c4b-4b1e-9d2a-3f1e2d4c5b6a',
  clientSecret: 'emulatorSecretK3yForDemoIntegrationOnly0123456789abcdef',
  redirectUri: 'http://localhost:5678/rest/oauth2-credential/callback', // n8n's default callback URL
  name: 'n8n amoCRM nodes',
};

export function defaultConfig(options = {}) {
  const rl = options.rateLimit;
  return {
    // reference "Errors and limits": ≤ 7 req/s; 0/false disables the limiter.
    rateLimit: rl === false || rl === 0 ? 0 : Number.isFinite(rl) ? rl : 7,
    // Reference "Errors and limits": clients that keep hitting the limit get
    // an IP ban, a 403 HTML page for every request, which only amoCRM's
    // support lifts. The threshold is not published. Emulator: this many 429s
    // within ban429WindowMs bans the token until the admin lifts it
    // (POST /_admin/reset); 0 (default) never bans.
    banAfter429s: options.banAfter429s ?? 0,
    ban429WindowMs: options.ban429WindowMs ?? 60_000,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 86400, // reference: access 86400 s
    refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 90 * 86400, // reference: refresh 3 months
    authCodeTtlSeconds: options.authCodeTtlSeconds ?? 20 * 60, // reference: code 20 min
    refreshRequiresRedirectUri: options.refreshRequiresRedirectUri ?? true,
    // Reference is silent on whether a refresh kills the previous access token.
    // Default: the old access token lives until its own expiry.
    refreshRevokesAccessToken: options.refreshRevokesAccessToken ?? false,
    webhookTimeoutMs: options.webhookTimeoutMs ?? 2000,
    // Reference: amoCRM switches off a destination that keeps failing; the
    // threshold is not published. Emulator: N consecutive failed deliveries.
    webhookDisableAfterFailures: options.webhookDisableAfterFailures ?? 100,
    webhookRetryDelaysMs: options.webhookRetryDelaysMs ?? [],
    maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 * 1024,
    // Largest write array any batch endpoint accepts (on top of each endpoint's
    // own maximum: 250, complex 50). amoCRM's real server limit is UNVERIFIED
    // (the PHP README recommends 50); 250 by default.
    maxWriteBatch: options.maxWriteBatch ?? 250,
    requestLogLimit: options.requestLogLimit ?? 10000,
    deliveryLogLimit: options.deliveryLogLimit ?? 2000,
    quiet: options.quiet ?? true,
  };
}

export function newStats(state) {
  return {
    since: new Date(state ? state.nowMs() : Date.now()).toISOString(),
    requests: 0,
    calls: {},
    tokenGrants: { authorization_code: 0, refresh_token: 0 },
    tokenErrors: 0,
    revokedTokenUses: 0,
    leadsCreated: 0,
    leadsUpdated: 0,
    rateLimited: 0,
    // Requests refused because their token was banned, and when the ban began.
    banned: 0,
    bannedAt: null,
    faultsFired: 0,
    dropped: 0,
    webhookDeliveries: { ok: 0, failed: 0 },
  };
}

/** Empty CRM data; seed.mjs fills it. Ids start at realistic-looking offsets. */
export function emptyData() {
  const notesBy = { leads: new Map(), contacts: new Map(), companies: new Map(), customers: new Map() };
  return {
    account: null,
    users: new Map(),
    groups: [],
    pipelines: new Map(),
    // Catalog fields live under `catalog_<catalog id>` (created with the catalog).
    customFields: { leads: new Map(), contacts: new Map(), companies: new Map(), customers: new Map() },
    lossReasons: new Map(),
    tags: { leads: new Map(), contacts: new Map(), companies: new Map(), customers: new Map() },
    tagIndex: { leads: new Map(), contacts: new Map(), companies: new Map(), customers: new Map() }, // lower(name) → id
    taskTypes: [], // account task types after the system ones (1 FOLLOW_UP, 2 MEETING)
    catalogs: new Map(),
    catalogElements: new Map(),
    sources: new Map(), // external_id → source_id
    leads: new Map(),
    contacts: new Map(),
    companies: new Map(),
    customers: new Map(),
    customerStatuses: new Map(),
    segments: new Map(),
    transactions: new Map(),
    tasks: new Map(),
    unsorted: new Map(), // uid → incoming lead record
    notes: new Map(),
    notesBy, // entity type → Map(entity id → [note ids])
    notesByLead: notesBy.leads,
    webhooks: new Map(),
    events: [], // the activity feed (events.mjs)
    ids: {
      lead: 20000000, contact: 40000000, company: 50000000, note: 70000000,
      tag: 10000, webhook: 1000, source: 100, field: 900000, enum: 500000,
      customer: 60000000, customerStatus: 62000000, segment: 400, transaction: 65000000,
      task: 30000000, catalog: 5000, element: 600000, unsorted: 0, eventNote: 80000000,
    },
  };
}

export function nextId(state, kind) {
  state.data.ids[kind] += 1;
  return state.data.ids[kind];
}

export function createState(options = {}) {
  const state = {
    config: defaultConfig(options),
    integration: {
      clientId: options.clientId ?? DEFAULT_INTEGRATION.clientId,
      clientSecret: options.clientSecret ?? DEFAULT_INTEGRATION.clientSecret,
      redirectUri: options.redirectUri ?? DEFAULT_INTEGRATION.redirectUri,
      name: options.integrationName ?? DEFAULT_INTEGRATION.name,
    },
    clockOffsetMs: 0,
    nowMs() { return Date.now() + this.clockOffsetMs; },
    now() { return Math.floor(this.nowMs() / 1000); },
    hostPort: '127.0.0.1:0',
    baseUrl: 'http://127.0.0.1:0',
    jwtSecret: randomBytes(32),
    data: emptyData(),
    oauth: { codes: new Map(), access: new Map(), refresh: new Map() },
    faults: [],
    faultSeq: 0,
    stats: null,
    requestLog: [],
    deliveries: [],
    deliverySeq: 0,
    pending: new Set(), // in-flight webhook deliveries (AbortControllers)
    pendingHooks: [], // webhook events of entities other than leads, sent after the request (webhooks.mjs)
  };
  state.stats = newStats(state);
  return state;
}

export function recordRequest(state, entry) {
  const log = state.requestLog;
  log.push(entry);
  const over = log.length - state.config.requestLogLimit;
  if (over > 0) log.splice(0, over);
}

export function countCall(state, key, status) {
  const c = (state.stats.calls[key] ??= {});
  c[status] = (c[status] ?? 0) + 1;
}

// ---- record factories (raw internal shapes; serializers build API shapes) ----
// cf: {fieldId: [{value, enum_id?, enum_code?}]} already normalised for reading.

export function newLead(f) {
  return {
    id: f.id, name: f.name ?? '', price: f.price ?? 0,
    responsible_user_id: f.responsible_user_id, group_id: f.group_id ?? 0,
    status_id: f.status_id, pipeline_id: f.pipeline_id, loss_reason_id: f.loss_reason_id ?? null,
    source_id: f.source_id ?? null,
    created_by: f.created_by ?? 0, updated_by: f.updated_by ?? 0,
    created_at: f.created_at, updated_at: f.updated_at ?? f.created_at,
    closed_at: f.closed_at ?? null, closest_task_at: f.closest_task_at ?? null,
    is_deleted: false, deleted_at: null, deleted_by: null,
    score: null, labor_cost: null, is_price_modified_by_robot: false,
    cf: f.cf ?? {}, tags: f.tags ?? [], contacts: f.contacts ?? [],
    company_id: f.company_id ?? null, catalog_elements: f.catalog_elements ?? [],
  };
}

export function newContact(f) {
  return {
    id: f.id, name: f.name ?? '', first_name: f.first_name ?? '', last_name: f.last_name ?? '',
    responsible_user_id: f.responsible_user_id, group_id: f.group_id ?? 0,
    created_by: f.created_by ?? 0, updated_by: f.updated_by ?? 0,
    created_at: f.created_at, updated_at: f.updated_at ?? f.created_at,
    closest_task_at: null, is_deleted: false, cf: f.cf ?? {}, tags: f.tags ?? [], company_id: f.company_id ?? null,
    catalog_elements: f.catalog_elements ?? [], in_unsorted: f.in_unsorted ?? null,
  };
}

export function newCompany(f) {
  return {
    id: f.id, name: f.name ?? '', responsible_user_id: f.responsible_user_id, group_id: f.group_id ?? 0,
    created_by: f.created_by ?? 0, updated_by: f.updated_by ?? 0,
    created_at: f.created_at, updated_at: f.updated_at ?? f.created_at,
    closest_task_at: null, is_deleted: false, cf: f.cf ?? {}, tags: f.tags ?? [],
    catalog_elements: f.catalog_elements ?? [], in_unsorted: f.in_unsorted ?? null,
  };
}

export function newCustomer(f) {
  return {
    id: f.id, name: f.name ?? '', next_price: f.next_price ?? 0, next_date: f.next_date ?? null,
    responsible_user_id: f.responsible_user_id, group_id: f.group_id ?? 0, status_id: f.status_id ?? null,
    periodicity: f.periodicity ?? 0, created_by: f.created_by ?? 0, updated_by: f.updated_by ?? 0,
    created_at: f.created_at, updated_at: f.updated_at ?? f.created_at, closest_task_at: null, is_deleted: false,
    cf: f.cf ?? {}, tags: f.tags ?? [], segments: f.segments ?? [], contacts: f.contacts ?? [], company_id: f.company_id ?? null,
    catalog_elements: f.catalog_elements ?? [], ltv: 0, purchases_count: 0, average_check: 0,
  };
}

/** Stores a note and indexes it under its entity (`entity_type`, default leads). */
export function addNote(state, note) {
  note.entity_type ??= 'leads';
  state.data.notes.set(note.id, note);
  const idx = state.data.notesBy[note.entity_type];
  let list = idx.get(note.entity_id);
  if (!list) idx.set(note.entity_id, (list = []));
  list.push(note.id);
  return note;
}

/** Finds or creates a tag by name (case-insensitive, as amoCRM treats tag names). */
export function ensureTag(state, entity, name) {
  const idx = state.data.tagIndex[entity];
  const key = name.trim().toLowerCase();
  const found = idx.get(key);
  if (found) return state.data.tags[entity].get(found);
  const tag = { id: nextId(state, 'tag'), name: name.trim(), color: null };
  state.data.tags[entity].set(tag.id, tag);
  idx.set(key, tag.id);
  return tag;
}
