// Reading what n8n's HTTP helpers return or throw, in the plain shapes the
// core takes.

const utf8 = new TextDecoder();

/** Starts the message of every token failure the credential throws (oauth.ts). */
export const TOKEN_FAILURE_PREFIX = 'amoCRM OAuth: ';

/**
 * The failure code of each token failure's message, by message. n8n wraps
 * the credential's error and may drop the object (2.8.x keeps no `cause`),
 * so the code is found again by the text, which the core words the same way
 * each time. Bounded: there are only a few distinct messages.
 */
const tokenFailureCodes = new Map<string, string>();

/** Called for every token failure thrown (oauth.ts). */
export function rememberTokenFailure(message: string, failure: string): void {
	tokenFailureCodes.delete(message);
	tokenFailureCodes.set(message, failure);
	if (tokenFailureCodes.size > 64) tokenFailureCodes.delete(tokenFailureCodes.keys().next().value as string);
}

/** Starts the message the credential throws when it has no token to send (authenticate()). */
export const NOT_CONNECTED_PREFIX = 'amoCRM credential not connected: ';

/**
 * What n8n throws for an OAuth2 credential whose Connect button was never
 * used: its own check, or (when the stored data lacks the grant type) the
 * OAuth client's refusal to sign a request without a token.
 */
const N8N_NOT_CONNECTED = ['OAuth credentials not connected', 'Unable to sign without access token'];

/**
 * The URL axios sends a request to (its buildFullPath): an absolute `url`
 * (`scheme://…`, or protocol-relative `//…`) as it is, the `baseURL` ignored
 * unless `allowAbsoluteUrls` is false; otherwise the two joined. A check of
 * where a token goes must look at this URL and no other.
 */
export function axiosUrl(options: { url: string; baseURL?: string; allowAbsoluteUrls?: boolean }): string {
	const url = options.url ?? '';
	if (options.baseURL && (!isAbsoluteUrl(url) || options.allowAbsoluteUrls === false)) {
		return url ? `${options.baseURL.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}` : options.baseURL;
	}
	return url;
}

/** axios's rule: `<scheme>://` or `//` at the start. */
export function isAbsoluteUrl(url: string): boolean {
	return /^([a-z][a-z\d+\-.]*:)?\/\//i.test(url);
}

/** Header names in lower case, values as text. */
export function lowerCaseHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [name, value] of Object.entries(headers ?? {})) {
		if (typeof value === 'string') out[name.toLowerCase()] = value;
		else if (Array.isArray(value)) out[name.toLowerCase()] = value.join(', ');
		else if (typeof value === 'number') out[name.toLowerCase()] = String(value);
	}
	return out;
}

/**
 * The body as n8n handed it over: the bytes (what `encoding: 'arraybuffer'`
 * gives), or text for anything else.
 */
export function bodyBytesOrText(body: unknown): Uint8Array | string {
	return body instanceof Uint8Array ? body : bodyText(body);
}

export function bodyText(body: unknown): string {
	if (typeof body === 'string') return body;
	if (body instanceof Uint8Array) return utf8.decode(body);
	if (body === undefined || body === null) return '';
	return JSON.stringify(body);
}

/**
 * The code and message of a failed send: a network error code, or for errors
 * n8n raised (the re-authentication probe), the HTTP status it reports and its
 * message. Nothing else of the error object is kept: it holds the request
 * options, headers included.
 */
export function failureOf(error: unknown): { code: string; message: string } {
	const e = (error ?? {}) as {
		httpCode?: unknown;
		code?: unknown;
		message?: unknown;
		description?: unknown;
		cause?: { code?: unknown; message?: unknown };
	};
	// n8n may wrap the credential's own error in a NodeApiError, whose message
	// is then generic and the original text sits in its description or cause.
	const texts = [e.message, e.description, e.cause?.message].filter((t): t is string => typeof t === 'string');
	// The credential could not get a token (see TokenFailure): nothing was
	// sent. Its failure code: TOKEN, or TOKEN_SPENT when another process may
	// have just spent the refresh token.
	const token = texts.find((t) => t.startsWith(TOKEN_FAILURE_PREFIX));
	if (token) return { code: tokenFailureCodes.get(token) ?? 'TOKEN', message: token };
	// It has no token at all: nothing was sent, and the core says what to click.
	const missing = texts.find((t) => t.startsWith(NOT_CONNECTED_PREFIX));
	if (missing) return { code: 'NOT_CONNECTED', message: missing.slice(NOT_CONNECTED_PREFIX.length) };
	if (texts.some((t) => N8N_NOT_CONNECTED.includes(t))) return { code: 'NOT_CONNECTED', message: '' };
	// n8n's SSRF protection (2.40+, N8N_SSRF_PROTECTION_ENABLED) refused the address.
	const ssrf = [e, e.cause].find((x) => /^SsrfBlocked/.test(String((x as { name?: unknown } | undefined)?.name ?? '')));
	if (ssrf) {
		const { message, description } = ssrf as { message?: unknown; description?: unknown };
		return { code: 'SSRF_BLOCKED', message: [message, description].filter((t) => typeof t === 'string').join('. ') };
	}
	const code = [e.httpCode, e.code, e.cause?.code].find((c) => typeof c === 'string' && c !== '') as string | undefined;
	return { code: code ?? '', message: typeof e.message === 'string' ? e.message : '' };
}
