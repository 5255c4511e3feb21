// The file operations' binary reader and writer (n8n-node/shared/binary.ts)
// with a fake n8n: upload parts read from n8n's stored files (a stream) and
// from files kept in the item (base64), exactly the bytes the core asks
// for, in one reused buffer; stream chunks released once copied; streams
// closed; a downloaded file kept once and turned into the item's binary
// data; and the same through the AmoCRM Account node's execute().

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { dist, fakeContext, json } from './fake-n8n.mjs';

const { ItemBinaries, binaryMeta } = dist('shared/binary.js');
const { AmoCrmAccount } = dist('nodes/AmoCrmAccount/AmoCrmAccount.node.js');

const pattern = (n, seed = 3) => Buffer.from(Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 255));

/** Chunks of the given sizes over `bytes`, each a buffer of its own (as a file stream reads them). */
function chunksOf(bytes, sizes) {
  const out = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.min(sizes[i % sizes.length], bytes.length - at);
    out.push(Buffer.from(bytes.subarray(at, at + n)));
    at += n;
  }
  return out;
}

/** A fake n8n whose items hold `binaries` ({property: IBinaryData}); stored files are served from `store`. */
function binaryContext(binaries, store = {}) {
  const log = { streams: [], closed: 0 };
  const ctx = {
    log,
    helpers: {
      assertBinaryData(index, property) {
        const data = binaries[index]?.[property];
        if (!data) throw new Error(`no binary data "${property}" in item ${index}`);
        return data;
      },
      async getBinaryMetadata(id) {
        return { fileSize: store[id].bytes.length };
      },
      async getBinaryStream(id, chunkSize) {
        const { bytes, sizes } = store[id];
        const chunks = chunksOf(bytes, sizes ?? [chunkSize]);
        log.streams.push({ id, chunkSize, chunks });
        const stream = Readable.from(chunks);
        stream.on('close', () => log.closed++);
        return stream;
      },
    },
  };
  return ctx;
}

test('a stored file is read part by part from its stream, exactly the bytes asked, into one reused buffer', async () => {
  const file = pattern(300_000);
  const ctx = binaryContext([{ data: { id: 'filesystem-v2:a', data: 'filesystem-v2' } }], { 'filesystem-v2:a': { bytes: file, sizes: [1000, 7, 65_536, 4096] } });
  const binaries = new ItemBinaries(ctx);
  const parts = [];
  let memory;
  for (let start = 0; start < file.length; start += 100_003) {
    const end = Math.min(start + 100_003, file.length);
    const part = await binaries.read({ index: 0, property: 'data', start, end });
    assert.ok(part.equals(file.subarray(start, end)), `bytes ${start}..${end}`);
    memory ??= part.buffer;
    assert.equal(part.buffer, memory, 'every part is assembled in the same buffer');
    parts.push(Buffer.from(part));
  }
  assert.ok(Buffer.concat(parts).equals(file));
  assert.equal(ctx.log.streams.length, 1, 'one stream for the whole file');
  assert.equal(ctx.log.streams[0].chunkSize, 64 * 1024, 'reads of 64 KiB asked of n8n');
  binaries.close();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(ctx.log.closed, 1, 'the stream is closed');
});

test('parts out of order and a file shorter than announced are errors, not wrong bytes', async () => {
  const file = pattern(10_000);
  const ctx = binaryContext([{ data: { id: 'fs:a' } }], { 'fs:a': { bytes: file } });
  const binaries = new ItemBinaries(ctx);
  await binaries.read({ index: 0, property: 'data', start: 0, end: 4000 });
  await assert.rejects(binaries.read({ index: 0, property: 'data', start: 5000, end: 6000 }), /out of order \(byte 5000, expected 4000\)/);
  binaries.close();
  const short = new ItemBinaries(binaryContext([{ data: { id: 'fs:a' } }], { 'fs:a': { bytes: file } }));
  await assert.rejects(short.read({ index: 0, property: 'data', start: 0, end: 12_000 }), /the binary data ended after 10000 bytes/);
  short.close();
});

