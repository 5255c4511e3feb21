// Measures, in a process of its own, shaping one 250-lead page from the bytes
// received to JavaScript objects: through the WebAssembly core (the node's
// path) and through bench/js-baseline.mjs. Run by scripts/bench.mjs with the
// page's path; prints one JSON line.
//   node --expose-gc bench/core-shaping.mjs <page.json>

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { shapePage } from './js-baseline.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const core = require(path.join(ROOT, 'dist/shared/core.js'));
const body = fs.readFileSync(process.argv[2]);

const input = {
  resource: 'lead',
  operation: 'getMany',
  account: { environment: 'local', baseUrl: 'http://127.0.0.1:9', address: '', zone: '' },
  items: [{ limit: 250, simplify: true }],
  auth: 'longLivedToken',
  requestsPerSecond: 50,
  nowMs: 0,
};
const wasmPage = () => {
  const call = core.CoreCall.create(input).value;
  const step = call.start();
  const done = call.resume(step.requests[0].id, 200, { 'content-type': 'application/hal+json' }, body);
  call.free();
  return done.emit.map((e) => e.json);
};
const jsPage = () => shapePage(body);
if (JSON.stringify(wasmPage()) !== JSON.stringify(jsPage())) throw new Error('the core and the baseline disagree');

const ITER = 25;
const round = (fn) => {
  globalThis.gc?.();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ITER; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e6 / ITER;
};
for (let i = 0; i < 40; i++) {
  wasmPage();
  jsPage();
}
// Alternating rounds, so that machine load and GC hit both alike.
const w = [];
const j = [];
for (let r = 0; r < 21; r++) {
  w.push(round(wasmPage));
  j.push(round(jsPage));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ratios = w.map((x, i) => x / j[i]);
console.log(JSON.stringify({ wasmMs: median(w), jsMs: median(j), ratio: median(ratios), bytes: body.length }));
