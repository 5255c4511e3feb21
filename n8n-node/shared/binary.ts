// Binary data of input and output items, for the file operations: the bytes
// of an upload part, read from n8n's binary data by the part the core asks
// for, and the bytes of a downloaded file, kept until the core emits its
// item. The core decides every boundary; nothing here knows amoCRM.
//
// Memory stays flat while a large file goes up (npm run bench -- --upload
// measures it): every part is assembled in ONE buffer, reused for every part
// of every file (files go one at a time), and
//   - a file in n8n's store (filesystem, S3, database) is read as a stream in
//     order, 64 KiB at a time; each chunk is copied into the part buffer and,
//     where the runtime can (ArrayBuffer.prototype.transfer, Node >= 21),
//     freed at once rather than at V8's next collection (chunks left to V8
//     grew a 50 MB upload's process by 21 MB on Node 24);
//   - a file kept in the item itself (n8n's "default" in-memory mode: base64
//     text) is decoded part by part, only the characters of that part,
//     straight into the part buffer.

import type { IBinaryData, IDataObject, IExecuteFunctions } from 'n8n-workflow';
import type { BinarySlice } from './core';
import type { BinaryIo } from './transport';

/**
 * Bytes asked of n8n's stream per read. A file stream allocates a buffer
 * per read and reads one ahead: small reads keep what is held besides the
 * part buffer small.
 */
const STREAM_CHUNK = 64 * 1024;

type Chunks = AsyncIterator<Uint8Array> & { return?: () => Promise<unknown> };

/** Where a part's bytes are assembled. */
interface PartSource {
	read(start: number, end: number, into: Buffer): Promise<Buffer>;
	close(): void;
}

/**
 * Frees a chunk's memory now, when the chunk is the whole of its own
 * ArrayBuffer (as file streams allocate them) and no larger than what was
 * asked for (a database-mode file comes as one buffer that n8n may hold).
 */
function release(chunk: Uint8Array, asked: number): void {
	const memory = chunk.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
	if (typeof memory.transfer !== 'function') return;
	if (chunk.byteOffset !== 0 || chunk.byteLength !== memory.byteLength || memory.byteLength > asked) return;
	memory.transfer(0);
}

/** A stream of the file read in order, part after part. */
class StreamSource implements PartSource {
	private position = 0;
	private pending: { chunk: Uint8Array; offset: number } | undefined;

	/** `chunks` come from a stream asked for reads of `asked` bytes. */
	constructor(
		private readonly chunks: Chunks,
		private readonly asked: number,
	) {}

	async read(start: number, end: number, into: Buffer): Promise<Buffer> {
		if (start !== this.position) throw new Error(`file parts were asked for out of order (byte ${start}, expected ${this.position})`);
		const size = end - start;
		let filled = 0;
		while (filled < size) {
			if (!this.pending) {
				const next = await this.chunks.next();
				if (next.done) throw new Error(`the binary data ended after ${start + filled} bytes`);
				const value = next.value as Uint8Array | string;
				this.pending = { chunk: typeof value === 'string' ? Buffer.from(value) : value, offset: 0 };
			}
			const { chunk, offset } = this.pending;
			const take = Math.min(chunk.byteLength - offset, size - filled);
			into.set(chunk.subarray(offset, offset + take), filled);
			filled += take;
			if (offset + take < chunk.byteLength) {
				this.pending.offset += take;
			} else {
				this.pending = undefined;
				release(chunk, this.asked);
			}
		}
		this.position = end;
		return into.subarray(0, size);
	}

	close(): void {
		this.pending = undefined;
		void this.chunks.return?.().catch(() => undefined);
	}
}

/** Characters of base64 decoded at a time: 48 KiB of bytes. */
const BASE64_PIECE = 64 * 1024;

/** Base64 as n8n writes it: no line breaks, no spaces, padding at the end only. */
const PLAIN_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A file kept in the item as base64 text: each part decoded from its own characters. */
class InlineSource implements PartSource {
	constructor(private readonly base64: string) {}

