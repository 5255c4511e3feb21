#!/usr/bin/env node
// Builds the package n8n installs: the Rust core to WebAssembly, embedded in a
// JavaScript module that passes n8n's community-package scanner, plus the
// TypeScript nodes and credentials compiled to dist/.
//
//   1. wasm-pack build --release --target nodejs      -> pkg/ (glue + .wasm)
//   2. wasm-opt -O3 (npm `binaryen`; wasm-pack cannot download its own here)
//   3. n8n-node/shared/wasm/amocrm_core.js: wasm-bindgen's glue with its
//      `require('fs').readFileSync(`${__dirname}/…`)` loader replaced by the
//      .wasm as a base64 constant, compiled lazily, once per process, on first
//      use. The scanner rejects fs, path, util, __dirname, globalThis and timers
//      in shipped JS; the result uses only WebAssembly, Buffer, TextEncoder and
//      TextDecoder.
//   4. tsc -> dist/, then the generated glue, icons and codex files are copied.
//
// Usage: node scripts/build.mjs [--skip-setup] [--quiet]
//        node scripts/build.mjs --test-trap   (only the glue of a test build
//        with the `test-trap` feature, to target/test-trap/; never shipped)

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { withDirLock } from './lib/lock.mjs';
import { ROOT, fmtMs, run } from './lib/proc.mjs';
import { setup } from './setup.mjs';

const PKG = path.join(ROOT, 'pkg');
const WASM_OUT_DIR = path.join(ROOT, 'n8n-node', 'shared', 'wasm');
const GLUE_OUT = path.join(WASM_OUT_DIR, 'amocrm_core.js');
const DIST = path.join(ROOT, 'dist');

/** Features rustc enables by default for wasm32 (Rust >= 1.82); wasm-opt must accept them. */
const WASM_FEATURES = [
  '--enable-bulk-memory',
  '--enable-nontrapping-float-to-int',
  '--enable-sign-ext',
  '--enable-mutable-globals',
  '--enable-multivalue',
  '--enable-reference-types',
];

/** wasm-opt's settings: speed, as for rustc (Cargo.toml); -Oz would halve page shaping speed. */
export const WASM_OPT_ARGS = ['-O3', '--strip-debug', '--strip-producers', ...WASM_FEATURES];

const log = (...a) => console.log('[build]', ...a);

/** Exports only a test build may have (cargo feature `test-trap`); the shipped glue must not. */
export const TEST_ONLY_EXPORTS = ['__testTrap'];

async function buildWasm(pkg = PKG, features = [], env = undefined) {
  await run('wasm-pack', [
    '--quiet',
    'build',
    '--release',
    '--target',
    'nodejs',
    '--out-dir',
    pkg,
    '--out-name',
    'amocrm_core',
    '--no-pack',
    ...(features.length ? ['--', '--features', features.join(',')] : []),
  ], env ? { env: { ...process.env, ...env } } : {});
  const raw = path.join(pkg, 'amocrm_core_bg.wasm');
  const optimised = path.join(pkg, 'amocrm_core_opt.wasm');
  // wasm-opt takes most of a warm build: skip it when its input is unchanged.
  const stamp = path.join(pkg, 'amocrm_core_opt.input.sha256');
  const digest = createHash('sha256').update(fs.readFileSync(raw)).update(WASM_OPT_ARGS.join(' ')).digest('hex');
  if (fs.existsSync(optimised) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === digest) {
    return { raw, optimised };
  }
  await run(process.execPath, [
    path.join(ROOT, 'node_modules', 'binaryen', 'bin', 'wasm-opt'),
    raw,
    ...WASM_OPT_ARGS,
    '-o',
    optimised,
  ]);
  fs.writeFileSync(stamp, digest);
  return { raw, optimised };
}

/**
 * Applies one textual patch to the generated glue, failing loudly when the
 * pattern is gone (a wasm-bindgen upgrade changed its output).
 */
function patch(source, pattern, replacement, what) {
  const matches = source.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g'));
  if (!matches) throw new Error(`build: wasm-bindgen glue changed, cannot ${what} (pattern ${pattern})`);
  return source.replace(pattern, replacement);
}

