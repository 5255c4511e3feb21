// The one place that talks HTTP. It runs a core operation to completion: emit
// what the core emits, send what it asks for (through n8n's authenticated
// helper, paced by the account's shared budget), hand each outcome back. The
// loop is the same for every operation; all decisions are the core's.

import { sleep } from 'n8n-workflow';
import type {
	IAllExecuteFunctions,
	ICredentialDataDecryptedObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
} from 'n8n-workflow';
import { CoreCall, type CallInput, type CoreError, type CoreRequest, type Emit } from './core';
import { addressFields, authMode, requestsPerSecond } from './credentials';
import { bodyBytesOrText, failureOf, lowerCaseHeaders } from './http';

export type ApiContext = IExecuteFunctions | ILoadOptionsFunctions | IHookFunctions;

export type Operation = Pick<CallInput, 'resource' | 'operation' | 'items' | 'firstItem'>;

type Outcome =
	| { id: number; status: number; headers: Record<string, string>; body: Uint8Array | string }
	| { id: number; code: string; message: string };

/**
 * Runs `operation`, calling `onEmit` for every item or item error the core
 * emits. Returns the error that failed the whole call, if any (a refused
 * account address, say); exceptions thrown by `onEmit` propagate.
 */
export async function runOperation(
	ctx: ApiContext,
	credentialType: string,
	operation: Operation,
	onEmit: (emit: Emit) => void,
): Promise<CoreError | undefined> {
	const credentials: ICredentialDataDecryptedObject = await ctx.getCredentials(credentialType);
	const created = CoreCall.create({
		...operation,
		account: addressFields(credentials, credentialType),
		auth: authMode(credentialType, credentials),
		requestsPerSecond: requestsPerSecond(credentials),
		nowMs: Date.now(),
	});
	if (!created.ok) return created.error;
	const call = created.value;
	const inFlight = new Map<number, Promise<Outcome>>();
	const state: SendState = { finished: false };
	try {
		let step = call.start();
		for (;;) {
			if (step.fatal) return step.fatal;
			for (const emit of step.emit) onEmit(emit);
			for (const request of step.requests) {
				inFlight.set(request.id, send(ctx, credentialType, call, request, state));
			}
			if (step.done) return undefined;
			const outcome = await Promise.race(inFlight.values());
			inFlight.delete(outcome.id);
			// The core could not pace a request: stop rather than send unpaced.
			if (state.failure) return state.failure;
			step =
				'status' in outcome
					? call.resume(outcome.id, outcome.status, outcome.headers, outcome.body)
					: call.fail(outcome.id, outcome.code, outcome.message);
		}
	} finally {
		// Requests still in flight (an item error stopped the node) finish on
		// their own; their outcomes are dropped.
		state.finished = true;
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
		const response = (await ctx.helpers.httpRequestWithAuthentication.call(
			ctx as IAllExecuteFunctions,
			credentialType,
			options,
		)) as { statusCode: number; headers: Record<string, unknown>; body: unknown };
		return {
			id,
			status: response.statusCode,
			headers: lowerCaseHeaders(response.headers),
			body: bodyBytesOrText(response.body),
		};
	} catch (error) {
		return { id, ...failureOf(error) };
	}
}
