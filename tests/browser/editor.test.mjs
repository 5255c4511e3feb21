// The package in n8n 2.40.7's editor, in headless Chromium, as a user meets
// it: the demo (`npm run demo`: the amoCRM emulator with demo data and a real
// n8n with the package, an owner and three credentials), then, one test per
// step: sign in, see what an OAuth2 credential that was never connected
// says, find the nodes and their actions in the node panel, add AmoCRM Lead,
// use its lead picker, status dropdown and custom-field mapper, execute it.
// What the panel and the mapper must show is read from the built node
// descriptions (dist/) and from the emulator's account, not typed in here.
//
// A failed step leaves target/browser/<test name>.png and .html.
// Run: npm run build && node --test tests/browser/

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe } from 'node:test';

import { Amo } from '../e2e/support.mjs';
import { RestClient } from '../e2e/harness/rest.mjs';
import { operation, packageNodes } from '../package-nodes.mjs';
import { startDemo } from './demo.mjs';
import {
  addCollectionField,
  byTestId,
  chooseCredential,
  chooseOption,
  launch,
  listedActions,
  ndv,
  newWorkflow,
  nodePanelItem,
  norm,
  openDropdown,
  openOptions,
  searchNodePanel,
  settle,
  signIn,
  uiTest,
} from './support.mjs';

const VERSION = '2.40.7';
const NODES = packageNodes();
const LEAD = NODES.find((n) => n.name === 'amoCrmLead');

/** The node parameter `name` of an operation, looked for in collections too. */
function findProperty(properties, name, operationValue) {
  for (const p of properties) {
    const ops = p.displayOptions?.show?.operation;
    if (ops && !ops.includes(operationValue)) continue;
    if (p.name === name) return p;
    const inner = Array.isArray(p.options) && p.options.every((o) => typeof o === 'object' && 'displayName' in o) ? p.options : null;
    const found = inner && findProperty(inner, name, operationValue);
    if (found) return found;
  }
  return undefined;
}

/** The input the mapper should give each amoCRM custom field type (README: Custom fields). */
function expectedInput(amoType) {
  if (amoType === 'checkbox') return 'boolean';
  if (amoType === 'numeric') return 'number';
  if (['date', 'date_time', 'birthday'].includes(amoType)) return 'dateTime';
  if (['select', 'radiobutton'].includes(amoType)) return 'options';
  return 'string';
}

