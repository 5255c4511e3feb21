// Binary data of input and output items, for the file operations: the bytes
// of an upload part, read from n8n's binary data by the part the core asks
// for (a stream read in order, into one reused buffer, so that memory holds
// a part at a time), and the bytes of a downloaded file, kept until the core
// emits its item. The core decides every boundary; nothing here knows amoCRM.

import type { IBinaryData, IDataObject, IExecuteFunctions } from 'n8n-workflow';
import type { BinarySlice } from './core';
import type { BinaryIo } from './transport';

type Chunks = AsyncIterator<Buffer> & { return?: () => Promise<unknown> };

/** Reads a binary stream part by part, in order, into one buffer. */
class PartReader {
	private position = 0;
	private leftover: Buffer | undefined;
	private buffer: Buffer | undefined;

	constructor(private readonly chunks: Chunks) {}

	async read(start: number, end: number): Promise<Buffer> {
		if (start !== this.position) throw new Error(`file parts were asked for out of order (byte ${start}, expected ${this.position})`);
		const size = end - start;
		if (!this.buffer || this.buffer.length < size) this.buffer = Buffer.allocUnsafe(size);
		let filled = 0;
		while (filled < size) {
			let chunk = this.leftover;
			this.leftover = undefined;
			if (!chunk) {
				const next = await this.chunks.next();
				if (next.done) throw new Error(`the binary data ended after ${start + filled} bytes`);
				chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
			}
			const take = Math.min(chunk.length, size - filled);
			chunk.copy(this.buffer, filled, 0, take);
			filled += take;
			if (take < chunk.length) this.leftover = chunk.subarray(take);
		}
		this.position = end;
		return this.buffer.subarray(0, size);
	}

	close(): void {
		void this.chunks.return?.();
	}
}

/** What the core needs to know of an item's file: its name, type and exact size. */
export async function binaryMeta(ctx: IExecuteFunctions, index: number, property: string): Promise<IDataObject> {
	const data: IBinaryData = ctx.helpers.assertBinaryData(index, property);
	const size = data.id ? (await ctx.helpers.getBinaryMetadata(data.id)).fileSize : Buffer.byteLength(data.data, 'base64');
	return { fileName: data.fileName ?? '', mimeType: data.mimeType ?? '', fileSize: size };
}

export class ItemBinaries implements BinaryIo {
	private readonly readers = new Map<string, PartReader | Buffer>();
	private readonly kept = new Map<string, Uint8Array>();

	constructor(private readonly ctx: IExecuteFunctions) {}

	async read(slice: BinarySlice): Promise<Buffer> {
		const key = `${slice.index}\u0000${slice.property}`;
		let reader = this.readers.get(key);
		if (!reader) {
			const data = this.ctx.helpers.assertBinaryData(slice.index, slice.property);
			// Stored by n8n (filesystem, database, S3): streamed part by part.
			// Kept in the item itself (base64): it is in memory already.
			reader = data.id
				? new PartReader((await this.ctx.helpers.getBinaryStream(data.id, slice.end - slice.start))[Symbol.asyncIterator]() as Chunks)
				: Buffer.from(data.data, 'base64');
			this.readers.set(key, reader);
		}
		return Buffer.isBuffer(reader) ? reader.subarray(slice.start, slice.end) : await reader.read(slice.start, slice.end);
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
		for (const r of this.readers.values()) if (!Buffer.isBuffer(r)) r.close();
		this.readers.clear();
		this.kept.clear();
	}
}
