import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import { lookup } from './lookup';

/** Records matching what the user types, newest first, a page at a time. */
export async function searchRecords(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const result = await lookup(this, 'search', { query: filter ?? '', page: paginationToken ?? '' }, { cache: false });
	return result as unknown as INodeListSearchResult;
}
