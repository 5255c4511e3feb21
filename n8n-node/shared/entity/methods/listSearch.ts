import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import { lookup } from './lookup';

async function search(ctx: ILoadOptionsFunctions, filter?: string, paginationToken?: string, resource?: string): Promise<INodeListSearchResult> {
	const result = await lookup(ctx, 'search', { query: filter ?? '', page: paginationToken ?? '' }, { cache: false, resource });
	return result as unknown as INodeListSearchResult;
}

/** Records matching what the user types, newest first, a page at a time. */
export async function searchRecords(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	return await search(this, filter, paginationToken);
}

/** Leads, for a node of another entity (the lead a task is attached to). */
export async function searchLeads(this: ILoadOptionsFunctions, filter?: string, paginationToken?: string): Promise<INodeListSearchResult> {
	return await search(this, filter, paginationToken, 'lead');
}

/** Contacts, for a node of another entity (the contact a task is attached to). */
export async function searchContacts(this: ILoadOptionsFunctions, filter?: string, paginationToken?: string): Promise<INodeListSearchResult> {
	return await search(this, filter, paginationToken, 'contact');
}