	async read(start: number, end: number, into: Buffer): Promise<Buffer> {
		// Every 4 characters are 3 bytes: decode from the group holding byte
		// `start` to the one holding byte `end - 1`, a piece at a time (a
		// piece of text is copied to be decoded; small pieces are freed at
		// once, large ones only at V8's next full collection).
		const first = Math.floor(start / 3);
		const skip = start - first * 3;
		const last = Math.min(Math.ceil(end / 3) * 4, this.base64.length);
		let written = 0;
		for (let at = first * 4; at < last; at += BASE64_PIECE) {
			written += into.write(this.base64.slice(at, Math.min(at + BASE64_PIECE, last)), written, 'base64');
		}
		if (written < skip + end - start) throw new Error(`the binary data ended after ${first * 3 + written} bytes`);
		return into.subarray(skip, skip + end - start);
	}

	close(): void {}
}

/** Base64 with anything else in it (line breaks, a data: prefix): decoded once, as n8n would. */
class DecodedSource implements PartSource {
	constructor(private readonly bytes: Buffer) {}

	async read(start: number, end: number): Promise<Buffer> {
		if (end > this.bytes.length) throw new Error(`the binary data ended after ${this.bytes.length} bytes`);
		return this.bytes.subarray(start, end);
	}

	close(): void {}
}

const plainness = new WeakMap<IBinaryData, boolean>();

/** Whether an item's own file is plain base64 (checked once per file: half a second for 50 MB). */
function isPlain(data: IBinaryData): boolean {
	let plain = plainness.get(data);
	if (plain === undefined) {
		plain = PLAIN_BASE64.test(data.data);
		plainness.set(data, plain);
	}
	return plain;
}

/** The exact size of an item's own (base64) file. */
function inlineSize(data: IBinaryData): number {
	return isPlain(data) ? Buffer.byteLength(data.data, 'base64') : Buffer.from(data.data, 'base64').length;
}

/** What the core needs to know of an item's file: its name, type and exact size. */
export async function binaryMeta(ctx: IExecuteFunctions, index: number, property: string): Promise<IDataObject> {
	const data: IBinaryData = ctx.helpers.assertBinaryData(index, property);
	const size = data.id ? (await ctx.helpers.getBinaryMetadata(data.id)).fileSize : inlineSize(data);
	return { fileName: data.fileName ?? '', mimeType: data.mimeType ?? '', fileSize: size };
}

export class ItemBinaries implements BinaryIo {
	private current: { key: string; source: PartSource } | undefined;
	private part: Buffer | undefined;
	private readonly kept = new Map<string, Uint8Array>();

	constructor(private readonly ctx: IExecuteFunctions) {}

	async read(slice: BinarySlice): Promise<Buffer> {
		const key = `${slice.index}\u0000${slice.property}`;
		if (this.current?.key !== key) {
			// The core uploads one file at a time: a part of another file
			// means the previous one is finished.
			this.current?.source.close();
			this.current = undefined;
			this.current = { key, source: await this.open(slice) };
		}
		// Base64 is decoded in groups of 3 bytes: room for 2 more on each side.
		const room = slice.end - slice.start + 4;
		if (!this.part || this.part.length < room) this.part = Buffer.allocUnsafeSlow(room);
		return await this.current.source.read(slice.start, slice.end, this.part);
	}

	private async open(slice: BinarySlice): Promise<PartSource> {
		const data = this.ctx.helpers.assertBinaryData(slice.index, slice.property);
		// Stored by n8n (filesystem, database, S3): streamed part by part.
		if (data.id) {
			const stream = await this.ctx.helpers.getBinaryStream(data.id, STREAM_CHUNK);
			return new StreamSource(stream[Symbol.asyncIterator]() as Chunks, STREAM_CHUNK);
		}
		// Kept in the item itself (base64).
		return isPlain(data) ? new InlineSource(data.data) : new DecodedSource(Buffer.from(data.data, 'base64'));
	}

	keep(key: string, bytes: Uint8Array): void {
		this.kept.set(key, bytes);
	}

	/** The bytes kept under `key`, handed over once. */
	take(key: string): Buffer | undefined {
		const bytes = this.kept.get(key);
		this.kept.delete(key);
		return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	}

	close(): void {
		this.current?.source.close();
		this.current = undefined;
		this.part = undefined;
		this.kept.clear();
	}
}
