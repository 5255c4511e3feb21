import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';
import { lookup } from './lookup';

async function options(ctx: ILoadOptionsFunctions, operation: string): Promise<INodePropertyOptions[]> {
	const { options, truncated } = (await lookup(ctx, operation)) as { options: INodePropertyOptions[]; truncated?: string };
	// A list cut at its page limit says so as its last entry.
	return truncated ? [...options, { name: `… ${truncated}`, value: '', description: truncated }] : options;
}

export async function getPipelines(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return await options(this, 'listPipelines');
}

export async function getStatuses(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return await options(this, 'listStatuses');
}

export async function getUsers(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return await options(this, 'listUsers');
}

export async function getTags(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return await options(this, 'listTags');
}

export async function getLossReasons(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return await options(this, 'listLossReasons');
}

/** Task types: call and meeting, and the account's own. */
export async function getTaskTypes(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return await options(this, 'listTaskTypes');
}

/** Customer statuses (periodic purchases mode). */
export async function getCustomerStatuses(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return await options(this, 'listCustomerStatuses');
}

export async function getCatalogs(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return await options(this, 'listCatalogs');
}

export async function getPriceFields(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return await options(this, 'listPriceFields');
}

export async function getCustomFields(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const { fields } = (await lookup(this, 'listCustomFields')) as { fields: Array<{ id: string; name: string; type: string }> };
	return fields.map((f) => ({ name: f.name, value: f.id, description: `${f.type} field ${f.id}` }));
}
