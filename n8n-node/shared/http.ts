// Reading what n8n's HTTP helpers return or throw, in the plain shapes the
// core takes.

const utf8 = new TextDecoder();

/** Starts the message of every token failure the credential throws (oauth.ts). */
export const TOKEN_FAILURE_PREFIX = 'amoCRM OAuth: ';

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
	const e = (error ?? {}) as { httpCode?: unknown; code?: unknown; message?: unknown; cause?: { code?: unknown } };
	// The credential could not get a token (see TokenFailure): nothing was sent.
	if (typeof e.message === 'string' && e.message.startsWith(TOKEN_FAILURE_PREFIX)) {
		return { code: 'TOKEN', message: e.message };
	}
	const code = [e.httpCode, e.code, e.cause?.code].find((c) => typeof c === 'string' && c !== '') as string | undefined;
	return { code: code ?? '', message: typeof e.message === 'string' ? e.message : '' };
}