test('each stream chunk is released once copied, where the runtime can; a buffer larger than asked (database mode) is left alone', async () => {
  const file = pattern(200_000);
  const released = [];
  const ctx = binaryContext([{ data: { id: 'fs:a' } }, { data: { id: 'db:b' } }], { 'fs:a': { bytes: file }, 'db:b': { bytes: file, sizes: [file.length] } });
  const stream = ctx.helpers.getBinaryStream;
  ctx.helpers.getBinaryStream = async (id, size) => {
    const s = await stream(id, size);
    // ArrayBuffer.prototype.transfer (Node >= 21), observed on each chunk.
    for (const chunk of ctx.log.streams.at(-1).chunks) chunk.buffer.transfer = (n) => released.push({ id, length: chunk.byteLength, n });
    return s;
  };
  const binaries = new ItemBinaries(ctx);
  await binaries.read({ index: 0, property: 'data', start: 0, end: 150_000 });
  // 65536 + 65536 copied whole; the third chunk is still being read from.
  assert.deepEqual(released, [{ id: 'fs:a', length: 65_536, n: 0 }, { id: 'fs:a', length: 65_536, n: 0 }]);
  await binaries.read({ index: 0, property: 'data', start: 150_000, end: 200_000 });
  // The last chunk (3,392 bytes) lives in Node's shared buffer pool: not released.
  assert.deepEqual(released.map((r) => r.length), [65_536, 65_536, 65_536]);
  const whole = await binaries.read({ index: 1, property: 'data', start: 0, end: 200_000 });
  assert.ok(whole.equals(file));
  assert.equal(released.length, 3, 'the database buffer is not released');
  binaries.close();
});

test('a file kept in the item (base64) is decoded part by part at any byte offset; its size is exact', async () => {
  const file = pattern(250_001, 11);
  const data = { data: file.toString('base64'), fileName: 'report.pdf', mimeType: 'application/pdf' };
  const ctx = binaryContext([{ data }]);
  assert.deepEqual(await binaryMeta(ctx, 0, 'data'), { fileName: 'report.pdf', mimeType: 'application/pdf', fileSize: 250_001 });
  const binaries = new ItemBinaries(ctx);
  // Offsets that are not multiples of 3 (base64 groups), parts larger than a decoded piece (48 KiB).
  for (const [start, end] of [[0, 1], [1, 2], [2, 100_000], [100_000, 100_004], [100_004, 250_001]]) {
    const part = await binaries.read({ index: 0, property: 'data', start, end });
    assert.ok(part.equals(file.subarray(start, end)), `bytes ${start}..${end}`);
  }
  await assert.rejects(binaries.read({ index: 0, property: 'data', start: 250_000, end: 250_010 }), /the binary data ended/);
  binaries.close();
});

test('base64 with line breaks is decoded as n8n would, and sized by its bytes, not its characters', async () => {
  const file = pattern(5000);
  const wrapped = file.toString('base64').replace(/.{76}/g, '$&\r\n');
  const ctx = binaryContext([{ data: { data: wrapped, fileName: 'a.bin' } }]);
  assert.equal((await binaryMeta(ctx, 0, 'data')).fileSize, 5000);
  const binaries = new ItemBinaries(ctx);
  assert.ok((await binaries.read({ index: 0, property: 'data', start: 1234, end: 5000 })).equals(file.subarray(1234)));
  binaries.close();
});

test('a stored file is sized by n8n\'s metadata; a missing property is n8n\'s own error', async () => {
  const ctx = binaryContext([{ data: { id: 'fs:a', data: 'filesystem-v2', mimeType: 'image/png' } }], { 'fs:a': { bytes: pattern(777) } });
  assert.deepEqual(await binaryMeta(ctx, 0, 'data'), { fileName: '', mimeType: 'image/png', fileSize: 777 });
  await assert.rejects(binaryMeta(ctx, 0, 'other'), /no binary data "other"/);
});

test('a part of another file closes the previous file\'s stream (files go one at a time)', async () => {
  const a = pattern(70_000, 1);
  const b = pattern(70_000, 2);
  const ctx = binaryContext([{ data: { id: 'fs:a' } }, { data: { id: 'fs:b' } }], { 'fs:a': { bytes: a }, 'fs:b': { bytes: b } });
  const binaries = new ItemBinaries(ctx);
  assert.ok((await binaries.read({ index: 0, property: 'data', start: 0, end: 70_000 })).equals(a));
  assert.ok((await binaries.read({ index: 1, property: 'data', start: 0, end: 50_000 })).equals(b.subarray(0, 50_000)));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(ctx.log.closed, 1);
  binaries.close();
});

test('a downloaded file is kept under its key and handed over once, as the same bytes', () => {
  const binaries = new ItemBinaries(binaryContext([]));
  const bytes = new Uint8Array(pattern(1000));
  binaries.keep('file-0', bytes);
  const taken = binaries.take('file-0');
  assert.ok(Buffer.isBuffer(taken));
  assert.ok(taken.equals(pattern(1000)));
  assert.equal(taken.buffer, bytes.buffer, 'not copied');
  assert.equal(binaries.take('file-0'), undefined);
  binaries.keep('file-1', bytes);
  binaries.close();
  assert.equal(binaries.take('file-1'), undefined, 'close() drops what was not taken');
});

// ---- through the node ------------------------------------------------------------------------------

const DRIVE = 'http://127.0.0.1:10';

