// Reads every lead of the emulator through the AmoCRM Lead node's TypeScript
// layer (dist/, as n8n runs it): Get Many with Return All, Simplify as its
// default (off), in a process of its own, so that scripts/bench.mjs can
// sample this process's memory while the pages come in and the items are
// built. n8n's side is a stand-in: requests go through axios as n8n's helper
// sends them, the credential's real authenticate() runs on every request,
// and the items the node returns are held, as n8n holds a node's output,
// but neither printed nor stored. What grows is the node's own: the
// responses, the core's buffers and the items it builds.
//
//   node bench/return-all-memory.mjs <url> <token> <leads> <warm-up url> <warm-up token> <warm-up leads> [node|plain]
//
// "plain" is the reference for the figure: the same pages through the same
// helper, parsed by JavaScript into the same items, without the node (what
// V8 needs at least to hold these items).
//
// First reads every lead of the warm-up account (a smaller one: the node's
// first use, V8's compiled code, as in a running n8n; a warm-up over the
// same 50,000 leads would leave the heap and malloc's arenas grown by a
// first read, and the measured read would refill them: +26 MB instead of
// +89 MB seen), collects its garbage and prints {"ready": true}; on a "go"
// line on stdin (sent once the bench has read the memory before) it reads
// every lead of the measured account and prints {items, ms}, the items
// still held; on the "size" line that follows (sent once the bench has read
// the peak) it prints {bytes}, the summed length of JSON.stringify of every
// item's json (and utf8Bytes, the same as UTF-8), and exits. One measured
// read per process. Run with --expose-gc.

import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { authenticatedRequest } from './stand-in.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { AmoCrmLead } = require(path.join(ROOT, 'dist/nodes/AmoCrmLead/AmoCrmLead.node.js'));
const { AmoCrmKommoApi } = require(path.join(ROOT, 'dist/credentials/AmoCrmKommoApi.credentials.js'));

const [url, token, leads, warmUrl, warmToken, warmLeads, way = 'node'] = process.argv.slice(2);
const credentialType = new AmoCrmKommoApi();
const params = {
  authentication: 'amoCrmKommoApi',
  resource: 'lead',
  operation: 'getMany',
  returnAll: true,
  limit: 50,
  simplify: false,
  query: '',
  filters: {},
  options: {},
};

function context(url, token) {
  const credentials = { environment: 'local', baseUrl: url, connectionType: 'longLivedToken', longLivedToken: token, requestsPerSecond: 50 };
  return {
    getInputData: () => [{ json: {} }],
    getNode: () => ({ name: 'Get Many', type: 'n8n-nodes-amocrm-kommo.amoCrmLead', typeVersion: 1, parameters: params, credentials: { amoCrmKommoApi: { id: `bench ${url}`, name: 'amoCRM' } } }),
    continueOnFail: () => false,
    getCredentials: async () => ({ ...credentials }),
    getNodeParameter(name, _index, fallback) {
      return name in params ? params[name] : fallback;
    },
    helpers: {
      httpRequestWithAuthentication: authenticatedRequest(credentialType, credentials),
    },
  };
}

/**
 * The reference: the same pages through the same helper, one after
 * another, each body decoded and parsed by JavaScript into the same items
 * (what a node without the core would hold at least).
 */
async function plainItems(url, token) {
  const { helpers } = context(url, token);
  const out = [];
  for (let page = 1; ; page++) {
    const options = { method: 'GET', url: `${url}/api/v4/leads?limit=250&page=${page}`, headers: {} };
    const { statusCode, body } = await helpers.httpRequestWithAuthentication('amoCrmKommoApi', options);
    if (statusCode === 204) return out;
    if (statusCode !== 200) throw new Error(`page ${page}: HTTP ${statusCode}`);
    const { _embedded, _links } = JSON.parse(body.toString('utf8'));
    for (const json of _embedded.leads) out.push({ json, pairedItem: { item: 0 } });
    if (!_links?.next) return out;
  }
}

async function readAll(url, token, expected) {
  const started = Date.now();
  const out = way === 'plain' ? await plainItems(url, token) : (await new AmoCrmLead().execute.call(context(url, token)))[0];
  const failed = out.find((i) => i.json.error);
  if (failed || out.length !== Number(expected)) {
    throw new Error(`read ${out.length} of ${expected} leads: ${JSON.stringify(failed?.json ?? {}).slice(0, 500)}`);
  }
  return { out, ms: Date.now() - started };
}

const stdin = process.stdin[Symbol.asyncIterator]();
await readAll(warmUrl, warmToken, warmLeads);
globalThis.gc?.();
console.log(JSON.stringify({ ready: true }));
const go = await stdin.next();
if (!go.done && String(go.value).startsWith('go')) {
  const { out, ms } = await readAll(url, token, leads);
  console.log(JSON.stringify({ items: out.length, ms }));
  const size = await stdin.next();
  if (!size.done && String(size.value).startsWith('size')) {
    let bytes = 0;
    let utf8Bytes = 0;
    for (const item of out) {
      const text = JSON.stringify(item.json);
      bytes += text.length;
      utf8Bytes += Buffer.byteLength(text);
    }
    console.log(JSON.stringify({ bytes, utf8Bytes }));
  }
}
process.exit(0);
