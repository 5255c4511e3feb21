// OAuth tokens of the "AmoCRM API" credential, renewed inside n8n's
// preAuthentication. The core plans every grant and reads every answer; this
// file sends the one request and makes concurrent callers share it.

import type { ICredentialDataDecryptedObject, IDataObject, IHttpRequestHelper } from 'n8n-workflow';
import {
	tokenAbandon,
	tokenComplete,
	tokenPlan,
	tokenRenewalDue,
	type CoreError,
	type Result,
	type TokenFields,
	type TokenRequest,
} from './core';
import { TOKEN_FAILURE_PREFIX, bodyText, failureOf, lowerCaseHeaders, rememberTokenFailure } from './http';

/**
 * Token requests in flight in this process, by the core's flight key (a
 * fingerprint of the refresh token or code being spent). Executions that hit
 * a 401 together wait for the same request instead of each spending the
 * single-use refresh token.
 */
const flights = new Map<string, Promise<Result<TokenFields>>>();

/** How long a token request may take before it counts as failed. */
const TOKEN_TIMEOUT_MS = 60_000;

export class TokenFailure extends Error {
	/** The failure code the request reports to the core (see CoreError.failure). */
	readonly failure: string;

	constructor(readonly error: CoreError) {
		// n8n shows the message of a failed preAuthentication; the description
		// (what to do) goes into it so that it is not lost on the way. The
		// prefix lets the transport recognise it after n8n wrapped it.
		super(`${TOKEN_FAILURE_PREFIX}${error.description ? `${error.message}. ${error.description}` : error.message}`);
		this.name = 'TokenFailure';
		this.failure = error.failure ?? 'TOKEN';
		rememberTokenFailure(this.message, this.failure);
	}
}

/**
 * Credentials whose authenticate() asked n8n for a renewal ahead of need
 * (keep-alive), until their preAuthentication runs. n8n hands the same
 * credential object to both.
 */
const keepAlive = new WeakSet<object>();

/**
 * Called by authenticate() before each request: when the core says the
 * refresh token is due for renewal (older than 30 days), throws the error
 * n8n treats as an expired credential, so that n8n runs preAuthentication,
 * persists the renewed pair and sends the request with it. Nothing is sent
 * before that.
 */
export function renewIfDue(credentials: ICredentialDataDecryptedObject): void {
	if (credentials.connectionType !== 'oauth' || !tokenRenewalDue(credentials)) return;
	keepAlive.add(credentials);
	throw Object.assign(new Error('amoCRM OAuth: renewing the refresh token before it ages out'), {
		response: { status: 401 },
		httpCode: '401',
	});
}

/** The fields preAuthentication returns for n8n to persist. */
export async function renewTokens(
	helper: IHttpRequestHelper,
	credentials: ICredentialDataDecryptedObject,
): Promise<IDataObject> {
	// A renewal ahead of need must not fail the request it precedes: the
	// access token still works, and the core holds the keep-alive off for a
	// while, so authenticate() lets the request go with the current token.
	const proactive = keepAlive.delete(credentials);
	const outcome = await renew(helper, credentials);
	if (outcome.ok) return outcome.value;
	if (proactive) return {};
	throw new TokenFailure(outcome.error);
}

async function renew(helper: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject): Promise<Result<IDataObject>> {
	const planned = tokenPlan(credentials);
	if (!planned.ok) return planned;
	const plan = planned.value;
	if (plan.action === 'none') return { ok: true, value: {} };
	if (plan.action === 'use') return { ok: true, value: { ...plan.tokens } };

	let flight = flights.get(plan.flight);
	if (!flight) {
		flight = send(helper, plan.flight, plan.request).finally(() => flights.delete(plan.flight));
		flights.set(plan.flight, flight);
	}
	const outcome = await flight;
	return outcome.ok ? { ok: true, value: { ...outcome.value } } : outcome;
}

async function send(
	helper: IHttpRequestHelper,
	flight: string,
	request: TokenRequest,
): Promise<Result<TokenFields>> {
	try {
		const response = (await helper.helpers.httpRequest({
			method: request.method,
			url: request.url,
			headers: request.headers,
			body: request.body,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			encoding: 'text',
			json: false,
			timeout: TOKEN_TIMEOUT_MS,
			disableFollowRedirect: true,
		})) as { statusCode: number; headers: Record<string, unknown>; body: unknown };
		return tokenComplete(flight, response.statusCode, lowerCaseHeaders(response.headers), bodyText(response.body));
	} catch (error) {
		return tokenAbandon(flight, failureOf(error).code);
	}
}
