// The one place that talks HTTP. It runs a core call to completion: emit what
// the core emits, send what it asks for (through n8n's authenticated helper,
// paced by the account's shared budget), hand each outcome back, and feed the
// input items as they are read. The loop is the same for every operation;
// all decisions are the core's.

import { NodeOperationError, sleep } from 'n8n-workflow';
import type {
	IAllExecuteFunctions,
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IPollFunctions,
	IWebhookFunctions,
} from 'n8n-workflow';
import { CoreCall, type BinarySlice, type CallInput, type CoreError, type CoreRequest, type Emit, type Step } from './core';
import { addressFields, authMode, rateSettings } from './credentials';
import { toNodeError } from './errors';
import { bodyBytesOrText, failureOf, lowerCaseHeaders } from './http';

export type ApiContext = IExecuteFunctions | ILoadOptionsFunctions | IHookFunctions | IPollFunctions | IWebhookFunctions;

export type Operation = Pick<CallInput, 'resource' | 'operation'> & { continueOnFail?: boolean };

/** Input items: the ones at hand, and a reader of the rest (large inputs come in chunks). */
export interface ItemSource {
	items: Array<IDataObject | null>;
	/** Reads the next chunk, starting at input item `first`; `last` when it ends the input. */
	next?: (first: number) => Promise<{ items: Array<IDataObject | null>; last: boolean }>;
	/** The call ended: a chunk still being read is no longer wanted. */
	cancel?: () => void;
	/** Binary data: reads the bytes of an upload part, keeps a downloaded file's. */
	binary?: BinaryIo;
}

/** Where the bytes of files come from and go to (see shared/binary.ts). */
export interface BinaryIo {
	read(slice: BinarySlice): Promise<Buffer>;
	keep(key: string, bytes: Uint8Array): void;
}

type Outcome =
	| { id: number; status: number; headers: Record<string, string>; body: Uint8Array | string }
	| { id: number; code: string; message: string };

type Chunk = { chunk: { first: number; items: Array<IDataObject | null>; last: boolean } };

/**
 * Runs `operation` over `input`, calling `onEmit` for every item or item
 * error the core emits. Returns the error that ended the whole call, if any
 * (a refused account address, or, when the node stops on errors, the first
 * item error with what was written before it); exceptions thrown by `onEmit`
 * or by the item reader propagate, after the requests in flight have ended.
 */
export async function runOperation(
	ctx: ApiContext,
	credentialType: string,
	operation: Operation,
	input: ItemSource,
	onEmit: (emit: Emit) => void,
): Promise<CoreError | undefined> {
	const credentials: ICredentialDataDecryptedObject = await ctx.getCredentials(credentialType);
	const created = CoreCall.create({
		resource: operation.resource,
		operation: operation.operation,
		items: input.items,
		more: input.next !== undefined,
		continueOnFail: operation.continueOnFail ?? false,
		credential: ctx.getNode().credentials?.[credentialType]?.id ?? '',
		account: addressFields(credentials, credentialType),
		auth: authMode(credentialType, credentials),
		...rateSettings(credentials),
	});
	if (!created.ok) return created.error;
	const call = created.value;
	const inFlight = new Map<number, Promise<Outcome>>();
	const state: SendState = { finished: false };
	let fed = input.items.length;
	let reading: Promise<Chunk> | undefined;
	const readNext = () => {
		const first = fed;
		reading = input.next!(first).then((c) => ({ chunk: { first, ...c } }));
		// Raced below; if the call ends first, its failure concerns nobody.
		reading.catch(() => undefined);
	};
	if (input.next) readNext();
	try {
		let step: Step = call.start();
		for (;;) {
			if (step.fatal) return step.fatal;
			for (const emit of step.emit) onEmit(emit);
			for (const request of step.requests) {
				inFlight.set(request.id, send(ctx, credentialType, call, request, state, input.binary));
			}
			if (step.done) return undefined;
			const next = await Promise.race<Outcome | Chunk>(reading ? [...inFlight.values(), reading] : inFlight.values());
			// The core could not pace a request: stop rather than send unpaced.
			if (state.failure) return state.failure;
			if ('chunk' in next) {
				const { first, items, last } = next.chunk;
				fed = first + items.length;
				reading = undefined;
				if (!last) readNext();
				step = call.feed(first, items, last);
				continue;
			}
			inFlight.delete(next.id);
			step =
				'status' in next
					? call.resume(next.id, next.status, next.headers, next.body)
					: call.fail(next.id, next.code, next.message);
		}
	} finally {
		state.finished = true;
		input.cancel?.();
		// A failure of the caller (an item reader that threw) leaves requests
		// on their way: wait for them, so that nothing is written unseen
		// after the node reported its error.
		await Promise.allSettled(inFlight.values());
		call.free();
	}
}