describe(`n8n ${VERSION} editor, headless Chromium`, { concurrency: 1 }, () => {
  let demo;
  let browser;
  let page;
  let amo;
  let token;
  let credentials;
  let demoWorkflowName;
  let fallbackWorkflow;
  let unconnectedWorkflow;
  /** A lead that is not on the picker's first page, and its name. */
  let target;
  let customFields;
  let pipelines;

  before(async () => {
    const t0 = Date.now();
    [demo, { browser, page }] = await Promise.all([startDemo({ version: VERSION }), launch()]);
    console.log(`[browser] demo ready in ${(demo.startMs / 1000).toFixed(1)} s at ${demo.url}`);
    amo = new Amo({ url: demo.emulator });
    token = await amo.longLivedToken();
    const sample = await amo.api(token, 'GET', '/api/v4/leads?limit=1&page=7&order[id]=asc');
    target = sample.body._embedded.leads[0];
    customFields = (await amo.api(token, 'GET', '/api/v4/leads/custom_fields?limit=250')).body._embedded.custom_fields;
    pipelines = (await amo.api(token, 'GET', '/api/v4/leads/pipelines')).body._embedded.pipelines;

    const rest = new RestClient(demo.url);
    await rest.post('/rest/login', { emailOrLdapLoginId: demo.email, password: demo.password });
    demoWorkflowName = (await rest.get(`/rest/workflows/${demo.workflows[0]}`)).name;
    const list = await rest.get('/rest/credentials');
    const byType = (type, re) => list.find((c) => c.type === type && (!re || re.test(c.name)));
    credentials = {
      longLived: byType('amoCrmKommoApi', /long-lived/i),
      connectButton: byType('amoCrmKommoOAuth2Api'),
    };
    assert.ok(credentials.longLived && credentials.connectButton, `demo credentials: ${JSON.stringify(list.map((c) => c.name))}`);
    const workflowWithLead = (name, parameters, credentialType, credential) =>
      rest.post('/rest/workflows', {
        name,
        nodes: [
          {
            id: randomUUID(),
            name: LEAD.defaultName,
            type: LEAD.type,
            typeVersion: 1,
            position: [0, 0],
            parameters: { authentication: credentialType, ...parameters },
            credentials: { [credentialType]: { id: credential.id, name: credential.name } },
          },
        ],
        connections: {},
        settings: { executionOrder: 'v1' },
      });
    // For the steps after "add": a workflow that already holds the node, in
    // case adding it through the panel failed.
    fallbackWorkflow = await workflowWithLead('Browser test: AmoCRM Lead', { operation: 'get' }, 'amoCrmKommoApi', credentials.longLived);
    // A node that has never loaded anything, with the Connect-button
    // credential (n8n keeps a mapper's fields in the node once loaded, so a
    // node that loaded them with another credential would not ask again).
    unconnectedWorkflow = await workflowWithLead(
      'Browser test: AmoCRM Lead, OAuth2 never connected',
      { operation: 'create' },
      'amoCrmKommoOAuth2Api',
      credentials.connectButton,
    );
    console.log(`[browser] set-up took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  /**
   * The details view of an AmoCRM Lead node with the long-lived credential:
   * the one added in the "add" step when it is open, else the set-up's.
   */
  async function leadNode({ credential = credentials.longLived } = {}) {
    const open = (await ndv(page).isVisible()) && (await page.locator(byTestId('parameter-input-operation')).isVisible());
    if (!open) await openNode(fallbackWorkflow.id);
    await closeDropdowns();
    const shown = await page.locator(`${byTestId('node-credentials-select')} input`).first().inputValue();
    if (shown !== credential.name) await chooseCredential(page, credential.id);
    return ndv(page);
  }

  /** Opens a saved workflow and its AmoCRM Lead node. */
  async function openNode(workflowId) {
    await page.goto(`${demo.url}/workflow/${workflowId}`);
    await page.locator(`${byTestId('canvas-node')}[data-node-type="${LEAD.type}"]`).dblclick();
    await ndv(page).waitFor();
    await page.locator(byTestId('parameter-input-operation')).waitFor();
  }

  /**
   * Closes an open dropdown by clicking beside it, in the node view's empty
   * input pane (Escape would close the node view as well).
   */
  async function closeDropdowns() {
    const open = page.locator('.el-select-dropdown:visible, [role="menu"][data-state="open"], [data-test-id="rlc-search"]:visible');
    if (await open.count()) await page.locator(byTestId('ndv-input-panel')).click({ position: { x: 12, y: 300 }, force: true });
  }

  async function selectLeadMode(mode) {
    const selector = page.locator(byTestId('rlc-mode-selector'));
    await selector.click();
    await page.locator(`${byTestId(`mode-${mode}`)}:visible`).click();
  }

  uiTest('sign in with the demo owner', async () => {
    await signIn(page, demo.url, demo);
    await page.locator(byTestId('project-home-menu-item')).waitFor();
    // The demo's example workflows are listed.
    await page.getByText(demoWorkflowName, { exact: true }).first().waitFor();
  });

  uiTest(
    `${LEAD.displayName}: with an OAuth2 "Connect button" credential never connected, the lookups say it is not connected yet and to click Connect`,
    async (t) => {
      // First among the node's steps: the core keeps an account's custom
      // fields and pipelines for 60 s per account (not per credential), so
      // after the long-lived credential has loaded them, a lookup through this
      // credential would be answered from that memory instead of failing.
      // Each lookup is awaited by its request, then the editor's answer read.
      const lookup = (kind, method) =>
        page
          .waitForResponse((r) => r.url().includes(`/rest/dynamic-node-parameters/${kind}`) && (!method || (r.request().postData() ?? '').includes(method)), { timeout: 90_000 })
          .then(async (r) => ({ status: r.status(), body: (await r.text()).slice(0, 400) }))
          .catch((e) => ({ status: 0, body: e.message }));
      const mapperAnswer = lookup('resource-mapper-fields');
      await openNode(unconnectedWorkflow.id);
      assert.equal(await page.locator(`${byTestId('node-credentials-select')} input`).first().inputValue(), credentials.connectButton.name);
      const said = {};
      const saysNotConnected = (t) => /not (yet )?(been )?connected/i.test(t) && /click[^.]*\bconnect\b/i.test(t);

      // The custom-field mapper (Create).
      const mapper = page.locator(byTestId('resource-mapper-container'));
      await mapper.waitFor();
      const mapperResponse = await mapperAnswer;
      said.mapper = await settle(() => mapper.innerText(), (t) => !/fetching/i.test(t), { timeoutMs: 30_000 });

      // The status dropdown (Create › Additional Fields › Status): an error
      // shows as "Error fetching options…" in the input and the message in
      // the tooltip of the warning icon beside it.
      const status = findProperty(LEAD.description.properties, 'status', 'create');
      const statusAnswer = lookup('options', 'getStatuses');
      if (!(await page.locator(byTestId('parameter-input-status')).count())) await addCollectionField(page, status.displayName);
      const field = page.locator(byTestId('parameter-input-status'));
      const statusResponse = await statusAnswer;
      await openDropdown(page, 'status');
      const issues = page.locator(`${byTestId('parameter-item')}:has(${byTestId('parameter-input-status')}) ${byTestId('parameter-issues')}`);
      let statusText = (await field.locator('input').first().getAttribute('placeholder').catch(() => '')) ?? '';
      statusText += ` ${(await openOptions(page).allInnerTexts()).join(' ')}`;
      await closeDropdowns();
      if (await issues.count()) {
        await issues.first().hover();
        const tip = page.locator(`${byTestId('tooltip-content')}:visible`).last();
        statusText += ` ${await tip.innerText({ timeout: 5_000 }).catch(() => '')}`;
      }
      said.status = statusText.trim();

      // The lead picker (Get › From list).
      await chooseOption(page, 'operation', operation(LEAD, 'get').name);
      const mode = await page.locator(`${byTestId('rlc-mode-selector')} input`).first().inputValue();
      if (!/list/i.test(mode)) await selectLeadMode('list');
      const pickerAnswer = lookup('resource-locator-results');
      await page.locator(byTestId('rlc-input')).click();
      const pickerResponse = await pickerAnswer;
      const resourceLocator = page.locator(byTestId('resource-locator-leadId'));
      said.picker = await settle(
        () => resourceLocator.innerText(),
        (t) => /could not|error|connect/i.test(t) || /#\d+/.test(t),
        { timeoutMs: 60_000 },
      );
      await closeDropdowns();

      const answers = { mapper: mapperResponse, status: statusResponse, picker: pickerResponse };
      for (const [where, r] of Object.entries(answers)) t.diagnostic(`${where}: n8n answered ${r.status}: ${r.body}`);
      const failing = Object.entries(said).filter(([, text]) => !saysNotConnected(text));
      assert.deepEqual(
        failing.map(([where, t]) => `${where}: ${JSON.stringify(t.replace(/\s+/g, ' ').trim())}`),
        [],
        `each lookup must say the credential is not connected yet and to click Connect (n8n's answers: ${JSON.stringify(answers)})`,
      );
    },
    { timeout: 240_000 },
  );

  for (const node of NODES) {
    const kind = node.isTrigger ? 'triggers' : 'actions';
    uiTest(`node panel: searching "amo" lists ${node.displayName} and its ${node.actions.length} ${kind}`, async () => {
      await newWorkflow(page, demo.url);
      await searchNodePanel(page, 'amo');
      const item = nodePanelItem(page, node.type);
      await item.first().waitFor({ timeout: 10_000 });
      assert.equal(await item.count(), 1, `${node.displayName} is listed once`);
      await item.click();
      const shown = await listedActions(page);
      const missing = node.actions.filter((a) => !shown.map(norm).includes(norm(a.action)));
      assert.deepEqual(
        missing.map((a) => a.action),
        [],
        `the node panel lists ${shown.length ? `only ${JSON.stringify(shown)}` : 'no actions at all'} for ${node.displayName}; ` +
          `its ${kind} in the built description: ${JSON.stringify(node.actions.map((a) => a.action))}`,
      );
    });
  }

  uiTest(`add ${LEAD.displayName} to a workflow from the node panel`, async () => {
    await newWorkflow(page, demo.url);
    await searchNodePanel(page, 'amo');
    await nodePanelItem(page, LEAD.type).click();
    const defaultOp = LEAD.description.properties.find((p) => p.name === 'operation').default;
    const actions = await listedActions(page);
    if (actions.length) {
      // With actions, the node is added through one: the default operation's.
      const action = operation(LEAD, defaultOp).action;
      await page
        .locator(`${byTestId('node-creator')} [data-keyboard-nav-type="action"]`)
        .filter({ has: page.locator(byTestId('node-creator-item-name'), { hasText: new RegExp(`^${action}$`, 'i') }) })
        .click();
    } else {
      await page.getByRole('button', { name: 'Add to workflow' }).click();
    }
    await ndv(page).waitFor();
    await page.locator(`${byTestId('canvas-node')}[data-node-type="${LEAD.type}"]`).waitFor({ state: 'attached' });
    await page.locator(byTestId('parameter-input-operation')).waitFor();
    await chooseCredential(page, credentials.longLived.id);
    assert.equal(await page.locator(`${byTestId('node-credentials-select')} input`).first().inputValue(), credentials.longLived.name);
  });

  uiTest(`${LEAD.displayName}: the lead picker's list search returns leads`, async () => {
    await leadNode();
    await chooseOption(page, 'operation', operation(LEAD, 'get').name);
    const mode = await page.locator(`${byTestId('rlc-mode-selector')} input`).first().inputValue();
    if (!/list/i.test(mode)) await selectLeadMode('list');
    await page.locator(byTestId('rlc-input')).click();
    // Something is listed before any search…
    await page.locator(byTestId('rlc-item')).first().waitFor({ timeout: 30_000 });
    // …and a search finds a lead further down the account.
    await page.locator(byTestId('rlc-search')).fill(target.name);
    const wanted = page.locator(byTestId('rlc-item'), { hasText: `#${target.id}` });
    await wanted.first().waitFor({ timeout: 30_000 });
    const items = await page.locator(byTestId('rlc-item')).allInnerTexts();
    const unrelated = items.filter((t) => !norm(t).includes(norm(target.name)));
    assert.deepEqual(unrelated, [], `searching "${target.name}" listed leads that do not match`);
    await wanted.first().click();
    const chosen = await page.locator(byTestId('rlc-input')).inputValue();
    assert.ok(chosen.includes(target.name), `the picker shows the chosen lead, not ${JSON.stringify(chosen)}`);
  });

  uiTest(`${LEAD.displayName}: the status dropdown loads every pipeline's statuses`, async () => {
    await leadNode();
    await chooseOption(page, 'operation', operation(LEAD, 'create').name);
    const status = findProperty(LEAD.description.properties, 'status', 'create');
    assert.ok(status, 'Create has a status field');
    if (!(await page.locator(byTestId('parameter-input-status')).count())) await addCollectionField(page, status.displayName);
    const shown = await openDropdown(page, 'status');
    const expected = pipelines.flatMap((p) => p._embedded.statuses.map((s) => `${p.name} › ${s.name}`));
    assert.deepEqual([...shown].sort(), [...expected].sort());
    await closeDropdowns();
  });

  uiTest(`${LEAD.displayName}: the custom-field mapper lists the account's custom fields with their inputs`, async () => {
    await leadNode();
    await chooseOption(page, 'operation', operation(LEAD, 'create').name);
    const mapper = page.locator(byTestId('resource-mapper-container'));
    await mapper.waitFor();
    const addButton = mapper.locator(byTestId('add-fields-select'));
    const menuItems = page.locator('[role="menu"][data-state="open"] [role="menuitem"]');
    // The fields offered: every custom field of the account.
    await addButton.waitFor({ timeout: 30_000 });
    await addButton.click();
    await menuItems.first().waitFor();
    const offered = (await menuItems.allInnerTexts()).map((s) => s.trim());
    await closeDropdowns();
    const notOffered = customFields.filter((f) => !offered.some((o) => o === f.name || o.startsWith(`${f.name} (`)));
    assert.deepEqual(notOffered.map((f) => f.name), [], `offered: ${JSON.stringify(offered)}`);
    // Each one added shows the input its type needs.
    for (let i = 0; i < customFields.length + 1; i++) {
      if (!(await addButton.isVisible())) break;
      await addButton.click();
      if (!(await menuItems.first().waitFor({ timeout: 2_000 }).then(() => true, () => false))) break;
      await menuItems.first().click();
    }
    const wrong = [];
    for (const f of customFields) {
      const input = page.locator(byTestId(`parameter-input-${f.id}`));
      if (!(await input.count())) {
        wrong.push(`${f.name} (${f.type}): not shown`);
        continue;
      }
      const kind = await input.evaluate((el) => {
        if (el.querySelector('.el-switch, [role="switch"]')) return 'boolean';
        if (el.querySelector('[data-test-id="input-number"], .el-input-number')) return 'number';
        if (el.querySelector('.el-date-editor')) return 'dateTime';
        if (el.querySelector('.el-select, [role="combobox"]')) return 'options';
        return 'string';
      });
      if (kind !== expectedInput(f.type)) {
        wrong.push(`${f.name} (${f.type}): ${kind} input, expected ${expectedInput(f.type)}`);
        continue;
      }
      if (kind === 'options') {
        await input.click();
        await openOptions(page).first().waitFor();
        const choices = await openOptions(page).locator('.option-headline').allInnerTexts();
        await closeDropdowns();
        const values = (f.enums ?? []).map((e) => e.value);
        if (JSON.stringify([...choices].sort()) !== JSON.stringify([...values].sort())) {
          wrong.push(`${f.name} (${f.type}): options ${JSON.stringify(choices)}, expected ${JSON.stringify(values)}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  uiTest(`${LEAD.displayName}: the custom-field mapper speaks of custom fields, never of columns`, async () => {
    await leadNode();
    await chooseOption(page, 'operation', operation(LEAD, 'create').name);
    const mapper = page.locator(byTestId('resource-mapper-container'));
    await mapper.waitFor();
    await settle(() => mapper.innerText(), (t) => !/fetching/i.test(t));
    let said = await mapper.innerText();
    const modes = mapper.locator(byTestId('mapping-mode-select'));
    if (await modes.count()) {
      await modes.click();
      said += `\n${(await page.locator('.el-select-dropdown__item:visible').allInnerTexts()).join('\n')}`;
      await closeDropdowns();
    }
    const columnWords = said.split('\n').filter((l) => /column/i.test(l));
    assert.deepEqual(columnWords, [], 'the mapper names its fields "columns"');
  });

  uiTest(`${LEAD.displayName}: "Execute step" shows the lead in the output panel`, async () => {
    await leadNode();
    await chooseOption(page, 'operation', operation(LEAD, 'get').name);
    await selectLeadMode('id');
    const idInput = page.locator(byTestId('rlc-input'));
    // Typed key by key (n8n takes the value from input events), into an
    // emptied field: a value shown after switching modes may be stale.
    await idInput.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Backspace');
    await page.waitForTimeout(300);
    await idInput.click();
    await idInput.pressSequentially(String(target.id), { delay: 30 });
    await page.waitForTimeout(300);
    assert.equal(await idInput.inputValue(), String(target.id));
    await page.locator(byTestId('node-execute-button')).click();
    const output = page.locator(byTestId('output-panel'));
    const toasts = page.locator('.el-notification:visible');
    await output
      .locator(`${byTestId('node-run-status-success')}, ${byTestId('node-error-message')}`)
      .or(toasts.filter({ hasText: /cannot start|problem|error/i }))
      .first()
      .waitFor({ timeout: 60_000 });
    const text = await settle(() => output.innerText(), (t) => t.includes(String(target.id)), { timeoutMs: 10_000 });
    const notes = (await toasts.allInnerTexts()).join(' | ');
    assert.ok(await output.locator(byTestId('node-run-status-success')).count(), `the step did not succeed: ${notes} ${text.slice(0, 500)}`);
    assert.match(text, /\b1 item\b/, text.slice(0, 500));
    assert.ok(text.includes(String(target.id)), `the output shows lead ${target.id}`);
    assert.ok(text.includes(target.name), `the output shows "${target.name}"`);
  });

});
