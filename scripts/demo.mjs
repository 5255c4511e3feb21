#!/usr/bin/env node
// `npm run demo`: the package in a real n8n against the local amoCRM
// emulator, from a clean clone, with no amoCRM account.
//
//   1. sets up and builds what is missing (Rust target and tools, npm
//      packages, n8n in a cache outside the repo)
//   2. starts the emulator on 127.0.0.1 with realistic data: pipelines and
//      statuses, custom fields, some hundreds of leads with contacts,
//      companies and notes
//   3. starts n8n on a free 127.0.0.1 port with the package installed, an
//      owner account, ready credentials and example workflows
//   4. prints where to go and what to click; Ctrl-C stops everything
//
// Usage: npm run demo [-- --n8n 2.8.4] [--port N] [--no-build]
//        --ready-file F writes {url, email, password, workflows} to F once ready (for tests).

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { ROOT, fmtMs } from './lib/proc.mjs';

const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const version = flag('--n8n') ?? '2.40.7';
const readyFile = flag('--ready-file');

const OWNER = { email: 'demo@amocrm-kommo.dev', firstName: 'Demo', lastName: 'User', password: 'Demo-amoCRM-2026' };
const log = (...a) => console.log('[demo]', ...a);
const t0 = Date.now();

let emulator;
let n8n;
let stopping = false;

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  log('stopping n8n and the emulator…');
  try {
    await n8n?.cleanup();
  } finally {
    await emulator?.close();
    if (readyFile) fs.rmSync(readyFile, { force: true });
    log('stopped.');
    process.exit(code);
  }
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

const LEAD = 'n8n-nodes-amocrm-kommo.amoCrmLead';
const CONTACT = 'n8n-nodes-amocrm-kommo.amoCrmContact';
const INCOMING = 'n8n-nodes-amocrm-kommo.amoCrmIncomingLead';
const TASK = 'n8n-nodes-amocrm-kommo.amoCrmTask';
/** The demo account's second user, Мария Иванова: the recipe's manager. */
const MANAGER = 8000002;
/** The emulator's demo data: the Sales pipeline's second stage. */
const FIRST_STAGE = 61000002;
const TRIGGER = 'n8n-nodes-amocrm-kommo.amoCrmTrigger';
const EVENTS_TRIGGER = 'n8n-nodes-amocrm-kommo.amoCrmEventsTrigger';
const node = (name, type, position, parameters, credentials, extra = {}) => ({ id: randomUUID(), name, type, typeVersion: 1, position, parameters, credentials, ...extra });
const manual = () => node('When clicking ‘Execute workflow’', 'n8n-nodes-base.manualTrigger', [0, 0], {});
const link = (from, to) => ({ [from]: { main: [[{ node: to, type: 'main', index: 0 }]] } });
/** A Set node holding `{key: list}`, and a Split Out node making one item per entry. */
const listOf = (name, splitName, key, list, x = 220) => [
  { id: randomUUID(), name, type: 'n8n-nodes-base.set', typeVersion: 3.4, position: [x, 0], parameters: { mode: 'raw', jsonOutput: JSON.stringify({ [key]: list }), options: {} } },
  { id: randomUUID(), name: splitName, type: 'n8n-nodes-base.splitOut', typeVersion: 1, position: [x + 220, 0], parameters: { fieldToSplitOut: key, options: {} } },
];