/** The drive and account as amoCRM answers them, with parts of `partSize`; every body copied when sent. */
function driveResponder(partSize, file, bodies) {
  return (r) => {
    const url = new URL(r.url);
    if (url.pathname === '/api/v4/account') return json(200, { id: 1, drive_url: DRIVE });
    if (url.pathname === '/v1.0/sessions') return json(200, { session_id: 's', upload_url: `${DRIVE}/upload/s/1`, max_part_size: partSize, max_file_size: 1e9 });
    if (url.pathname.startsWith('/upload/s/')) {
      bodies.push(Buffer.from(r.body));
      const n = Number(url.pathname.split('/').pop());
      const got = bodies.reduce((a, b) => a + b.length, 0);
      if (got < file.length) return json(200, { next_url: `${DRIVE}/upload/s/${n + 1}` });
      return json(200, { uuid: '9cb6ac4a-a0f7-4c3d-b0a5-5b8a8b0d1c2e', name: 'big.bin', size: got, _links: { download: { href: `${DRIVE}/download/9cb6ac4a` } } });
    }
    if (url.pathname === '/v1.0/files/9cb6ac4a-a0f7-4c3d-b0a5-5b8a8b0d1c2e') {
      return json(200, { uuid: '9cb6ac4a-a0f7-4c3d-b0a5-5b8a8b0d1c2e', name: 'big.bin', metadata: { mime_type: 'application/octet-stream' }, _links: { download: { href: `${DRIVE}/download/9cb6ac4a` } } });
    }
    if (url.pathname === '/download/9cb6ac4a') return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: file };
    throw new Error(`unexpected ${r.method} ${r.url}`);
  };
}

function accountContext(params, items, respond, store) {
  const ctx = fakeContext({ params, items, respond });
  const node = ctx.getNode();
  ctx.getNode = () => ({ ...node, name: 'AmoCRM Account', type: 'n8n-nodes-amocrm-kommo.amoCrmAccount' });
  const fake = binaryContext(items.map((i) => i.binary ?? {}), store);
  Object.assign(ctx.helpers, fake.helpers);
  ctx.prepared = [];
  ctx.helpers.prepareBinaryData = async (bytes, fileName, mimeType) => {
    ctx.prepared.push({ bytes: Buffer.from(bytes), fileName, mimeType });
    return { data: 'filesystem-v2', id: `filesystem-v2:${ctx.prepared.length}`, fileName, mimeType };
  };
  return ctx;
}

test('Upload through execute(): each part is sent with exactly its bytes, from a stored file and from base64', async () => {
  const file = pattern(1_300_000);
  for (const binary of [{ data: { id: 'fs:big', data: 'filesystem-v2', fileName: 'big.bin', mimeType: 'application/octet-stream' } }, { data: { data: file.toString('base64'), fileName: 'big.bin' } }]) {
    const bodies = [];
    const params = { authentication: 'amoCrmKommoApi', resource: 'file', operation: 'upload', binaryPropertyName: 'data', fileName: '', attachTo: 'none' };
    const ctx = accountContext(params, [{ json: {}, binary }], driveResponder(524_288, file, bodies), { 'fs:big': { bytes: file } });
    const [out] = await new AmoCrmAccount().execute.call(ctx);
    assert.equal(out[0].json.size, file.length);
    assert.deepEqual(bodies.map((b) => b.length), [524_288, 524_288, 251_424]);
    assert.ok(Buffer.concat(bodies).equals(file));
    const session = ctx.requests.find((r) => r.url.endsWith('/v1.0/sessions'));
    assert.deepEqual(JSON.parse(session.body), { file_name: 'big.bin', file_size: 1_300_000, content_type: 'application/octet-stream' });
  }
});

test('Download through execute(): the file becomes the item\'s binary data under the chosen property', async () => {
  const file = pattern(40_000);
  const params = { authentication: 'amoCrmKommoApi', resource: 'file', operation: 'download', fileUuid: '9cb6ac4a-a0f7-4c3d-b0a5-5b8a8b0d1c2e', binaryPropertyName: 'attachment' };
  const ctx = accountContext(params, [{ json: {} }], driveResponder(524_288, file, []));
  const [out] = await new AmoCrmAccount().execute.call(ctx);
  assert.equal(out[0].json.uuid, '9cb6ac4a-a0f7-4c3d-b0a5-5b8a8b0d1c2e');
  assert.equal(out[0].json.$binary, undefined);
  assert.deepEqual(Object.keys(out[0].binary), ['attachment']);
  assert.equal(ctx.prepared.length, 1);
  assert.ok(ctx.prepared[0].bytes.equals(file));
  assert.deepEqual([ctx.prepared[0].fileName, ctx.prepared[0].mimeType], ['big.bin', 'application/octet-stream']);
  assert.deepEqual(out[0].pairedItem, { item: 0 });
});
