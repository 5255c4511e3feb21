// Reading leads in a real n8n against the emulator with amoCRM's limit of 7
// requests per second: Return All over 10,000 leads, the 204 paths, filters
// in bracket syntax, Simplify, and no 429 reaching the output.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Amo, VERSIONS, branches, emulator, leadNode, longLivedCredential, n8nWithPackage, runWorkflow } from './support.mjs';

const SALES = 7000001;
const TOTAL = 10_000;

describe('AmoCRM Lead › reads', { concurrency: 1 }, () => {
  for (const version of VERSIONS) {
    describe(`n8n ${version}`, { concurrency: 1 }, () => {
      /** @type {Amo} */ let amo;
      let n8n;
      let run;
      let stats;
      let expected;

      before(async () => {
        amo = await emulator({ seed: 'base', rateLimit: 7 });
        await amo.admin('POST', '/seed', { leads: TOTAL });
        const token = await amo.longLivedToken();
        // What a hand-written filter finds, page by page, to compare with the node's answer.
        expected = [];
        for (let p = 1; ; p++) {
          const page = await amo.api(token, 'GET', `/api/v4/leads?filter[statuses][0][pipeline_id]=${SALES}&filter[statuses][0][status_id]=142&filter[price][from]=1000&limit=250&page=${p}`);
          if (page.status === 204) break;
          expected.push(...page.body._embedded.leads.map((l) => l.id));
          if (!page.body._links.next) break;
        }
        assert.ok(expected.length > 250, `the filter should span pages (${expected.length})`);
        n8n = await n8nWithPackage(version);
        const [cred] = await n8n.importCredentials([longLivedCredential(amo, token)]);
        const workflow = (
          branches('lead reads', [
            leadNode('All', { operation: 'getMany', returnAll: true, filters: {}, options: {} }, cred),
            leadNode('Nothing', { operation: 'getMany', returnAll: true, query: 'no lead is called like this', filters: {}, options: {} }, cred, { alwaysOutputData: true }),
            leadNode('Filtered', { operation: 'getMany', returnAll: true, filters: { statuses: [`${SALES}:142`], priceFrom: 1000 }, options: {} }, cred, { alwaysOutputData: true }),
            leadNode('Limited and simplified', { operation: 'getMany', returnAll: false, limit: 3, simplify: true, filters: {}, options: { sortBy: 'id', sortDirection: 'desc', with: ['contacts'] } }, cred),
          ])
        );
        await amo.resetStats();
        run = await runWorkflow(n8n, workflow);
        stats = await amo.stats();
      });

      after(async () => {
        await n8n?.cleanup();
        await amo?.close();
      });

      test(`Return All over ${TOTAL.toLocaleString('en')} leads returns exactly ${TOTAL.toLocaleString('en')} distinct leads`, () => {
        const leads = run.json('All');
        assert.equal(leads.length, TOTAL);
        assert.equal(new Set(leads.map((l) => l.id)).size, TOTAL);
      });

      test('the last full page links to a 204 page, which ends the list', async () => {
        const pages = await amo.requests({ route: 'GET /api/v4/leads' });
        const all = pages.filter((r) => /limit=250&page=/.test(r.query ?? '') && !/filter|query/.test(r.query ?? ''));
        const byPage = new Map(all.map((r) => [Number(/page=(\d+)/.exec(r.query)[1]), r.status]));
        assert.equal(byPage.get(40), 200);
        assert.equal(byPage.get(41), 204);
        assert.ok([...byPage.keys()].every((p) => p <= 40 + 4), 'at most a window of pages past the end');
      });

      test('an empty result is no items and no error', () => {
        assert.deepEqual(run.json('Nothing'), [{}]);
        assert.equal(run.nodeError('Nothing'), null);
      });

      test('filters reach amoCRM in bracket syntax and find what a hand-written query finds', async () => {
        const got = run.json('Filtered').filter((l) => l.id).map((l) => l.id);
        assert.deepEqual(got.sort(), expected.sort());
        const reqs = await amo.requests({ route: 'GET /api/v4/leads' });
        assert.ok(reqs.some((r) => decodeURIComponent(r.query ?? '').includes(`filter[statuses][0][pipeline_id]=${SALES}&filter[statuses][0][status_id]=142`)));
      });

      test('a limit reads one page and Simplify flattens each lead', () => {
        const leads = run.json('Limited and simplified');
        assert.equal(leads.length, 3);
        assert.ok(leads[0].id > leads[1].id, 'sorted by id, descending');
        for (const l of leads) {
          assert.equal(l._links, undefined);
          assert.equal(typeof l.custom_fields, 'object');
          assert.ok(Array.isArray(l.tags));
        }
      });

      test('under the 7 requests/second limit no 429 reaches the output, and amoCRM rarely has to send one', () => {
        // Every branch finished with its leads and no error item (checked above
        // for each); a 429 would have been retried after a pause.
        for (const node of ['All', 'Nothing', 'Filtered', 'Limited and simplified']) {
          assert.equal(run.nodeError(node), null, node);
          assert.ok(run.json(node).every((i) => !i.error), node);
        }
        // The budget is paced at the client with a margin for the time between
        // grant and arrival. The emulator serialises pages on one thread, so on
        // a loaded machine requests can bunch up on its side past the margin;
        // each 429 widens it. Without pacing a third of these requests get 429.
        assert.ok(stats.rateLimited <= stats.requests * 0.1, `${stats.rateLimited} rate-limited of ${stats.requests}: ${JSON.stringify(stats.calls)}`);
        assert.ok(stats.requests >= 42, `${stats.requests} requests`);
      });
    });
  }
});