function exampleWorkflows({ credential, leadId, pipelineId, statusId }) {
  const creds = { amoCrmKommoApi: { id: credential, name: 'amoCRM demo (long-lived token)' } };
  const m = manual();
  const get = node('Get lead with contacts', LEAD, [260, 0], {
    authentication: 'amoCrmKommoApi',
    operation: 'get',
    leadId: { __rl: true, mode: 'id', value: String(leadId) },
    with: ['contacts', 'loss_reason'],
  }, creds);
  const m2 = manual();
  const many = node('Won leads of the Sales pipeline', LEAD, [260, 0], {
    authentication: 'amoCrmKommoApi',
    operation: 'getMany',
    returnAll: true,
    simplify: true,
    filters: { statuses: [`${pipelineId}:${statusId}`] },
    options: {},
  }, creds);
  const m3 = manual();
  const [list, split] = listOf('A list of new leads', 'One item per lead', 'leads', [
    { name: 'Website order #1042', price: 120000, tags: 'website' },
    { name: 'Call-back request: Petrova', price: 45000, tags: 'phone' },
    { name: 'Partner referral: Acme LLC', price: 380000, tags: 'partner, vip' },
  ]);
  const create = node('Create leads', LEAD, [660, 0], {
    authentication: 'amoCrmKommoApi',
    operation: 'create',
    name: '={{ $json.name }}',
    additionalFields: { price: '={{ $json.price }}', tags: '={{ $json.tags }}', status: `${pipelineId}:${FIRST_STAGE}` },
    customFields: { mappingMode: 'defineBelow', value: null },
    options: {},
  }, creds);
  const trigger = node('When a lead changes status', TRIGGER, [0, 0], { authentication: 'amoCrmKommoApi', events: ['status_lead', 'add_lead'], options: {} }, creds, { webhookId: randomUUID() });
  // The polling trigger: reads the emulator's event feed every minute, so it
  // works where amoCRM could not reach n8n (a laptop, a private network).
  const poller = node('New lead events (polled)', EVENTS_TRIGGER, [0, 0], {
    authentication: 'amoCrmKommoApi',
    events: ['lead_added', 'lead_status_changed'],
    entities: ['lead'],
    startFrom: 'now',
    options: { fetchFullRecords: true, simplify: true },
    pollTimes: { item: [{ mode: 'everyMinute' }] },
  }, creds);
  // The recipe: a web form's submissions → the contact, found by phone or
  // e-mail or created → a lead linked to it. John Smith is in the demo
  // account with another spelling of this phone; Lucy Gray is new.
  const m5 = manual();
  const [form, oneEach] = listOf('Form submissions', 'One item per submission', 'submissions', [
    { name: 'John Smith', phone: '8 900 123 45 67', email: 'john.smith@example.com', message: 'Please call me back about the Pro licence' },
    { name: 'Lucy Gray', phone: '+7 (921) 555-01-02', email: 'lucy.gray@example.org', message: 'I would like a demo' },
  ]);
  const findContact = node('Find or create the contact', CONTACT, [660, 0], {
    authentication: 'amoCrmKommoApi',
    operation: 'findOrCreate',
    phone: '={{ $json.phone }}',
    email: '={{ $json.email }}',
    name: '={{ $json.name }}',
    additionalFields: {},
    options: {},
  }, creds);
  const leadForContact = node('Create a lead for the contact', LEAD, [880, 0], {
    authentication: 'amoCrmKommoApi',
    operation: 'create',
    name: "={{ 'Web form: ' + $('One item per submission').item.json.message }}",
    additionalFields: { contactIds: '={{ $json.id }}', status: `${pipelineId}:${FIRST_STAGE}`, tags: 'website' },
    customFields: { mappingMode: 'defineBelow', value: null },
    options: {},
  }, creds);
  // The recipe with incoming leads: a web form's submissions wait in
  // "unsorted", are accepted, and the lead's responsible user gets a task.
  // The task is made with the Lead node's Custom API Call (POST
  // /api/v4/tasks) until the AmoCRM Task node takes its place.
  const m6 = manual();
  const [requests, oneRequest] = listOf('Form requests', 'One item per request', 'requests', [
    { name: 'Anna Petrova', phone: '+7 921 555-11-22', ip: '192.0.2.21', message: 'Please call me about the Pro licence' },
    { name: 'Tom Baker', phone: '+44 20 7946 0000', ip: '192.0.2.22', message: 'A quote for 20 seats, please' },
  ]);
  const incoming = node('Incoming lead from the form', INCOMING, [660, 0], {
    authentication: 'amoCrmKommoApi',
    resource: 'unsorted',
    operation: 'createForm',
    formId: 'callback',
    formName: 'Call me back',
    formPage: 'https://example.com/contacts',
    ip: '={{ $json.ip }}',
    pipelineId: pipelineId,
    name: '={{ $json.message }}',
    contact: { name: '={{ $json.name }}', phone: '={{ $json.phone }}' },
    additionalFields: { responsibleUserId: MANAGER, tags: 'website' },
    customFields: { mappingMode: 'defineBelow', value: null },
    options: { sourceName: 'example.com' },
  }, creds);
  const accept = node('Accept into Sales', INCOMING, [880, 0], {
    authentication: 'amoCrmKommoApi',
    resource: 'unsorted',
    operation: 'accept',
    uid: '={{ $json.uid }}',
    status: `${pipelineId}:${FIRST_STAGE}`,
  }, creds);
  const theLead = node('Get the lead', LEAD, [1100, 0], {
    authentication: 'amoCrmKommoApi',
    operation: 'get',
    leadId: { __rl: true, mode: 'id', value: '={{ $json.lead_id }}' },
    with: [],
  }, creds);
  const task = node('Call-back task for the responsible user', TASK, [1320, 0], {
    authentication: 'amoCrmKommoApi',
    operation: 'create',
    text: "={{ 'Call back about: ' + $json.name }}",
    deadline: 'inHours',
    deadlineHours: 1,
    attachTo: 'leads',
    leadId: { __rl: true, mode: 'id', value: '={{ $json.id }}' },
    additionalFields: { responsibleUserId: '={{ $json.responsible_user_id }}' },
  }, creds);
  return [
    { name: '1. Get a lead with its contacts', nodes: [m, get], connections: link(m.name, get.name), settings: { executionOrder: 'v1' } },
    { name: '2. Leads in a status (won, Sales)', nodes: [m2, many], connections: link(m2.name, many.name), settings: { executionOrder: 'v1' } },
    {
      name: '3. Create leads from a list',
      nodes: [m3, list, split, create],
      connections: { ...link(m3.name, list.name), ...link(list.name, split.name), ...link(split.name, create.name) },
      settings: { executionOrder: 'v1' },
    },
    { name: '4. Trigger: lead status changed (activate me)', nodes: [trigger], connections: {}, settings: { executionOrder: 'v1' } },
    {
      name: '5. Web form → find or create the contact → lead',
      nodes: [m5, form, oneEach, findContact, leadForContact],
      connections: {
        ...link(m5.name, form.name),
        ...link(form.name, oneEach.name),
        ...link(oneEach.name, findContact.name),
        ...link(findContact.name, leadForContact.name),
      },
      settings: { executionOrder: 'v1' },
    },
    {
      name: '6. Web form → incoming lead → accept → task for the responsible user',
      nodes: [m6, requests, oneRequest, incoming, accept, theLead, task],
      connections: {
        ...link(m6.name, requests.name),
        ...link(requests.name, oneRequest.name),
        ...link(oneRequest.name, incoming.name),
        ...link(incoming.name, accept.name),
        ...link(accept.name, theLead.name),
        ...link(theLead.name, task.name),
      },
      settings: { executionOrder: 'v1' },
    },
    { name: '7. Polling trigger: new and moved leads, no public URL (activate me)', nodes: [poller], connections: {}, settings: { executionOrder: 'v1' } },
  ];
}

