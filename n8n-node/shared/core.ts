// Typed access to the Rust core (src/wasm.rs). Every call crosses as a JSON
// string; this file is the only place that parses them. The core decides;
// nothing here knows amoCRM.

import type { IDataObject } from 'n8n-workflow';
import * as wasm from './wasm/amocrm_core';

export type ErrorKind = 'input' | 'address' | 'api' | 'token' | 'internal';

export interface CoreError {
	kind: ErrorKind;
	message: string;
	description?: string;
	httpCode?: number;
	/** What the node wrote to amoCRM before it stopped at this error. */
	written?: Array<{ index: number; id: number }>;
	/** The input item the node stopped at. */
	itemIndex?: number;
}

export interface CoreRequest {
	id: number;
	/** Wait this long before sending (a back-off chosen by the core). */
	delayMs: number;
	/** Give up waiting for an answer after this long. */
	timeoutMs: number;
	method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
	/** Absolute URL with its query string already encoded. */
	url: string;
	body?: string;
	headers: Record<string, string>;
	/** Send through n8n's 401 handling so that an OAuth token is renewed. */
	reauthenticate?: boolean;
	/** The body is these bytes of an input item's binary data (a part of an upload). */
	binaryBody?: BinarySlice;
	/** Keep the response body's bytes under this key (a downloaded file); the core gets only status and headers. */
	keepBody?: string;
}

/** Bytes `start` to `end` (exclusive) of the binary property `property` of input item `index`. */
export interface BinarySlice {
	index: number;
	property: string;
	start: number;
	end: number;
}

export type Emit =
	| { type: 'item'; index: number; json: IDataObject }
	| { type: 'error'; index: number; error: CoreError };

export interface Step {
	requests: CoreRequest[];
	emit: Emit[];
	done: boolean;
	throttled?: boolean;
	fatal?: CoreError;
}

/** The credential's address fields, as the core reads them. */
export interface AddressFields {
	environment: string;
	address: string;
	zone: string;
	baseUrl: string;
	/** The address must be a bare subdomain (the n8n OAuth2 credential). */
	subdomainOnly?: boolean;
}

export type AuthMode = 'longLivedToken' | 'oauth' | 'oauth2';

export interface CallInput {
	/** The core's resource: an entity (`lead`, `contact`, …), `request` or `webhook`. */
	resource: string;
	operation: string;
	account: AddressFields;
	/** Parameters of the first input items, in input order; null for an item the shell already failed. */
	items: Array<IDataObject | null>;
	/** More items will be fed (large inputs go in chunks). */
	more?: boolean;
	/** n8n's Continue On Fail: when false, the first item error stops the call. */
	continueOnFail?: boolean;
	/** The credential's ID: the core keeps cached account metadata per credential. */
	credential?: string;
	requestsPerSecond?: number;
	auth: AuthMode;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: CoreError };

/**
 * Runs `fn` against the instantiated module. A trap (a panic in the core)
 * leaves the instance in an unknown state, so it is dropped and the next call
 * starts a fresh one; the caller gets an internal error.
 */
function guarded<T>(fn: () => T): Result<T> {
	try {
		wasm.__instantiate();
		return { ok: true, value: fn() };
	} catch (error) {
		const trapped = error instanceof Error && error.name === 'RuntimeError';
		if (trapped) wasm.__reset();
		return {
			ok: false,
			error: {
				kind: 'internal',
				message: `The amoCRM core failed${trapped ? ' and was restarted' : ''}: ${(error as Error).message}`,
				description: 'This is a bug in the amoCRM nodes; please report it with the workflow that triggered it.',
			},
		};
	}
}

/** A step from the core's JSON, or a final step carrying the failure. */
function stepOf(result: Result<string>): Step {
	if (!result.ok) return { requests: [], emit: [], done: true, fatal: result.error };
	return JSON.parse(result.value) as Step;
}

/** One running operation; free() it when done. */
export class CoreCall {
	private constructor(private readonly handle: wasm.NodeCall) {}

	static create(input: CallInput): Result<CoreCall> {
		const made = guarded(() => new wasm.NodeCall(JSON.stringify(input)));
		return made.ok ? { ok: true, value: new CoreCall(made.value) } : made;
	}

	start(): Step {
		return stepOf(guarded(() => this.handle.start(Date.now())));
	}

