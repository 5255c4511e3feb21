// `npm run demo` as a newcomer uses it: start it, log in at the printed URL,
// run the example workflows, press Ctrl-C, and nothing is left running.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { RestClient } from './harness/index.mjs';
import { ROOT } from './support.mjs';

const version = (process.env.N8N_E2E_VERSIONS || '2.40.7').split(',')[0].trim();

async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const reachable = (url) =>
  fetch(url).then(
    () => true,
    () => false,
  );

test(`npm run demo (n8n ${version}): ready, example workflows run through n8n, Ctrl-C stops everything`, async () => {
  const readyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'amocrm-demo-')), 'ready.json');
  const child = spawn(process.execPath, ['scripts/demo.mjs', '--no-build', '--n8n', version, '--ready-file', readyFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  try {
    const t0 = Date.now();
    const ready = await waitFor(() => fs.existsSync(readyFile) && JSON.parse(fs.readFileSync(readyFile, 'utf8')), 240_000, `the demo to be ready\n${output}`);
    console.log(`[demo] ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.match(output, new RegExp(`n8n ${version.replace(/\./g, '\\.')}: +${ready.url.replace(/\./g, '\\.')}`));
    assert.match(output, /log in as/);

    const rest = new RestClient(ready.url);
    await rest.post('/rest/login', { emailOrLdapLoginId: ready.email, password: ready.password });
    const results = {};
    // Every example but the triggers (the 4th and the 7th), which start when activated.
    for (const id of ready.workflows.filter((_, i) => i !== 3 && i !== 6)) {
      const wf = await rest.get(`/rest/workflows/${id}`);
      // What "Execute workflow" in the editor sends.
      const run = await rest.post(`/rest/workflows/${id}/run`, { workflowData: wf, triggerToStartFrom: { name: wf.nodes[0].name } });
      const executionId = run.executionId ?? run.data?.executionId;
      const execution = await waitFor(async () => {
        const ex = await rest.get(`/rest/executions/${executionId}`);
        return ex.status && !['new', 'running'].includes(ex.status) && ex;
      }, 60_000, `execution of ${wf.name}`);
      results[wf.name] = execution.status;
    }
    assert.deepEqual(Object.values(results), ['success', 'success', 'success', 'success', 'success'], JSON.stringify(results));
    const created = await fetch(`${ready.emulator}/_admin/stats`).then((r) => r.json());
    assert.equal(created.leadsCreated, 7, 'three leads from the list, two from the web form, two incoming leads');
    // The recipe found John Smith by his phone and created only Lucy Gray.
    const token = (await fetch(`${ready.emulator}/_admin/long-lived-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.json())).token;
    const find = (q) => fetch(`${ready.emulator}/api/v4/contacts?query=${encodeURIComponent(q)}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => (r.status === 204 ? { _embedded: { contacts: [] } } : r.json()));
    const named = async (name) => (await find(name))._embedded.contacts.filter((c) => c.name === name).length;
    assert.equal(await named('John Smith'), 1, 'no second John Smith');
    assert.equal(await named('Lucy Gray'), 1);
    // The incoming leads were accepted, and their manager has a task on each.
    const api = (p) => fetch(`${ready.emulator}${p}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => (r.status === 204 ? null : r.json()));
    const summary = await api('/api/v4/leads/unsorted/summary');
    assert.deepEqual([summary.total, summary.accepted], [2, 2]);
    const tasks = (await api('/api/v4/tasks?filter[responsible_user_id]=8000002&limit=250'))._embedded.tasks.filter((t) => t.text.startsWith('Call back about: '));
    assert.equal(tasks.length, 2);
    assert.ok(tasks.every((t) => t.entity_type === 'leads'));

    // The polling trigger works without a public URL: activated, it emits
    // a lead created afterwards within a minute, with the lead itself.
    const pollId = ready.workflows[6];
    const pollWf = await rest.get(`/rest/workflows/${pollId}`);
    await rest.post(`/rest/workflows/${pollId}/activate`, { versionId: pollWf.versionId });
    await new Promise((r) => setTimeout(r, 2_000));
    await fetch(`${ready.emulator}/_admin/leads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Polled in the demo' }) });
    const polled = await waitFor(async () => {
      const list = await rest.get(`/rest/executions?${new URLSearchParams({ filter: JSON.stringify({ workflowId: pollId }), limit: '10' })}`);
      return (list.results ?? list).find((e) => e.status === 'success');
    }, 150_000, 'a poll of the events trigger');
    const pollRun = await rest.get(`/rest/executions/${polled.id}`);
    assert.match(typeof pollRun.data === 'string' ? pollRun.data : JSON.stringify(pollRun.data), /Polled in the demo/);

    child.kill('SIGINT');
    const { code } = await exited;
    assert.equal(code, 0, output.slice(-2000));
    assert.match(output, /stopped\./);
    assert.equal(await reachable(ready.url), false, 'n8n is gone');
    assert.equal(await reachable(ready.emulator), false, 'the emulator is gone');
    assert.equal(fs.existsSync(readyFile), false);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