try {
  const { ensureN8n, getFreePort, createN8nInstance, npmPack } = await import('../tests/e2e/harness/index.mjs');
  const { startEmulator } = await import('../tests/emulator/server.mjs');
  // n8n installs into the cache (about ten minutes the first time) while the
  // package is set up and built.
  log(`n8n ${version}: installing into the cache if missing (first time: about 10 minutes)…`);
  const n8nReady = ensureN8n(version);
  n8nReady.catch(() => {});
  if (!argv.includes('--no-build')) {
    const { build } = await import('./build.mjs');
    const { setup } = await import('./setup.mjs');
    log('setting up and building the package (quick when nothing changed)…');
    await setup();
    await build({ skipSetup: true });
  }
  await n8nReady;

  const port = Number(flag('--port') ?? (await getFreePort()));
  const n8nUrl = `http://127.0.0.1:${port}`;
  emulator = await startEmulator({
    seed: 'demo',
    rateLimit: 7,
    quiet: true,
    // The demo integration's redirect URI is this n8n's OAuth callback, so
    // the OAuth2 credential's Connect button works.
    redirectUri: `${n8nUrl}/rest/oauth2-credential/callback`,
  });
  const admin = async (method, p, body) => {
    const res = await fetch(`${emulator.url}/_admin${p}`, { method, headers: { 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    return res.json();
  };
  const { token } = await admin('POST', '/long-lived-token', { expiresInSeconds: 365 * 86400 });
  const leads = await (await fetch(`${emulator.url}/api/v4/leads?limit=1&with=contacts&order[id]=asc`, { headers: { authorization: `Bearer ${token}` } })).json();
  const leadId = leads._embedded.leads[0].id;
  log(`emulator ready at ${emulator.url} (${(await admin('GET', '/leads/count')).count} leads)`);

  const tarballDir = fs.mkdtempSync(`${ROOT}/target/demo-pack-`);
  const tarball = await npmPack(ROOT, tarballDir);
  n8n = await createN8nInstance({ version, packageTarball: tarball });
  fs.rmSync(tarballDir, { recursive: true, force: true });
  const integration = emulator.state.integration;
  const { code } = await admin('POST', '/oauth/code', { expiresInSeconds: 3600 });
  const [longLived] = await n8n.importCredentials([
    {
      name: 'amoCRM demo (long-lived token)',
      type: 'amoCrmKommoApi',
      data: { environment: 'local', baseUrl: emulator.url, connectionType: 'longLivedToken', longLivedToken: token, requestsPerSecond: 7 },
    },
    {
      name: 'amoCRM demo (OAuth, renewed automatically)',
      type: 'amoCrmKommoApi',
      data: {
        environment: 'local',
        baseUrl: emulator.url,
        connectionType: 'oauth',
        clientId: integration.clientId,
        clientSecret: integration.clientSecret,
        redirectUri: integration.redirectUri,
        authorizationCode: code,
        requestsPerSecond: 7,
      },
    },
    {
      name: 'amoCRM demo (OAuth2 Connect button)',
      type: 'amoCrmKommoOAuth2Api',
      data: { environment: 'local', localPort: emulator.port, clientId: integration.clientId, clientSecret: integration.clientSecret, requestsPerSecond: 7 },
    },
  ]);
  const workflows = await n8n.importWorkflow(exampleWorkflows({ credential: longLived, leadId, pipelineId: 7000001, statusId: 142 }));

  const server = await n8n.start({ port });
  await server.setupOwner(OWNER);
  const ready = { url: server.url, email: OWNER.email, password: OWNER.password, emulator: emulator.url, workflows };
  if (readyFile) fs.writeFileSync(readyFile, JSON.stringify(ready));

  console.log(`
  ──────────────────────────────────────────────────────────────────────
   amoCRM nodes demo is ready (${fmtMs(Date.now() - t0)})

   n8n ${version}:      ${server.url}
   log in as:      ${OWNER.email}  /  ${OWNER.password}
   amoCRM emulator ${emulator.url}  (account "demo", 7 requests/second)

   The example workflows: ${server.url}/home/workflows
     1. Get a lead with its contacts      → click "Execute workflow"
     2. Leads in a status (won, Sales)    → "Execute workflow": every won lead, simplified
     3. Create leads from a list          → three leads, created in one request
     4. Trigger: lead status changed      → toggle it active: it subscribes to the
        emulator's webhooks; move a lead with
        curl -X PATCH ${emulator.url}/_admin/leads/${leadId} -H 'content-type: application/json' -d '{"status_id":142}'
     5. Web form → contact → lead         → John Smith is found by his phone, Lucy Gray
        is created; each gets a new lead linked to the contact
     6. Web form → incoming lead → accept → task: two requests wait in "unsorted",
        are accepted into Sales, and their manager gets a call-back task each
     7. Polling trigger (no public URL)   → toggle it active: every minute it reads the
        emulator's event feed and runs once per new batch, each lead event with
        its lead; create a lead with
        curl -X POST ${emulator.url}/_admin/leads -H 'content-type: application/json' -d '{"name":"Polled"}'
   Credentials (${server.url}/home/credentials): a long-lived token, OAuth
   renewed by the node, and OAuth2 with n8n's Connect button (click Connect,
   then Allow).

   Ctrl-C stops n8n and the emulator.
  ──────────────────────────────────────────────────────────────────────
`);
  // Stay up until a signal arrives.
  await new Promise(() => {});
} catch (error) {
  console.error(`[demo] failed: ${error.stack ?? error.message}`);
  await stop(1);
}
