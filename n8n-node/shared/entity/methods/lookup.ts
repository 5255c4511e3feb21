import {
	NodeOperationError,
	type IDataObject,
	type ILoadOptionsFunctions,
} from 'n8n-workflow';
import type { CoreError } from '../../../shared/core';
import { toNodeError } from '../../../shared/errors';
import { runOperation } from '../../../shared/transport';

/**
 * Dropdown lists are asked for often (every open of a node, every field that
 * depends on another) and change rarely, so answers are reused for a short
 * while per credential, and lookups of the same list that overlap share one
 * request.
 */
const FRESH_MS = 30_000;

const answers = new Map<string, { at: number; value: Promise<IDataObject> }>();

/** Runs a core lookup operation that emits one object. */
async function fetchOnce(ctx: ILoadOptionsFunctions, credentialType: string, operation: string, params: IDataObject) {
	let result: IDataObject | undefined;
	let failure: CoreError | undefined;
	const fatal = await runOperation(ctx, credentialType, { resource: 'lead', operation, items: [params] }, (emit) => {
		if (emit.type === 'error') failure = emit.error;
		else result = emit.json;
	});
	failure ??= fatal;
	if (failure) throw toNodeError(ctx.getNode(), failure);
	if (!result) throw new NodeOperationError(ctx.getNode(), `amoCRM returned nothing for ${operation}`);
	return result;
}

export async function lookup(
	ctx: ILoadOptionsFunctions,
	operation: string,
	params: IDataObject = {},
	{ cache = true }: { cache?: boolean } = {},
): Promise<IDataObject> {
	const credentialType = ctx.getNodeParameter('authentication', 'amoCrmKommoApi') as string;
	if (!cache) return await fetchOnce(ctx, credentialType, operation, params);
	const credentialId = ctx.getNode().credentials?.[credentialType]?.id ?? 'unsaved';
	const key = JSON.stringify([credentialType, credentialId, operation, params]);
	const now = Date.now();
	const known = answers.get(key);
	if (known && now - known.at < FRESH_MS) return await known.value;
	const value = fetchOnce(ctx, credentialType, operation, params);
	answers.set(key, { at: now, value });
	// A failed lookup is not remembered: the next open of the list tries again.
	value.catch(() => answers.delete(key));
	return await value;
}