export function embedGlue(glue, wasmBytes) {
  let out = glue.replace(/^\/\* @ts-self-types=.*\*\/\n/, '');

  // The loader: fs + __dirname out, embedded bytes in, instantiated lazily.
  // Views of the old instance's memory must not survive a re-instantiation.
  const views = [...out.matchAll(/^let (cached\w+Memory0) = null;$/gm)].map((m) => m[1]);
  const loader = LOADER.replace('/*RESET_MEMORY_VIEWS*/', views.map((v) => `${v} = null;`).join(' '));
  out = patch(
    out,
    /const wasmPath = `\$\{__dirname\}\/amocrm_core_bg\.wasm`;\nconst wasmBytes = require\('fs'\)\.readFileSync\(wasmPath\);\nconst wasmModule = new WebAssembly\.Module\(wasmBytes\);\nlet wasmInstance = new WebAssembly\.Instance\(wasmModule, __wbg_get_imports\(\)\);\nlet wasm = wasmInstance\.exports;\nwasm\.__wbindgen_start\(\);\s*$/,
    loader,
    'replace the loader',
  );

  // Handles remember the instance generation they were made in, so that after
  // a reset (a trap left the old instance unusable) an old handle's free()
  // or finalizer never frees a pointer into the new instance's heap.
  out = patch(
    out,
    /(const ret = wasm\.nodecall_new\(ptr0, len0\);\n\s*this\.__wbg_ptr = ret;\n\s*)NodeCallFinalization\.register\(this, this\.__wbg_ptr, this\);/,
    '$1this.__wbg_gen = __generation;\n        NodeCallFinalization.register(this, { ptr: this.__wbg_ptr, gen: __generation }, this);',
    'tag handles with their instance',
  );
  out = patch(
    out,
    /free\(\) \{\n(\s*)const ptr = this\.__destroy_into_raw\(\);\n\s*wasm\.__wbg_nodecall_free\(ptr, 0\);/,
    'free() {\n$1const ptr = this.__destroy_into_raw();\n$1if (this.__wbg_gen === __generation && wasm !== null) wasm.__wbg_nodecall_free(ptr, 0);',
    'guard free()',
  );
  out = patch(
    out,
    /new FinalizationRegistry\(ptr => wasm\.__wbg_nodecall_free\(ptr, 1\)\)/,
    'new FinalizationRegistry(({ ptr, gen }) => { if (gen === __generation && wasm !== null) wasm.__wbg_nodecall_free(ptr, 1); })',
    'guard the finalizer',
  );
  // Every other method of such a handle fails cleanly instead of passing its
  // pointer into the new instance's heap (where it could read or corrupt
  // another execution's call).
  out = patch(out, /^exports\.NodeCall = NodeCall;$/m, `${HANDLE_GUARD}exports.NodeCall = NodeCall;`, 'guard handle methods');

  // A first line of defence; the scanner's own rules run on the packed tarball in the tests.
  const code = out.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const forbidden = /\b(__dirname|__filename|globalThis|global|process|setTimeout|setInterval|setImmediate)\b|require\('(fs|path|util)'\)/;
  const found = code.match(forbidden);
  if (found) throw new Error(`build: generated glue still uses ${found[0]}`);
  const header =
    '// Generated by scripts/build.mjs from wasm-bindgen output; do not edit.\n' +
    '// The amoCRM core (Rust, see src/) compiled to WebAssembly and embedded as\n' +
    '// base64, so the package ships plain JavaScript only.\n"use strict";\n';
  return `${header}${out}\nconst WASM_B64 = '${Buffer.from(wasmBytes).toString('base64')}';\n`;
}

const HANDLE_GUARD = `for (const name of Object.getOwnPropertyNames(NodeCall.prototype)) {
    const method = NodeCall.prototype[name];
    if (name === 'constructor' || name === 'free' || name === '__destroy_into_raw' || typeof method !== 'function') continue;
    NodeCall.prototype[name] = function (...args) {
        if (this.__wbg_gen !== __generation || wasm === null) {
            throw new Error(\`this call began before the core was restarted after a failure, so it cannot go on (\${name} refused)\`);
        }
        return method.apply(this, args);
    };
}
`;

const LOADER = `// The module is compiled on first use, once per process, and shared by every
// node and credential of the package (they load this file through one require
// cache). __reset() drops an instance a trap has left in an unknown state.
let wasmModule = null;
let wasm = null;
let __generation = 0;
/** Instantiates the module if needed; true when a new instance was made now. */
function __instantiate() {
    if (wasm !== null) return false;
    if (wasmModule === null) wasmModule = new WebAssembly.Module(Buffer.from(WASM_B64, 'base64'));
    wasm = new WebAssembly.Instance(wasmModule, __wbg_get_imports()).exports;
    /*RESET_MEMORY_VIEWS*/
    wasm.__wbindgen_start();
    return true;
}
function __reset() {
    wasm = null;
    __generation += 1;
}
exports.__instantiate = __instantiate;
exports.__reset = __reset;
`;

/** Every export of the .wasm the glue calls must exist: catches a glue and a binary from different builds. */
function checkGlueMatchesWasm(glue, wasmBytes) {
  const exported = new Set(WebAssembly.Module.exports(new WebAssembly.Module(wasmBytes)).map((e) => e.name));
  const called = new Set([...glue.matchAll(/\bwasm\.(\w+)/g)].map((m) => m[1]));
  const missing = [...called].filter((name) => !exported.has(name));
  if (missing.length) throw new Error(`build: the glue calls ${missing.join(', ')}, which the .wasm does not export`);
}

/** The shipped glue and .wasm must not have a test-only export. */
function checkNoTestExports(glue, wasmBytes) {
  const exported = WebAssembly.Module.exports(new WebAssembly.Module(wasmBytes)).map((e) => e.name);
  const found = TEST_ONLY_EXPORTS.filter((name) => glue.includes(`exports.${name} = `) || exported.some((e) => e.includes(name)));
  if (found.length) throw new Error(`build: the shipped core has the test-only export ${found.join(', ')}`);
}

/**
 * The glue of a build with the `test-trap` feature, for tests that make the
 * core trap on purpose: target/test-trap/amocrm_core.js. dist/ is untouched.
 */
export async function buildTestTrap() {
  const dir = path.join(ROOT, 'target', 'test-trap');
  return await withDirLock(path.join(ROOT, 'target', 'build.lock'), async () => {
    // Its own cargo target folder, so that it does not evict the shipped build's.
    const { optimised } = await buildWasm(path.join(dir, 'pkg'), ['test-trap'], { CARGO_TARGET_DIR: path.join(dir, 'cargo') });
    const glue = embedGlue(fs.readFileSync(path.join(dir, 'pkg', 'amocrm_core.js'), 'utf8'), fs.readFileSync(optimised));
    if (!glue.includes('exports.__testTrap = ')) throw new Error('build: the test build lacks __testTrap');
    const out = path.join(dir, 'amocrm_core.js');
    fs.writeFileSync(out, glue);
    return out;
  });
}

/** Names the hand-written declaration promises must exist in the glue. */
function checkDeclarations(glue) {
  const dts = fs.readFileSync(path.join(ROOT, 'n8n-node', 'shared', 'wasm', 'amocrm_core.d.ts'), 'utf8');
  const declared = [...dts.matchAll(/export declare (?:class|function) (\w+)/g)].map((m) => m[1]);
  const missing = declared.filter((name) => !glue.includes(`exports.${name} = `));
  if (missing.length) throw new Error(`build: amocrm_core.d.ts declares ${missing.join(', ')}, which the glue does not export`);
}

function copyAssets(fromDir, toDir) {
  for (const entry of fs.readdirSync(fromDir, { withFileTypes: true })) {
    const from = path.join(fromDir, entry.name);
    const to = path.join(toDir, entry.name);
    if (entry.isDirectory()) copyAssets(from, to);
    else if (/\.(svg|png)$/.test(entry.name) || (entry.name.endsWith('.js') && fromDir === WASM_OUT_DIR)) {
      fs.mkdirSync(toDir, { recursive: true });
      fs.copyFileSync(from, to);
    }
  }
}

export async function build({ skipSetup = false } = {}) {
  if (!skipSetup) await setup();
  // pkg/, the generated glue and dist/ are rewritten in several steps; two
  // builds at once would pair one build's glue with the other's .wasm.
  return await withDirLock(path.join(ROOT, 'target', 'build.lock'), () => buildLocked(), {
    onWait: (pid) => log(`waiting for the build of process ${pid}`),
  });
}

async function buildLocked() {
  const t0 = Date.now();

  const t1 = Date.now();
  const { raw, optimised } = await buildWasm();
  const wasmBytes = fs.readFileSync(optimised);
  const glue = embedGlue(fs.readFileSync(path.join(PKG, 'amocrm_core.js'), 'utf8'), wasmBytes);
  checkDeclarations(glue);
  checkGlueMatchesWasm(glue, wasmBytes);
  checkNoTestExports(glue, wasmBytes);
  fs.mkdirSync(WASM_OUT_DIR, { recursive: true });
  fs.writeFileSync(GLUE_OUT, glue);
  const t2 = Date.now();

  fs.rmSync(DIST, { recursive: true, force: true });
  await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  copyAssets(path.join(ROOT, 'n8n-node'), DIST);
  const t3 = Date.now();

  const sizes = {
    wasmRaw: fs.statSync(raw).size,
    wasmOptimised: wasmBytes.length,
    shippedJs: fs.statSync(path.join(DIST, 'shared', 'wasm', 'amocrm_core.js')).size,
  };
  log(
    `wasm ${(sizes.wasmRaw / 1024).toFixed(0)} KB raw, ${(sizes.wasmOptimised / 1024).toFixed(0)} KB after wasm-opt, ` +
      `${(sizes.shippedJs / 1024).toFixed(0)} KB as shipped JS; core ${fmtMs(t2 - t1)}, TypeScript ${fmtMs(t3 - t2)}, total ${fmtMs(t3 - t0)}`,
  );
  return sizes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--test-trap')) log(`test build: ${await buildTestTrap()}`);
  else await build({ skipSetup: process.argv.includes('--skip-setup') });
}
