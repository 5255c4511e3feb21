// A trap (a panic in the Rust core) cannot spill into other executions: the
// instance is replaced, every handle of a call made on the old one refuses
// its methods instead of passing its pointer into the new heap, and the token
// broker's memory (rotated pairs, grants in flight) carries over.
//
// Runs the TypeScript layer from dist/ against a test build of the core with
// the `test-trap` feature (an export that panics; scripts/build.mjs
// --test-trap), and checks that the shipped build has no such export.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { buildTestTrap } from '../../scripts/build.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const COPY = path.join(ROOT, 'target', 'test-trap', 'dist');

let core;
let glue;

before(async () => {
  const trapGlue = await buildTestTrap();
  // dist/shared with the test glue in place of the shipped one.
  fs.rmSync(COPY, { recursive: true, force: true });
  fs.cpSync(path.join(ROOT, 'dist', 'shared'), COPY, { recursive: true });
  fs.copyFileSync(trapGlue, path.join(COPY, 'wasm', 'amocrm_core.js'));
  core = require(path.join(COPY, 'core.js'));
  glue = require(path.join(COPY, 'wasm', 'amocrm_core.js'));
});

const ACCOUNT = { environment: 'local', address: '', zone: 'amocrm.ru', baseUrl: 'http://127.0.0.1:9' };
const OAUTH = {
  ...ACCOUNT,
  connectionType: 'oauth',
  clientId: 'cid',
  clientSecret: 'secret',
  redirectUri: 'https://n8n.example/cb',
  authorizationCode: 'CODE-1',
};
const tokens = (at, rt) => JSON.stringify({ token_type: 'Bearer', expires_in: 86400, access_token: at, refresh_token: rt });

/** Makes the next core call trap, through the same guard every call takes. */
function trap() {
  const checkAccount = glue.checkAccount;
  glue.checkAccount = () => glue.__testTrap();
  try {
    return core.accountOrigin(ACCOUNT);
  } finally {
    glue.checkAccount = checkAccount;
  }
}

function leadGet() {
  const made = core.CoreCall.create({
    resource: 'lead',
    operation: 'get',
    account: ACCOUNT,
    items: [{ leadId: '5', with: [] }],
    auth: 'longLivedToken',
    requestsPerSecond: 50,
  });
  assert.ok(made.ok, JSON.stringify(made));
  return made.value;
}

test('after a trap, calls in flight fail cleanly, new calls work, and the token memory is kept', () => {
  // Work in flight on the instance that will trap: a node call waiting for
  // its answer, a rotated pair in the broker's memory, a token request out.
  const inFlight = leadGet();
  const [request] = inFlight.start().requests;
  assert.match(request.url, /\/api\/v4\/leads\/5$/);
  const exchange = core.tokenPlan(OAUTH);
  assert.equal(exchange.value.action, 'send');
  assert.ok(core.tokenComplete(exchange.value.flight, 200, {}, tokens('AT1', 'RT1')).ok);
  const other = { ...OAUTH, clientId: 'cid-2', authorizationCode: '', refreshToken: 'RT-9', grantFingerprint: 'x' };
  const refresh = core.tokenPlan(other);
  assert.equal(refresh.value.action, 'send');

  const trapped = trap();
  assert.equal(trapped.ok, false);
  assert.equal(trapped.error.kind, 'internal');
  assert.match(trapped.error.message, /The amoCRM core failed and was restarted/);

  // Every method of the old handle refuses: no pointer into the new heap.
  const resumed = inFlight.resume(request.id, 200, {}, '{"id":5}');
  assert.equal(resumed.done, true);
  assert.equal(resumed.fatal.kind, 'internal');
  assert.match(resumed.fatal.message, /began before the core was restarted.*resume/);
  assert.doesNotMatch(resumed.fatal.message, /was restarted:/, 'refusing is not another trap');
  for (const step of [inFlight.fail(request.id, 'ECONNRESET', ''), inFlight.feed(1, [{}], true)]) {
    assert.match(step.fatal.message, /cannot go on/);
  }
  const acquired = inFlight.acquire();
  assert.equal(acquired.ok, false);
  assert.match(acquired.error.message, /acquire refused/);
  inFlight.free(); // no throw, and nothing freed in the new instance

  // A new call runs on the new instance, from the start to its item.
  const fresh = leadGet();
  const [r2] = fresh.start().requests;
  const done = fresh.resume(r2.id, 200, { 'content-type': 'application/hal+json' }, '{"id":5,"name":"Deal"}');
  assert.equal(done.done, true);
  assert.equal(done.emit[0].json.name, 'Deal');
  fresh.free();

  // The token memory came along: the exchanged code is not sent again (its
  // pair is handed out), and the refresh that was out completes.
  const again = core.tokenPlan(OAUTH);
  assert.equal(again.value.action, 'use');
  assert.equal(again.value.tokens.refreshToken, 'RT1');
  const completed = core.tokenComplete(refresh.value.flight, 200, {}, tokens('AT10', 'RT10'));
  assert.ok(completed.ok, JSON.stringify(completed));
  assert.equal(completed.value.refreshToken, 'RT10');
});

test('a trap while many calls are in flight spares none of the old ones and no later one', () => {
  const old = Array.from({ length: 20 }, () => leadGet());
  const ids = old.map((c) => c.start().requests[0].id);
  assert.equal(trap().ok, false);
  const survivors = Array.from({ length: 20 }, () => leadGet());
  const newIds = survivors.map((c) => c.start().requests[0].id);
  old.forEach((c, i) => assert.match(c.resume(ids[i], 200, {}, '{"id":5}').fatal.message, /cannot go on/));
  survivors.forEach((c, i) => {
    const step = c.resume(newIds[i], 200, {}, '{"id":5,"name":"Deal"}');
    assert.equal(step.fatal, undefined, JSON.stringify(step.fatal));
    assert.equal(step.emit[0].json.name, 'Deal');
  });
});

test('the shipped build has no test-only export', () => {
  const shipped = fs.readFileSync(path.join(ROOT, 'dist', 'shared', 'wasm', 'amocrm_core.js'), 'utf8');
  assert.ok(!shipped.includes('__testTrap'), 'no __testTrap in the shipped glue');
  const wasmB64 = shipped.match(/const WASM_B64 = '([^']+)'/)[1];
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(Buffer.from(wasmB64, 'base64'))).map((e) => e.name);
  assert.ok(exports.length > 10 && !exports.some((e) => /trap/i.test(e)), exports.join(', '));
  assert.equal(typeof glue.__testTrap, 'function', 'while the test build has it');
});
