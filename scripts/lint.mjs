#!/usr/bin/env node
// The package's quality gates on sources:
//   - n8n's own lint rules (the @n8n/node-cli ESLint config, run from
//     n8n-node/ where its ./credentials and ./nodes globs apply);
//   - the community-package scanner's rules (@n8n/scan-community-package's
//     analyzePackage) on the node/credential sources and on package.json;
//   - TypeScript in strict mode (tsc --noEmit);
//   - cargo fmt --check and cargo clippy -D warnings on the core.
// The scanner's rules on the packed tarball run in tests/package/.
// Usage: node scripts/lint.mjs [--no-rust]

import path from 'node:path';
import { ROOT, run } from './lib/proc.mjs';

const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);

export async function scan(dir, patterns) {
  const { analyzePackage } = await import(path.join(ROOT, 'node_modules/@n8n/scan-community-package/scanner/scanner.mjs'));
  const result = await analyzePackage(dir, patterns);
  if (!result.passed) {
    console.error(result.details ?? result.message);
    throw new Error(`community-package scanner rules failed in ${path.relative(ROOT, dir) || '.'} (${patterns.join(', ')})`);
  }
  console.log(`[lint] scanner rules pass: ${path.relative(ROOT, dir) || '.'} ${patterns.join(' ')}`);
}

export async function lint({ rust = true } = {}) {
  await run(bin('eslint'), ['.'], { cwd: path.join(ROOT, 'n8n-node') });
  console.log('[lint] n8n lint rules pass: n8n-node/');
  await scan(path.join(ROOT, 'n8n-node'), ['{nodes,credentials}/**/*.{js,ts,json}']);
  await scan(ROOT, ['package.json']);
  await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--noEmit']);
  console.log('[lint] TypeScript strict: no errors');
  if (rust) {
    await run('cargo', ['fmt', '--check']);
    await run('cargo', ['clippy', '--all-targets', '--quiet', '--', '-D', 'warnings']);
    console.log('[lint] cargo fmt and clippy: clean');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await lint({ rust: !process.argv.includes('--no-rust') });
}
