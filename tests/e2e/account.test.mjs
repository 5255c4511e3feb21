// AmoCRM Account in a real n8n against the emulator: every resource and
// operation in a few workflows, amoCRM's rules refused before sending, and
// a 5 MB file uploaded in parts, attached, listed and downloaded unchanged.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { ACCOUNT_NODE, VERSIONS, amoNode, branches, chain, emulator, expectOk, longLivedCredential, n8nWithPackage, runWorkflow } from './support.mjs';

// Every DNS lookup and connection of n8n's processes is logged there, and
// any leaving this machine refused (netguard.cjs).
const NETGUARD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'netguard.cjs');

const LEAD = 20000001;
const MAIN_PIPELINE = 7000001;
const FIVE_MB = 5 * 1024 * 1024;
const account = (name, resource, params, cred, extra) => amoNode(ACCOUNT_NODE, name, { resource, ...params }, cred, extra);
const pattern = (n) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 255;
  return b;
};
/** A Code node making one item with an n-byte binary file (the pattern above) under `data`. */
const makeFile = (name, n) => ({
  id: `make-${n}`,
  name,
  type: 'n8n-nodes-base.code',
  typeVersion: 2,
  position: [200, 0],
  parameters: {
    jsCode: `const b = Buffer.alloc(${n}); for (let i = 0; i < b.length; i++) b[i] = (i * 7 + 3) & 255;
return [{ json: {}, binary: { data: { data: b.toString('base64'), mimeType: 'application/octet-stream', fileName: 'big.bin' } } }];`,
  },
});
/** A loopback listener standing for an attacker's server: counts what reaches it. */
async function evilServer() {
  const hits = [];
  const server = http.createServer((req, res) => {
    hits.push({ method: req.method, url: req.url, token: Boolean(req.headers.authorization) });
    req.resume();
    res.end('{}');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { hits, port: server.address().port, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('AmoCRM Account', { concurrency: 1 }, () => {
  for (const version of VERSIONS) {
    describe(`n8n ${version}`, { concurrency: 1 }, () => {
      let amo;
      let n8n;
      let token;
      let cred;
      let netlog;

      before(async () => {
        amo = await emulator({ seed: 'demo', rateLimit: 7 });
        token = await amo.longLivedToken();
        netlog = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'amocrm-netlog-')), 'net.jsonl');
        n8n = await n8nWithPackage(version, { NODE_OPTIONS: `--require ${NETGUARD}`, AMOCRM_E2E_NETLOG: netlog });
        [cred] = await n8n.importCredentials([longLivedCredential(amo, token)]);
      });

      after(async () => {
        await n8n?.cleanup();
        await amo?.close();
        if (netlog) fs.rmSync(path.dirname(netlog), { recursive: true, force: true });
      });

      test('reads and writes of every resource, each in its own branch', async () => {
        await amo.api(token, 'POST', '/api/v4/contacts', [{ name: 'Caller', custom_fields_values: [{ field_code: 'PHONE', values: [{ value: '+7 912 555-01-23' }] }] }]);
        const hook = 'https://example.com/amocrm-hook';
        const userId = (await amo.api(token, 'GET', '/api/v4/users')).body._embedded.users[0].id;
        const wf = branches('account reads and writes', [
          account('Check', 'account', { operation: 'checkConnection' }, cred),
          account('Account', 'account', { operation: 'get', with: ['drive_url', 'users_groups', 'task_types', 'datetime_settings'] }, cred),
          account('Pipelines', 'pipeline', { operation: 'getMany', returnAll: true, options: {} }, cred),
          account('Pipeline', 'pipeline', { operation: 'get', pipelineId: MAIN_PIPELINE }, cred),
          account('Statuses', 'pipelineStatus', { operation: 'getMany', pipelineId: MAIN_PIPELINE, returnAll: true, options: { with: ['descriptions'] } }, cred),
          account('Status', 'pipelineStatus', { operation: 'get', pipelineId: MAIN_PIPELINE, statusId: 142 }, cred),
          account('Won Is Fixed', 'pipelineStatus', { operation: 'update', pipelineId: MAIN_PIPELINE, statusId: 142, updateFields: { name: 'Won!' } }, cred),
          account('Main Is Kept', 'pipeline', { operation: 'delete', pipelineId: MAIN_PIPELINE }, cred),
          account('Users', 'user', { operation: 'getMany', returnAll: true, options: {} }, cred),
          account('User', 'user', { operation: 'get', userId: `={{ ${userId} }}` }, cred),
          account('Add User', 'user', { operation: 'create', name: 'Ann Lee', email: 'ann.lee@example.com', additionalFields: { password: 'Secret12' }, options: {} }, cred),
          account('Weak Password', 'user', { operation: 'create', name: 'Bob', email: 'bob@example.com', additionalFields: { password: 'weak' }, options: {} }, cred),
          account('Roles', 'role', { operation: 'getMany', returnAll: true, options: {} }, cred),
          account('Role', 'role', { operation: 'get', roleId: 1001 }, cred),
          account('Fields', 'customField', { operation: 'getMany', entityType: 'contacts', returnAll: true, options: {} }, cred),
          account('Tags', 'tag', { operation: 'getMany', entityType: 'leads', returnAll: true, options: {} }, cred),
          account('Add Tag', 'tag', { operation: 'create', entityType: 'leads', name: 'priority', additionalFields: { color: 'ddebb5' }, options: {} }, cred),
          account('Untag', 'tag', { operation: 'delete', entityType: 'leads', recordId: LEAD, tags: 'priority' }, cred),
          account('Loss Reasons', 'lossReason', { operation: 'getMany', returnAll: true, options: {} }, cred),
          account('Calls', 'call', { operation: 'create', direction: 'inbound', phone: '89125550123', duration: 42, source: 'pbx', additionalFields: { callStatus: 4 }, options: {} }, cred),
          account('Unknown Caller', 'call', { operation: 'create', direction: 'inbound', phone: '+1 555 000 0000', duration: 3, source: 'pbx', additionalFields: {}, options: {} }, cred),
          account('Talk', 'talk', { operation: 'get', talkId: 501 }, cred),
          account('Bot', 'salesbot', { operation: 'run', botId: 77, entityType: 'leads', entityId: LEAD }, cred),
          account('Subscribe', 'webhookSubscription', { operation: 'subscribe', destination: hook, events: ['add_lead', 'add_task'], sort: 1 }, cred),
          account('Custom', 'account', { operation: 'customRequest', method: 'GET', path: '/api/v4/leads/loss_reasons', query: '' }, cred),
          account('Events', 'event', { operation: 'getMany', returnAll: true, filters: { types: ['contact_added'], entities: ['contact'] }, options: { with: ['contact_name'] } }, cred),
          account('Events Without Entity', 'event', { operation: 'getMany', returnAll: true, filters: { entityIds: '20000001, 20000002' }, options: {} }, cred),
        ]);
        const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
        const errors = Object.fromEntries(run.nodeNames.map((n) => [n, run.json(n).find((i) => i.error)?.error]).filter(([, e]) => e));
        assert.deepEqual(Object.keys(errors).sort(), ['Events Without Entity', 'Main Is Kept', 'Unknown Caller', 'Weak Password', 'Won Is Fixed']);
        assert.match(errors['Events Without Entity'], /Filters › Entity IDs/);
        const events = run.json('Events');
        assert.ok(events.length >= 1 && events.every((e) => e.type === 'contact_added' && e.entity_type === 'contact'), JSON.stringify(events.slice(0, 3)));
        assert.ok(events.some((e) => JSON.stringify(e).includes('Caller')), 'the contact\'s name comes with the event');
        assert.match(errors['Won Is Fixed'], /field "Status": 142 is amoCRM's own "won" status/);
        assert.match(errors['Main Is Kept'], /main pipeline, which amoCRM cannot delete/);
        assert.match(errors['Weak Password'], /Password.*6 characters/);
        assert.match(errors['Unknown Caller'], /No contact or company has the phone \+1 555 000 0000/);
        const [check] = run.json('Check');
        assert.equal(check.connected, true);
        assert.equal(check.subdomain, 'demo');
        assert.equal(check.credentialKind, 'Long-lived token');
        assert.equal(run.json('Account')[0].drive_url.startsWith('http://127.0.0.1:'), true);
        assert.ok(run.json('Pipelines').some((p) => p.id === MAIN_PIPELINE && p.is_main));
        assert.ok(run.json('Statuses').some((s) => s.id === 143));
        assert.equal(run.json('Status')[0].id, 142);
        assert.ok(run.json('Users').length >= 2);
        assert.equal(run.json('Add User')[0].email, 'ann.lee@example.com');
        assert.equal(run.json('Role')[0].name, 'Managers');
        assert.ok(run.json('Fields').some((f) => f.code === 'PHONE'));
        assert.equal(run.json('Add Tag')[0].color, 'DDEBB5');
        assert.equal(run.json('Untag')[0].id, LEAD);
        assert.ok(run.json('Calls')[0].entity_id > 0);
        assert.equal(run.json('Talk')[0].talk_id, 501);
        assert.equal(run.json('Bot')[0].started, true);
        assert.equal(run.json('Subscribe')[0].destination, hook);
        assert.ok(run.json('Custom').length >= 1);
        // Nothing was sent for the refused items.
        const sent = await amo.requests({});
        assert.ok(!sent.some((r) => r.method === 'PATCH' && r.path.endsWith('/statuses/142')));
        assert.ok(!sent.some((r) => r.method === 'DELETE' && r.path === `/api/v4/leads/pipelines/${MAIN_PIPELINE}`));
      });

      test('pipeline, status, custom field, group, loss reason, source and webhook: create, update, delete', async () => {
        const hook = 'https://example.com/another-hook';
        const wf = chain('account lifecycle', [
          account('New Pipeline', 'pipeline', { operation: 'create', name: 'Wholesale', sort: 30, additionalFields: { statuses: 'New, Quoted' }, options: {} }, cred),
          account('Rename Pipeline', 'pipeline', { operation: 'update', pipelineId: "={{ $('New Pipeline').item.json.id }}", updateFields: { name: 'Wholesale EU' } }, cred),
          account('New Status', 'pipelineStatus', { operation: 'create', pipelineId: "={{ $('New Pipeline').item.json.id }}", name: 'Negotiation', sort: 40, additionalFields: { color: '#98cbff' }, options: {} }, cred),
          account('Recolour Status', 'pipelineStatus', { operation: 'update', pipelineId: "={{ $('New Pipeline').item.json.id }}", statusId: "={{ $('New Status').item.json.id }}", updateFields: { color: '#87f2c0' } }, cred),
          account('Drop Status', 'pipelineStatus', { operation: 'delete', pipelineId: "={{ $('New Pipeline').item.json.id }}", statusId: "={{ $('New Status').item.json.id }}" }, cred),
          account('Drop Pipeline', 'pipeline', { operation: 'delete', pipelineId: "={{ $('New Pipeline').item.json.id }}" }, cred),
          account('New Field', 'customField', { operation: 'create', entityType: 'leads', name: 'Channel', type: 'select', additionalFields: { enums: 'Web, Phone', requiredStatuses: [`${MAIN_PIPELINE}:142`] }, options: {} }, cred),
          account('Get Field', 'customField', { operation: 'get', entityType: 'leads', fieldId: "={{ $('New Field').item.json.id }}" }, cred),
          account('New Group', 'fieldGroup', { operation: 'create', entityType: 'leads', name: 'Marketing', sort: 5, additionalFields: {}, options: {} }, cred),
          account('Groups', 'fieldGroup', { operation: 'getMany', entityType: 'leads', returnAll: true, options: {} }, cred),
          account('Move Field', 'fieldGroup', { operation: 'update', entityType: 'leads', groupId: "={{ $('New Group').item.json.id }}", updateFields: { fieldIds: "={{ String($('New Field').item.json.id) }}" } }, cred),
          account('Get Group', 'fieldGroup', { operation: 'get', entityType: 'leads', groupId: "={{ $('New Group').item.json.id }}" }, cred),
          account('Rename Field', 'customField', { operation: 'update', entityType: 'leads', fieldId: "={{ $('New Field').item.json.id }}", updateFields: { name: 'Lead Channel' }, options: {} }, cred),
          account('Drop Field', 'customField', { operation: 'delete', entityType: 'leads', fieldId: "={{ $('New Field').item.json.id }}" }, cred),
          account('Drop Group', 'fieldGroup', { operation: 'delete', entityType: 'leads', groupId: "={{ $('New Group').item.json.id }}" }, cred),
          account('New Reason', 'lossReason', { operation: 'create', name: 'Too expensive', additionalFields: { sort: 5 }, options: {} }, cred),
          account('Get Reason', 'lossReason', { operation: 'get', lossReasonId: "={{ $('New Reason').item.json.id }}" }, cred),
          account('Rename Reason', 'lossReason', { operation: 'update', lossReasonId: "={{ $('New Reason').item.json.id }}", updateFields: { name: 'Price' } }, cred),
          account('Drop Reason', 'lossReason', { operation: 'delete', lossReasonId: "={{ $('New Reason').item.json.id }}" }, cred),
          account('New Source', 'source', { operation: 'create', name: 'Web shop', externalId: 'shop-1', additionalFields: {}, options: {} }, cred),
          account('Sources', 'source', { operation: 'getMany', returnAll: true, options: {} }, cred),
          account('Get Source', 'source', { operation: 'get', sourceId: "={{ $('New Source').item.json.id }}" }, cred),
          account('Rename Source', 'source', { operation: 'update', sourceId: "={{ $('New Source').item.json.id }}", updateFields: { name: 'Shop' }, options: {} }, cred),
          account('Drop Source', 'source', { operation: 'delete', sourceId: "={{ $('New Source').item.json.id }}" }, cred),
          account('Hook', 'webhookSubscription', { operation: 'subscribe', destination: hook, events: ['status_lead'] }, cred),
          account('Hooks', 'webhookSubscription', { operation: 'getMany', destination: hook }, cred),
          account('Unhook', 'webhookSubscription', { operation: 'unsubscribe', destination: hook }, cred),
          account('Close Talk', 'talk', { operation: 'close', talkId: 501, forceClose: true }, cred),
          account('Stop Bot', 'salesbot', { operation: 'stop', botId: 77, entityType: 'leads', entityId: LEAD }, cred),
        ]);
        const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
        const errors = Object.fromEntries(run.nodeNames.map((n) => [n, run.json(n).find((i) => i.error)?.error]).filter(([, e]) => e));
        assert.deepEqual(errors, {});
        const pipeline = run.json('New Pipeline')[0];
        assert.deepEqual(pipeline._embedded.statuses.map((s) => s.name).slice(1, 3), ['New', 'Quoted']);
        assert.equal(run.json('Rename Pipeline')[0].name, 'Wholesale EU');
        assert.equal(run.json('Recolour Status')[0].color, '#87f2c0');
        assert.deepEqual(run.json('Drop Status')[0].deleted, true);
        assert.deepEqual(run.json('Drop Pipeline')[0], { id: pipeline.id, deleted: true });
        assert.deepEqual(run.json('Get Field')[0].enums.map((e) => e.value), ['Web', 'Phone']);
        assert.equal(run.json('Get Group')[0].name, 'Marketing');
        assert.equal(run.json('Rename Field')[0].name, 'Lead Channel');
        assert.equal(run.json('Rename Reason')[0].name, 'Price');
        assert.ok(run.json('Sources').some((s) => s.external_id === 'shop-1'));
        assert.equal(run.json('Hooks')[0].destination, hook);
        assert.equal(run.json('Unhook')[0].deleted, true);
        assert.equal(run.json('Close Talk')[0].closed, true);
        assert.equal(run.json('Stop Bot')[0].stopped, true);
      });

      test('a 5 MB file: uploaded in parts, attached to a lead, listed, downloaded, the same bytes', async () => {
        const partsBefore = amo.emu.state.driveLog.filter((e) => e.path.startsWith('/upload/')).length;
        // Made in the item (base64), uploaded, downloaded into n8n's binary
        // store, and uploaded again from there: both files on the drive must
        // be the bytes made, so the download gave n8n exactly those bytes.
        const wf = chain('file round trip', [
          makeFile('Make File', FIVE_MB),
          account('Upload', 'file', { operation: 'upload', binaryPropertyName: 'data', fileName: '', attachTo: 'leads', recordId: LEAD }, cred),
          account('Files', 'file', { operation: 'getMany', entityType: 'leads', recordId: LEAD, returnAll: true }, cred),
          account('Download', 'file', { operation: 'download', fileUuid: "={{ $('Upload').item.json.uuid }}", binaryPropertyName: 'data' }, cred),
          account('Upload Again', 'file', { operation: 'upload', binaryPropertyName: 'data', fileName: 'again.bin', attachTo: 'none' }, cred),
        ]);
        // Read from a snapshot file: the run data (the file in base64) is too large for `n8n execute`'s stdout.
        const run = await runWorkflow(n8n, wf);
        const errors = Object.fromEntries(run.nodeNames.map((n) => [n, run.json(n).find((i) => i.error)?.error]).filter(([, e]) => e));
        assert.deepEqual(errors, {});
        const [up] = run.json('Upload');
        assert.equal(up.size, FIVE_MB);
        assert.deepEqual(up.attached_to, { entity_type: 'leads', entity_id: LEAD });
        assert.ok(run.json('Files').some((f) => f.file_uuid === up.uuid));
        const [down] = run.items('Download');
        assert.equal(down.json.uuid, up.uuid);
        assert.equal(down.binary.data.fileName, 'big.bin');
        const again = run.json('Upload Again')[0];
        assert.equal(again.size, FIVE_MB);
        const drive = (await amo.api(token, 'GET', '/api/v4/account?with=drive_url')).body.drive_url;
        for (const uuid of [up.uuid, again.uuid]) {
          const bytes = Buffer.from(await (await fetch(`${drive}/download/${uuid}`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer());
          assert.ok(bytes.equals(pattern(FIVE_MB)), `file ${uuid} differs`);
        }
        // Each upload in the parts the drive's session asked for: 10 of 512 KiB.
        const parts = amo.emu.state.driveLog.filter((e) => e.path.startsWith('/upload/')).slice(partsBefore);
        assert.deepEqual(parts.map((p) => p.bytes), Array(20).fill(512 * 1024));
      });

      test('hostile drive addresses, an upload sent off the drive, a redirect from the drive: the token goes nowhere else', async () => {
        const evil = await evilServer();
        const drive = amo.emu.driveUrl;
        try {
          // A file on the drive, for the redirected download.
          const session = await (await fetch(`${drive}/v1.0/sessions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ file_name: 'a.txt', file_size: 3, content_type: 'text/plain' }) })).json();
          const file = await (await fetch(session.upload_url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: 'abc' })).json();
          const hostile = {
            'Other Domain': `http://evil.test:${evil.port}`,
            'Look-alike': `https://drive-x.amocrm.ru.evil.com`,
            'User Info': `http://user:secret@127.0.0.1:${evil.port}`,
            'HTTP Drive Host': 'http://drive-b.amocrm.ru',
            'IP Literal': `http://[::ffff:7f00:1]:${evil.port}`,
            'Other Network': `http://192.0.2.10:${evil.port}`,
            'Backslash': `http://evil.test\\@127.0.0.1:${evil.port}`,
            'Encoded': `http://127.0.0.1:${evil.port}%2f@evil.test`,
          };
          // Each node reads drive_url once, in chain order: the upload gets
          // the real drive, each hostile node its value, the last node the
          // real drive again.
          await amo.admin('POST', '/config', {
            driveUrls: [drive, ...Object.values(hostile)],
            driveNextUrl: `http://127.0.0.1:${evil.port}/upload/stolen/2`,
            driveRedirect: `http://127.0.0.1:${evil.port}/stolen`,
            drivePartSize: 1000,
          });
          const download = (name) => account(name, 'file', { operation: 'download', fileUuid: file.uuid, binaryPropertyName: 'data' }, cred);
          const wf = chain('hostile drive', [
            makeFile('Make File', 2500),
            account('Next Off Drive', 'file', { operation: 'upload', binaryPropertyName: 'data', fileName: '', attachTo: 'none' }, cred),
            ...Object.keys(hostile).map(download),
            download('Redirected'),
          ]);
          const logged = fs.existsSync(netlog) ? fs.statSync(netlog).size : 0;
          const driveBefore = amo.emu.state.driveLog.length;
          const run = expectOk(await n8n.execute(await n8n.importWorkflow(wf)));
          const error = (node) => run.json(node)[0]?.error ?? `no error: ${JSON.stringify(run.json(node))}`;
          for (const [node, url] of Object.entries(hostile)) {
            assert.match(error(node), /Refused to send the amoCRM credential to the drive address/, `${node}: ${url}`);
          }
          assert.match(error('User Info'), /user name or password/);
          assert.match(error('Next Off Drive'), /Refused to send the amoCRM credential.*not on the account's drive/);
          assert.match(error('Redirected'), /redirect \(302\), which is not followed/);
          // Nothing reached the attacker; the drive saw only what it should, all of it with the token.
          assert.deepEqual(evil.hits, []);
          const seen = amo.emu.state.driveLog.slice(driveBefore).map((e) => `${e.method} ${e.path.replace(/^\/upload\/[\w-]+\//, '/upload/<session>/')} ${e.auth ? 'token' : 'no token'}`);
          assert.deepEqual(seen, ['POST /v1.0/sessions token', 'POST /upload/<session>/1 token', `GET /v1.0/files/${file.uuid} token`, `GET /download/${file.uuid} token`]);
          // n8n looked up no name and connected to nothing but this machine.
          const net = fs.readFileSync(netlog, 'utf8').slice(logged).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
          const here = /^(127\.0\.0\.1|::1|localhost)$/;
          assert.deepEqual(net.filter((e) => e.lookup && !here.test(e.lookup)), []);
          assert.deepEqual(net.filter((e) => e.connect && !here.test(e.connect.replace(/:\d+$/, ''))), []);
          assert.ok(net.some((e) => e.connect === `127.0.0.1:${new URL(drive).port}`), `the log saw the drive: ${JSON.stringify(net).slice(0, 3000)}`);
        } finally {
          await amo.admin('POST', '/config', { driveUrls: [], driveNextUrl: null, driveRedirect: null, drivePartSize: null });
          await evil.close();
        }
      });
    });
  }
});
