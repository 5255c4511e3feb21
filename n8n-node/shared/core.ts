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
	/**
	 * Token errors: the failure code a request reports when it could not get
	 * a token because of this error (`TOKEN`, or `TOKEN_SPENT` for a refresh
	 * token another process may have just spent; src/engine/retry.rs).
	 */
	failure?: string;
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
	/** The credential's static divisor of the account's rate (queue mode). */
	sharingProcesses?: number;
	auth: AuthMode;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: CoreError };

/**
 * The token broker's memory (rotated pairs, token requests in flight, failed
 * renewals) as the core last exported it. It lives here, outside the
 * instance, so that a trap cannot take it along: a fresh instance imports it
 * before its first call. Without it, an execution that renewed a token just
 * before a trap elsewhere could not complete its grant, and the new pair,
 * the only one amoCRM still accepts, would be lost.
 */
let tokenMemory: string | undefined;

/** Exports the broker's memory after a call that may have changed it. */
function keepTokenMemory(): void {
	tokenMemory = wasm.tokenExport();
}

/**
 * Runs `fn` against the instantiated module. A trap (a panic in the core)
 * leaves the instance in an unknown state, so it is dropped and the next call
 * starts a fresh one, which gets the token memory back; the caller gets an
 * internal error. Handles of calls made on the old instance refuse every
 * method from then on (the generated glue checks their instance generation).
 */
function guarded<T>(fn: () => T): Result<T> {
	try {
		if (wasm.__instantiate() && tokenMemory !== undefined) wasm.tokenImport(tokenMemory);
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
		// A monotonic clock: a wall-clock step (NTP, a suspended laptop) must
		// neither stall the account's budget nor release a burst.
		return guarded(() => this.handle.acquire(performance.now()));
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
	/** When the refresh token was issued: the keep-alive counts from here. */
	refreshIssuedAt: number;
	grantFingerprint: string;
}

/** A token request as the core builds it (POST to the account's token endpoint). */
export type TokenRequest = Omit<CoreRequest, 'id' | 'delayMs' | 'timeoutMs'>;

export type TokenPlan =
	| { action: 'none' }
	| { action: 'use'; tokens: TokenFields }
	| { action: 'send'; flight: string; request: TokenRequest };

/** A token error with the failure code the core gave it. */
function tokenError(parsed: { error?: CoreError; failure?: string }): CoreError | undefined {
	return parsed.error && { ...parsed.error, failure: parsed.failure ?? 'TOKEN' };
}

function tokenOutcome(result: Result<string>): Result<TokenFields> {
	if (!result.ok) return result;
	const parsed = JSON.parse(result.value) as { tokens?: TokenFields; error?: CoreError; failure?: string };
	const error = tokenError(parsed);
	return error ? { ok: false, error } : { ok: true, value: parsed.tokens as TokenFields };
}

/** What preAuthentication must do for these credential fields. */
export function tokenPlan(fields: IDataObject): Result<TokenPlan> {
	const result = guarded(() => {
		const plan = wasm.tokenPlan(JSON.stringify(fields), Date.now());
		keepTokenMemory();
		return plan;
	});
	if (!result.ok) return result;
	const parsed = JSON.parse(result.value) as TokenPlan & { error?: CoreError; failure?: string };
	const error = tokenError(parsed);
	return error ? { ok: false, error } : { ok: true, value: parsed };
}

/**
 * Whether the credential must renew its refresh token before this use: it is
 * older than 30 days (keep-alive; the core decides from the stored fields).
 */
export function tokenRenewalDue(fields: IDataObject): boolean {
	const result = guarded(() => wasm.tokenRenewalDue(JSON.stringify(fields), Date.now()));
	return result.ok && result.value;
}

/** Reads the token endpoint's answer for a planned flight. */
export function tokenComplete(
	flight: string,
	status: number,
	headers: Record<string, string>,
	body: string,
): Result<TokenFields> {
	const meta = JSON.stringify({ status, headers });
	return tokenOutcome(
		guarded(() => {
			const outcome = wasm.tokenComplete(flight, meta, body, Date.now());
			keepTokenMemory();
			return outcome;
		}),
	);
}

/** The token request of a flight got no answer. */
export function tokenAbandon(flight: string, code: string): Result<TokenFields> {
	return tokenOutcome(
		guarded(() => {
			const outcome = wasm.tokenAbandon(flight, code, Date.now());
			keepTokenMemory();
			return outcome;
		}),
	);
}

/** The account webhook deliveries must name (src/webhook/mod.rs `account`). */
export interface KnownAccount {
	id: number;
	subdomain: string;
}

/** Deliveries dropped since the last one that ran the workflow. */
export interface DropCounts {
	foreignAccount: number;
	unreadable: number;
}

export interface WebhookOptions {
	normalize: boolean;
	account?: KnownAccount;
	emitUnreadable?: boolean;
	dropped?: DropCounts;
}

/** What the core made of one webhook body (src/webhook/mod.rs). */
export interface WebhookParse {
	/** One object per event: {event, entity, action, data, account, meta?}. */
	events?: IDataObject[];
	/** The delivery starts no execution: another account's, or unreadable. */
	drop?: { kind: 'foreign_account' | 'unreadable'; message: string };
	/** Why the body could not be read (Emit Unreadable Deliveries); `preview` is its start. */
	error?: CoreError;
	preview?: string;
}

/** Decodes a webhook body amoCRM POSTed (form-encoded, bracket keys) and decides what it becomes. */
export function parseWebhook(body: string, options: WebhookOptions): Result<WebhookParse> {
	const result = guarded(() => wasm.parseWebhook(body, JSON.stringify(options)));
	return result.ok ? { ok: true, value: JSON.parse(result.value) as WebhookParse } : result;
}
