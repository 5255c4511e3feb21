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
}

export type AuthMode = 'longLivedToken' | 'oauth' | 'oauth2';

export interface CallInput {
	resource: 'lead';
	operation: string;
	account: AddressFields;
	/** Parameters of each input item, in input order; null for an item the shell already failed. */
	items: Array<IDataObject | null>;
	requestsPerSecond?: number;
	auth: AuthMode;
}

/** Thrown for errors the core reports outside of any item. */
export class CoreFailure extends Error {
	constructor(readonly error: CoreError) {
		super(error.message);
		this.name = 'CoreFailure';
	}
}

/**
 * Runs `fn` against the instantiated module. A trap (a panic in the core)
 * leaves the instance in an unknown state, so it is dropped and the next call
 * starts a fresh one.
 */
function guarded<T>(fn: () => T): T {
	wasm.__instantiate();
	try {
		return fn();
	} catch (error) {
		if (error instanceof Error && error.name === 'RuntimeError') wasm.__reset();
		throw error;
	}
}

function parse<T>(json: string): T {
	return JSON.parse(json) as T;
}

/** One running operation; free() it when done. */
export class CoreCall {
	private readonly handle: wasm.NodeCall;

	constructor(input: CallInput) {
		this.handle = guarded(() => new wasm.NodeCall(JSON.stringify(input)));
	}

	start(): Step {
		return parse<Step>(guarded(() => this.handle.start()));
	}

	resume(id: number, status: number, headers: Record<string, string>, body: string): Step {
		const meta = JSON.stringify({ status, headers });
		return parse<Step>(guarded(() => this.handle.resume(id, meta, body, Date.now())));
	}

	fail(id: number, code: string, message: string): Step {
		return parse<Step>(guarded(() => this.handle.fail(id, code, message)));
	}

	/** Milliseconds to wait for a send slot in the account's shared budget. */
	reserve(): number {
		return guarded(() => this.handle.reserve(Date.now()));
	}

	free(): void {
		this.handle.free();
	}
}

/** The validated origin of the credential's account, or a CoreFailure. */
export function accountOrigin(fields: AddressFields): string {
	const result = parse<{ origin?: string; error?: CoreError }>(guarded(() => wasm.checkAccount(JSON.stringify(fields))));
	if (result.error) throw new CoreFailure(result.error);
	return result.origin as string;
}

/** Throws unless `url` is on the credential's own account. */
export function assertOwnUrl(fields: AddressFields, url: string): void {
	const result = parse<{ ok?: boolean; error?: CoreError }>(
		guarded(() => wasm.checkRequestUrl(JSON.stringify(fields), url)),
	);
	if (result.error) throw new CoreFailure(result.error);
}
