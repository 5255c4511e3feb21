import type { IDataObject, ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import { CoreFailure } from '../../../shared/core';
import { runOperation } from '../../../shared/transport';

/** Runs a core operation that emits one object, for dropdowns and pickers. */
async function lookup(ctx: ILoadOptionsFunctions, operation: string, params: IDataObject): Promise<IDataObject> {
	const credentialType = ctx.getNodeParameter('authentication', 'amoCrmKommoApi') as string;
	let result: IDataObject = {};
	await runOperation(ctx, credentialType, { resource: 'lead', operation, items: [params] }, (emit) => {
		if (emit.type === 'error') throw new CoreFailure(emit.error);
		result = emit.json;
	});
	return result;
}

export async function searchLeads(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	return (await lookup(this, 'search', { query: filter ?? '', page: paginationToken ?? '' })) as unknown as INodeListSearchResult;
}
