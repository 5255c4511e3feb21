// What the browser tests share: headless Debian Chromium driven by
// playwright-core (never a browser download), a test wrapper that saves a
// screenshot and the page's HTML of every failed step, and small helpers for
// n8n 2.40.7's editor, found by inspecting the real editor. Selectors are the
// data-test-id attributes n8n puts on its editor (see README.md here).

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { chromium } from 'playwright-core';

import { CHROMIUM_ARGS, ensureChromium } from '../../scripts/browser.mjs';
import { ROOT } from '../package-nodes.mjs';

export const ARTIFACTS = path.join(ROOT, 'target', 'browser');

/** The current page of the suite, for failure screenshots. */
let current = null;

export async function launch() {
  const executablePath = await ensureChromium();
  const browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS], headless: true });
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  // "Leave without saving?" and similar: go on.
  page.on('dialog', (d) => d.accept().catch(() => {}));
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  current = page;
  return { browser, context, page, errors };
}

const slug = (name) => name.replace(/[^\w.-]+/g, '-').replace(/^-|-$/g, '').slice(0, 120);

/** Saves target/browser/<test name>.png and .html; returns their paths. */
export async function saveArtifacts(name, page = current) {
  if (!page || page.isClosed()) return null;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const base = path.join(ARTIFACTS, slug(name));
  const out = { png: `${base}.png`, html: `${base}.html` };
  await page.screenshot({ path: out.png, fullPage: false, timeout: 10_000 }).catch((e) => (out.png = `(no screenshot: ${e.message})`));
  await page
    .content()
    .then((html) => fs.writeFileSync(out.html, html))
    .catch((e) => (out.html = `(no HTML: ${e.message})`));
  return out;
}

/**
 * A test step of the suite. On failure it saves a screenshot and the page's
 * HTML under target/browser/<test name>.{png,html} and names them in the
 * failure message (and as a TAP diagnostic).
 */
export function uiTest(name, fn, { timeout = 120_000, ...options } = {}) {
  return test(name, { timeout, ...options }, async (t) => {
    try {
      await fn(t);
    } catch (error) {
      const files = await saveArtifacts(name).catch(() => null);
      if (files) {
        const where = `screenshot: ${path.relative(ROOT, files.png)}  page: ${path.relative(ROOT, files.html)}`;
        t.diagnostic(where);
        console.log(`[browser] "${name}" failed; ${where}`);
        if (error && typeof error === 'object') {
          try {
            error.message = `${error.message}\n[${where}]`;
          } catch {}
        }
      }
      throw error;
    }
  });
}

export const byTestId = (id) => `[data-test-id="${id}"]`;
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
export const exactly = (text) => new RegExp(`^\\s*${esc(text)}\\s*$`);
export const norm = (s) => s.replace(/\s+/g, ' ').trim().toLowerCase();

/** n8n's sign-in page. */
export async function signIn(page, url, { email, password }) {
  await page.goto(`${url}/signin`);
  await page.locator(`${byTestId('emailOrLdapLoginId')} input`).fill(email);
  await page.locator(`${byTestId('password')} input`).fill(password);
  await page.locator(byTestId('form-submit-button')).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
}

/** A new, empty workflow in the editor, its canvas ready. */
export async function newWorkflow(page, url) {
  await page.goto(`${url}/workflow/new`);
  await page.locator(byTestId('canvas-add-button')).or(page.locator(byTestId('canvas-plus-button'))).first().waitFor();
}

/** Opens the node panel (node creator) and types `query` into its search. */
export async function searchNodePanel(page, query) {
  await page.locator(byTestId('node-creator-plus-button')).click();
  const search = page.locator(byTestId('node-creator-search-bar'));
  await search.waitFor();
  await search.fill(query);
  return page.locator(byTestId('node-creator'));
}

/** A node's entry in the node panel's list, by node type. */
export const nodePanelItem = (page, type) =>
  page.locator(`${byTestId('item-iterator-item')}[data-keyboard-nav-id^="${type}-"]`);

/**
 * The actions the node panel lists for the node whose entry was just clicked
 * (the "Actions" / "Triggers" of its details view). Waits a moment for them,
 * since a node without actions shows none at all.
 */
export async function listedActions(page, { waitMs = 3_000 } = {}) {
  const names = page.locator(`${byTestId('node-creator')} [data-keyboard-nav-type="action"] ${byTestId('node-creator-item-name')}`);
  await names.first().waitFor({ timeout: waitMs }).catch(() => {});
  // The panel renders a long list (a trigger's 60 events) as you scroll:
  // scroll to the last rendered item until nothing new appears.
  const seen = [];
  for (let round = 0; round < 20; round++) {
    const now = (await names.allInnerTexts()).map((s) => s.trim());
    const fresh = now.filter((n) => !seen.includes(n));
    if (round > 0 && fresh.length === 0) break;
    seen.push(...fresh);
    if (now.length === 0) break;
    await names.last().scrollIntoViewIfNeeded().catch(() => {});
    await page.waitForTimeout(150);
  }
  return seen;
}

/** The open node details view (NDV). */
export const ndv = (page) => page.locator(byTestId('ndv'));

/** The visible options of the dropdown that is open now. */
export const openOptions = (page) => page.locator(`${byTestId('parameter-input-item')}:visible`);

/** Picks option `name` of an options parameter (by its headline). */
export async function chooseOption(page, parameter, name) {
  const input = page.locator(byTestId(`parameter-input-${parameter}`));
  const now = await input.locator('input').first().inputValue().catch(() => null);
  if (now === name) return;
  await input.click();
  await openOptions(page)
    .filter({ has: page.locator('.option-headline', { hasText: exactly(name) }) })
    .first()
    .click();
}

/**
 * Opens an options parameter's dropdown and waits for its options: clicks
 * again when a click landed while the list was still loading (it then does
 * not open). Resolves with the option headlines, or [] when none came.
 */
export async function openDropdown(page, parameter, { timeoutMs = 30_000 } = {}) {
  const field = page.locator(byTestId(`parameter-input-${parameter}`));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await openOptions(page).count()) return openOptions(page).locator('.option-headline').allInnerTexts();
    const placeholder = (await field.locator('input').first().getAttribute('placeholder').catch(() => '')) ?? '';
    if (/rror/.test(placeholder)) return [];
    if (!/loading/i.test(placeholder)) await field.click();
    await openOptions(page).first().waitFor({ timeout: 2_000 }).catch(() => {});
  }
  return [];
}

/** Chooses a credential in the node's credential dropdown, by its ID. */
export async function chooseCredential(page, credentialId) {
  await page.locator(byTestId('node-credentials-select')).click();
  await page.locator(byTestId(`node-credentials-select-item-${credentialId}`)).click();
}

/** Adds a field of a collection ("Additional Fields") by its display name. */
export async function addCollectionField(page, displayName) {
  await page.locator(byTestId('collection-parameter-add')).first().click();
  await page.locator(`${byTestId('collection-parameter-option')}:visible`, { hasText: exactly(displayName) }).click();
}

/** Polls `read()` until `done(value)` or the time is up; returns the last value. */
export async function settle(read, done, { timeoutMs = 30_000, everyMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, everyMs));
    value = await read();
  }
  return value;
}
