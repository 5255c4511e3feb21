// What n8n and its community-package scanner see: the tarball `npm pack`
// makes from the built package.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { analyzePackage } = await import(path.join(ROOT, 'node_modules/@n8n/scan-community-package/scanner/scanner.mjs'));

let work;
let unpacked;

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'amocrm-pack-'));
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' });
  const [{ filename }] = JSON.parse(out);
  unpacked = path.join(work, 'package-root');
  fs.mkdirSync(unpacked);
  execFileSync('tar', ['-xzf', path.join(work, path.basename(filename)), '-C', unpacked, '--strip-components=1']);
});

after(() => fs.rmSync(work, { recursive: true, force: true }));

const files = (dir, prefix = '') =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));

test('the tarball has no runtime dependencies and declares every node and credential', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(unpacked, 'package.json'), 'utf8'));
  assert.equal(pkg.dependencies, undefined);
  assert.equal(pkg.bundledDependencies, undefined);
  assert.equal(pkg.overrides, undefined);
  assert.deepEqual(pkg.peerDependencies, { 'n8n-workflow': '*' });
  assert.match(pkg.name, /^n8n-nodes-/);
  assert.equal(pkg.license, 'MIT');
  assert.ok(pkg.keywords.includes('n8n-community-node-package'));
  for (const p of [...pkg.n8n.nodes, ...pkg.n8n.credentials]) assert.ok(fs.existsSync(path.join(unpacked, p)), `${p} is packed`);
  for (const script of ['prepare', 'preinstall', 'install', 'postinstall', 'prepublish']) assert.equal(pkg.scripts?.[script], undefined, script);
});

test('the tarball ships built JavaScript with the core embedded, and no sources or loose .wasm', () => {
  const shipped = files(unpacked);
  assert.ok(shipped.includes('dist/shared/wasm/amocrm_core.js'));
  assert.ok(shipped.includes('dist/icons/amocrm.svg') && shipped.includes('dist/icons/amocrm.dark.svg'));
  assert.ok(shipped.some((f) => f.endsWith('.node.json')), 'codex file');
  for (const f of ['LICENSE', 'README.md', 'CHANGELOG.md']) assert.ok(shipped.includes(f), f);
  const pkg = JSON.parse(fs.readFileSync(path.join(unpacked, 'package.json'), 'utf8'));
  assert.ok(pkg.homepage && pkg.author?.name && pkg.author?.email && pkg.repository?.url, 'package metadata');
  for (const p of pkg.n8n.nodes) {
    const codex = path.join(unpacked, p.replace(/\.js$/, '.json'));
    assert.ok(fs.existsSync(codex), `codex file for ${p}`);
    assert.equal(JSON.parse(fs.readFileSync(codex, 'utf8')).node, `${pkg.name}.${path.basename(p, '.node.js').replace(/^./, (c) => c.toLowerCase())}`);
  }
  assert.deepEqual(shipped.filter((f) => /\.(wasm|rs|mjs)$|^src\/|^n8n-node\//.test(f)), []);
  // Only what runs: no build caches, source maps or type declarations.
  assert.deepEqual(shipped.filter((f) => !/\.(js|json|svg|md)$|^LICENSE$/.test(f) || /\.d\.ts$|\.map$|tsbuildinfo/.test(f)), []);
  const glue = fs.readFileSync(path.join(unpacked, 'dist/shared/wasm/amocrm_core.js'), 'utf8');
  assert.match(glue, /const WASM_B64 = '[A-Za-z0-9+/=]{100000,}'/);
});

test('the community-package scanner passes the shipped JavaScript and package.json', async () => {
  const result = await analyzePackage(unpacked, ['**/*.js', 'package.json']);
  assert.equal(result.passed, true, result.details ?? result.message);
});

test('the scanner would catch wasm-bindgen loader code (negative control)', async () => {
  const bad = path.join(work, 'bad');
  fs.mkdirSync(path.join(bad, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(unpacked, 'package.json'), path.join(bad, 'package.json'));
  fs.writeFileSync(
    path.join(bad, 'dist', 'glue.js'),
    "const bytes = require('fs').readFileSync(`${__dirname}/x_bg.wasm`);\nmodule.exports = new WebAssembly.Module(bytes);\n",
  );
  const result = await analyzePackage(bad, ['**/*.js', 'package.json']);
  assert.equal(result.passed, false);
  assert.match(result.details, /__dirname|fs/);
});