interface SendState {
	finished: boolean;
	failure?: CoreError;
}

async function send(
	ctx: ApiContext,
	credentialType: string,
	call: CoreCall,
	request: CoreRequest,
	state: SendState,
	binary?: BinaryIo,
): Promise<Outcome> {
	const { id } = request;
	if (request.delayMs > 0) await sleep(request.delayMs);
	if (state.finished) return { id, code: 'ABORTED', message: '' };
	// Granted right before sending (and recorded then), so a late timer
	// cannot put two requests closer together than the budget allows.
	for (;;) {
		const wait = call.acquire();
		if (!wait.ok) {
			state.failure ??= wait.error;
			return { id, code: 'ABORTED', message: '' };
		}
		if (wait.value <= 0) break;
		await sleep(wait.value);
		if (state.finished) return { id, code: 'ABORTED', message: '' };
	}
	const options: IHttpRequestOptions = {
		method: request.method,
		url: request.url,
		headers: request.headers,
		body: request.body,
		// The core reads every status itself, except for the re-authentication
		// probe, which must fail through n8n's 401 handling to renew the token.
		ignoreHttpStatusErrors: !request.reauthenticate,
		returnFullResponse: true,
		// The bytes as received: axios would otherwise parse JSON (losing big
		// integers), and the core reads UTF-8 bytes faster than JavaScript
		// decodes them into a string.
		encoding: 'arraybuffer',
		json: false,
		timeout: request.timeoutMs,
		// A redirect could carry the token to another host.
		disableFollowRedirect: true,
		sendCredentialsOnCrossOriginRedirect: false,
	};
	try {
		if (request.binaryBody) {
			if (!binary) return { id, code: 'ENOBINARY', message: 'no binary input' };
			options.body = await binary.read(request.binaryBody);
		}
		const response = (await ctx.helpers.httpRequestWithAuthentication.call(
			ctx as IAllExecuteFunctions,
			credentialType,
			options,
		)) as { statusCode: number; headers: Record<string, unknown>; body: unknown };
		const body = bodyBytesOrText(response.body);
		if (request.keepBody && binary && response.statusCode >= 200 && response.statusCode < 300) {
			binary.keep(request.keepBody, typeof body === 'string' ? Buffer.from(body) : body);
			return { id, status: response.statusCode, headers: lowerCaseHeaders(response.headers), body: '' };
		}
		return { id, status: response.statusCode, headers: lowerCaseHeaders(response.headers), body };
	} catch (error) {
		return { id, ...failureOf(error) };
	}
}

/**
 * Runs a core operation that takes one item of parameters; returns every
 * object it emits (a trigger's events), or throws its first error.
 */
export async function runForAll(ctx: ApiContext, credentialType: string, operation: Operation, params: IDataObject): Promise<IDataObject[]> {
	const results: IDataObject[] = [];
	let failure: CoreError | undefined;
	const fatal = await runOperation(ctx, credentialType, operation, { items: [params] }, (emit) => {
		if (emit.type === 'error') failure ??= emit.error;
		else results.push(emit.json);
	});
	failure ??= fatal;
	if (failure) throw toNodeError(ctx.getNode(), failure);
	return results;
}

/**
 * Runs a core operation that takes one item of parameters and emits one
 * object (a dropdown list, a webhook subscription call); throws its error.
 */
export async function runForOne(ctx: ApiContext, credentialType: string, operation: Operation, params: IDataObject): Promise<IDataObject> {
	const [result] = await runForAll(ctx, credentialType, operation, params);
	if (!result) throw new NodeOperationError(ctx.getNode(), `The amoCRM core returned nothing for ${operation.operation}`);
	return result;
}
