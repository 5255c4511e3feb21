import {
	NodeOperationError,
	type IDataObject,
	type ILoadOptionsFunctions,
	type INodeListSearchResult,
} from 'n8n-workflow';
import type { CoreError } from '../../../shared/core';
import { toNodeError } from '../../../shared/errors';
import { runOperation } from '../../../shared/transport';

/** Runs a core operation that emits one object, for dropdowns and pickers. */
async function lookup(ctx: ILoadOptionsFunctions, operation: string, params: IDataObject): Promise<IDataObject> {
	const credentialType = ctx.getNodeParameter('authentication', 'amoCrmKommoApi') as string;
	let result: IDataObject | undefined;
	let failure: CoreError | undefined;
	const fatal = await runOperation(ctx, credentialType, { resource: 'lead', operation, items: [params] }, (emit) => {
		if (emit.type === 'error') failure = emit.error;
		else result = emit.json;
	});
	failure ??= fatal;
	if (failure) throw toNodeError(ctx.getNode(), failure);
	if (!result) throw new NodeOperationError(ctx.getNode(), `The amoCRM core returned nothing for ${operation}`);
	return result;
}

export async function searchLeads(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	return (await lookup(this, 'search', { query: filter ?? '', page: paginationToken ?? '' })) as unknown as INodeListSearchResult;
}