	/** More input items, the first of them item `first`; `last` when no more will come. */
	feed(first: number, items: Array<IDataObject | null>, last: boolean): Step {
		const text = JSON.stringify(items);
		return stepOf(guarded(() => this.handle.feed(first, text, last, Date.now())));
	}

	/** The response to request `id`; the body as received (bytes) or as text. */
	resume(id: number, status: number, headers: Record<string, string>, body: Uint8Array | string): Step {
		const meta = JSON.stringify({ status, headers });
		return stepOf(
			guarded(() =>
				typeof body === 'string'
					? this.handle.resume(id, meta, body, Date.now())
					: this.handle.resumeBytes(id, meta, body, Date.now()),
			),
		);
	}

	fail(id: number, code: string, message: string): Step {
		return stepOf(guarded(() => this.handle.fail(id, code, message, Date.now())));
	}

	/**
	 * Asks the account's budget, shared by the process, for a send now: 0
	 * when granted, else milliseconds to wait before asking again.
	 */
	acquire(): Result<number> {
		return guarded(() => this.handle.acquire(Date.now()));
	}

	free(): void {
		guarded(() => this.handle.free());
	}
}

/** The validated origin of the credential's account. */
export function accountOrigin(fields: AddressFields): Result<string> {
	const result = guarded(() => wasm.checkAccount(JSON.stringify(fields)));
	if (!result.ok) return result;
	const parsed = JSON.parse(result.value) as { origin?: string; error?: CoreError };
	return parsed.error ? { ok: false, error: parsed.error } : { ok: true, value: parsed.origin as string };
}

/** Whether `url` is on the credential's own account. */
export function checkOwnUrl(fields: AddressFields, url: string): Result<true> {
	const result = guarded(() => wasm.checkRequestUrl(JSON.stringify(fields), url));
	if (!result.ok) return result;
	const parsed = JSON.parse(result.value) as { ok?: boolean; error?: CoreError };
	return parsed.error ? { ok: false, error: parsed.error } : { ok: true, value: true };
}

/** The token fields an OAuth credential persists (src/token/mod.rs). */
export interface TokenFields {
	accessToken: string;
	refreshToken: string;
	accessExpiresAt: number;
	grantFingerprint: string;
}

/** A token request as the core builds it (POST to the account's token endpoint). */
export type TokenRequest = Omit<CoreRequest, 'id' | 'delayMs' | 'timeoutMs'>;

export type TokenPlan =
	| { action: 'none' }
	| { action: 'use'; tokens: TokenFields }
	| { action: 'send'; flight: string; request: TokenRequest };

function tokenOutcome(result: Result<string>): Result<TokenFields> {
	if (!result.ok) return result;
	const parsed = JSON.parse(result.value) as { tokens?: TokenFields; error?: CoreError };
	return parsed.error ? { ok: false, error: parsed.error } : { ok: true, value: parsed.tokens as TokenFields };
}

/** What preAuthentication must do for these credential fields. */
export function tokenPlan(fields: IDataObject): Result<TokenPlan> {
	const result = guarded(() => wasm.tokenPlan(JSON.stringify(fields), Date.now()));
	if (!result.ok) return result;
	const parsed = JSON.parse(result.value) as TokenPlan & { error?: CoreError };
	return parsed.error ? { ok: false, error: parsed.error } : { ok: true, value: parsed };
}

/** Reads the token endpoint's answer for a planned flight. */
export function tokenComplete(
	flight: string,
	status: number,
	headers: Record<string, string>,
	body: string,
): Result<TokenFields> {
	const meta = JSON.stringify({ status, headers });
	return tokenOutcome(guarded(() => wasm.tokenComplete(flight, meta, body, Date.now())));
}

/** The token request of a flight got no answer. */
export function tokenAbandon(flight: string, code: string): Result<TokenFields> {
	return tokenOutcome(guarded(() => wasm.tokenAbandon(flight, code)));
}

/** What the core made of one webhook body (src/webhook/mod.rs). */
export interface WebhookParse {
	/** One object per event: {event, entity, action, data, account}. */
	events?: IDataObject[];
	/** Why the body could not be read; `preview` is its start. */
	error?: CoreError;
	preview?: string;
}

/** Decodes a webhook body amoCRM POSTed (form-encoded, bracket keys). */
export function parseWebhook(body: string, options: { normalize: boolean }): Result<WebhookParse> {
	const result = guarded(() => wasm.parseWebhook(body, JSON.stringify(options)));
	return result.ok ? { ok: true, value: JSON.parse(result.value) as WebhookParse } : result;
}
