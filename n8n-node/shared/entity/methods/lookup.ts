import { NodeOperationError, type IDataObject, type ILoadOptionsFunctions } from 'n8n-workflow';
import { runForOne } from '../../transport';

/**
 * Dropdown lists are asked for often (every open of a node, every field that
 * depends on another) and change rarely, so answers are reused for a short
 * while per credential, and lookups of the same list that overlap share one
 * request.
 */
const FRESH_MS = 30_000;

const answers = new Map<string, { at: number; value: Promise<IDataObject> }>();

/** The entity the node works on (its Resource). */
function resourceOf(ctx: ILoadOptionsFunctions): string {
	return ctx.getNodeParameter('resource', 'lead') as string;
}

/**
 * Node parameters that choose where a resource's records live (the Catalog
 * node's catalog, see EntityUi.scope): every lookup carries their current
 * values, so that the core reads that catalog's fields and elements.
 */
const SCOPE = ['catalogId'];

function scopeOf(ctx: ILoadOptionsFunctions): IDataObject {
	const out: IDataObject = {};
	for (const name of SCOPE) {
		let value: unknown;
		try {
			value = ctx.getCurrentNodeParameter(name);
		} catch {
			// Not a parameter of this node.
		}
		if (value !== undefined && value !== null && value !== '') out[name] = value as IDataObject[keyof IDataObject];
	}
	return out;
}

/**
 * Runs a core lookup operation that emits one object. Its error is thrown as
 * a plain one: the editor shows a dropdown's error by its message, and an API
 * error's response object would read "[object Object]" there.
 */
async function fetchOnce(ctx: ILoadOptionsFunctions, credentialType: string, resource: string, operation: string, params: IDataObject) {
	try {
		return await runForOne(ctx, credentialType, { resource, operation }, params);
	} catch (error) {
		const { message, description } = error as { message: string; description?: string | null };
		throw new NodeOperationError(ctx.getNode(), message, { description: description ?? undefined });
	}
}

/**
 * Runs lookup `operation` of the node's entity, or of `resource` when given
 * (a task node picks the lead a task is attached to).
 */
export async function lookup(
	ctx: ILoadOptionsFunctions,
	operation: string,
	params: IDataObject = {},
	{ cache = true, resource: other }: { cache?: boolean; resource?: string } = {},
): Promise<IDataObject> {
	const credentialType = ctx.getNodeParameter('authentication', 'amoCrmKommoApi') as string;
	const resource = other ?? resourceOf(ctx);
	params = { ...scopeOf(ctx), ...params };
	if (!cache) return await fetchOnce(ctx, credentialType, resource, operation, params);
	const credentialId = ctx.getNode().credentials?.[credentialType]?.id ?? 'unsaved';
	const key = JSON.stringify([credentialType, credentialId, resource, operation, params]);
	const now = Date.now();
	const known = answers.get(key);
	if (known && now - known.at < FRESH_MS) return await known.value;
	const value = fetchOnce(ctx, credentialType, resource, operation, params);
	answers.set(key, { at: now, value });
	// A failed lookup is not remembered: the next open of the list tries again.
	value.catch(() => answers.delete(key));
	return await value;
}
