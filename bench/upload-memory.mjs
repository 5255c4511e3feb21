// Uploads files through the AmoCRM Account node's TypeScript layer (dist/,
// as n8n runs it) in a process of its own, so that scripts/bench.mjs can
// sample this process's memory while a large file goes up. n8n's side is a
// stand-in with n8n's own behaviour where it matters: a stored file comes
// from a file stream (n8n's filesystem mode: fs.createReadStream with the
// chunk size asked for), an in-memory one is base64 in the item (n8n's
// "default" mode), and requests go through axios as n8n's helper sends them.
// The credential's real authenticate() runs on every request.
//
//   node bench/upload-memory.mjs <emulator url> <token> <mode: filesystem|default> <file>
//
// Uploads the file until the process's RSS is steady (what a running n8n
// has done: the node's first use, V8's compiled code), then collects its
// garbage and prints {"ready": true}; for each "go" line on stdin (sent once
// the bench has read the memory before) it uploads the file again, prints
// {size, ms} and is ready again; it exits on any other line (so that the
// bench reads the peak before the process is gone). Run with --expose-gc.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { authenticatedRequest } from './stand-in.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { AmoCrmAccount } = require(path.join(ROOT, 'dist/nodes/AmoCrmAccount/AmoCrmAccount.node.js'));
const { AmoCrmKommoApi } = require(path.join(ROOT, 'dist/credentials/AmoCrmKommoApi.credentials.js'));

const [url, token, mode, file] = process.argv.slice(2);
/**
 * Warm-up: uploads until two in a row leave the RSS as it was (at most
 * 12). The first uploads grow it by megabytes that have nothing to do with
 * the file: V8 compiles the hot paths, in the background, after some runs,
 * and its compiler's memory stays with the process.
 */
const MAX_WARM_UPS = 12;
const STEADY = 64 * 1024;
const credentials = { environment: 'local', baseUrl: url, connectionType: 'longLivedToken', longLivedToken: token, requestsPerSecond: 50 };
const credentialType = new AmoCrmKommoApi();
const params = { authentication: 'amoCrmKommoApi', resource: 'file', operation: 'upload', binaryPropertyName: 'data', fileName: '', attachTo: 'none', recordId: 0 };

function binaryOf(filePath) {
  const common = { fileName: path.basename(filePath), mimeType: 'application/octet-stream' };
  if (mode === 'default') return { ...common, data: fs.readFileSync(filePath).toString('base64') };
  return { ...common, id: `filesystem-v2:${filePath}`, data: 'filesystem-v2' };
}

function context(items) {
  return {
    getInputData: () => items,
    getNode: () => ({ name: 'Upload', type: 'n8n-nodes-amocrm-kommo.amoCrmAccount', typeVersion: 1, parameters: params, credentials: { amoCrmKommoApi: { id: 'bench', name: 'amoCRM' } } }),
    continueOnFail: () => false,
    getCredentials: async () => ({ ...credentials }),
    getNodeParameter(name, _index, fallback) {
      return name in params ? params[name] : fallback;
    },
    helpers: {
      assertBinaryData: (index, property) => items[index].binary[property],
      getBinaryMetadata: async (id) => ({ fileSize: fs.statSync(id.slice(id.indexOf(':') + 1)).size }),
      getBinaryStream: async (id, chunkSize) => fs.createReadStream(id.slice(id.indexOf(':') + 1), { highWaterMark: chunkSize }),
      httpRequestWithAuthentication: authenticatedRequest(credentialType, credentials),
    },
  };
}

async function upload(items) {
  const started = Date.now();
  const [out] = await new AmoCrmAccount().execute.call(context(items));
  const json = out[0].json;
  if (json.error || !json.uuid) throw new Error(`upload failed: ${JSON.stringify(json).slice(0, 500)}`);
  return { size: json.size, ms: Date.now() - started };
}

const stdin = process.stdin[Symbol.asyncIterator]();
const items = [{ json: {}, binary: { data: binaryOf(file) } }];
for (let i = 0, steady = 0, rss = process.memoryUsage().rss; i < MAX_WARM_UPS && steady < 2; i++) {
  await upload(items);
  const now = process.memoryUsage().rss;
  steady = now - rss < STEADY ? steady + 1 : 0;
  rss = now;
}
for (;;) {
  globalThis.gc?.();
  console.log(JSON.stringify({ ready: true }));
  const { value, done } = await stdin.next();
  if (done || !String(value).startsWith('go')) break;
  console.log(JSON.stringify(await upload(items)));
}
process.exit(0);
