// The execute() of every entity node: reads each item's parameters for the
// chosen operation and streams them to the core, which batches, pages and
// retries as amoCRM requires. Nothing here knows amoCRM.

import { sleep, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { toNodeError } from '../errors';
import { ItemCollector } from '../output';
import { runOperation } from '../transport';
import type { EntityOperation } from './operation';

/**
 * Items read before they are handed to the core. The first chunk is read
 * whole before the first request, so that with up to this many items a bad
 * item stops the node with nothing written. Later chunks are read while
 * earlier requests go out: n8n resolves each item's expressions one by one
 * (about half a millisecond each in n8n 2.40), which for 50,000 leads would
 * otherwise add half a minute before the first request.
 */
export const CHUNK_ITEMS = 1000;

/** Items whose parameters are read before the event loop gets a turn, so that requests go out meanwhile. */
const READ_SLICE = 50;

/** Whether a raw parameter value holds an n8n expression anywhere in it. */
function hasExpression(value: unknown): boolean {
	if (typeof value === 'string') return value.startsWith('=');
	if (Array.isArray(value)) return value.some(hasExpression);
	if (value !== null && typeof value === 'object') return Object.values(value).some(hasExpression);
	return false;
}

export async function executeOperation(
	this: IExecuteFunctions,
	resource: string,
	operations: Record<string, EntityOperation>,
): Promise<INodeExecutionData[][]> {
	const operationName = this.getNodeParameter('operation', 0) as string;
	const operation = operations[operationName];
	const credentialType = this.getNodeParameter('authentication', 0) as string;
	const core = operation.core ?? { resource, operation: operationName };
	const inputs = this.getInputData();
	// An AI agent calling the node as a tool gets an error as the tool's
	// answer, which it can act on, rather than a failed run (n8n 2.8 fails the
	// agent's whole execution when a tool throws).
	const asTool = this.getNode().type.endsWith('Tool');
	const continueOnFail = this.continueOnFail() || asTool;
	const output = new ItemCollector(this, inputs.length, continueOnFail);
	// Fields mapped automatically: the item is the record, and no expression
	// is resolved per item for it.
	const auto = operation.autoParams !== undefined && this.getNodeParameter('mapping', 0, 'manual') === 'auto';
	const names = auto ? (operation.autoParams as string[]) : operation.params;

	// A parameter without an expression is the same for every item: read it
	// once. n8n resolves every read of every item otherwise.
	const raw = this.getNode().parameters;
	const same = new Map<string, unknown>();
	for (const name of names) {
		if (inputs.length > 1 && !hasExpression(raw[name])) same.set(name, this.getNodeParameter(name, 0, null));
	}

	const read = (index: number): IDataObject => {
		try {
			const params: IDataObject = {};
			for (const name of names) {
				params[name] = (same.has(name) ? same.get(name) : this.getNodeParameter(name, index, null)) as IDataObject[keyof IDataObject];
			}
			if (auto) {
				params.record = inputs[index].json;
				return params;
			}
			// A resource mapper set to map input fields automatically leaves
			// its value empty; the fields come from the item itself.
			const mapper = params.customFields as IDataObject | null | undefined;
			if (mapper?.mappingMode === 'autoMapInputData') params.customFields = { ...mapper, value: inputs[index].json };
			return params;
		} catch (error) {
			// The core fails the item with n8n's own message.
			return { $readError: (error as Error).message };
		}
	};

	let cancelled = false;
	const firstItems: IDataObject[] = [];
	for (let index = 0; index < Math.min(CHUNK_ITEMS, inputs.length); index++) firstItems.push(read(index));
	const readChunk = async (first: number) => {
		const items: IDataObject[] = [];
		const last = Math.min(first + CHUNK_ITEMS, inputs.length);
		for (let index = first; index < last && !cancelled; index++) {
			// Let the requests of earlier items go out while these are read.
			if ((index - first) % READ_SLICE === 0) await sleep(0);
			items.push(read(index));
		}
		return { items, last: last >= inputs.length || cancelled };
	};

	const fatal = await runOperation(
		this,
		credentialType,
		{ ...core, continueOnFail },
		{
			items: firstItems,
			next: inputs.length > CHUNK_ITEMS ? readChunk : undefined,
			cancel: () => (cancelled = true),
		},
		(emit) => output.add(emit),
	);
	if (fatal) {
		// The call failed as a whole (a refused account address, say), or the
		// node stops at an item's error: the error says what was written.
		if (!continueOnFail) throw toNodeError(this.getNode(), fatal);
		output.failUnanswered(fatal);
	}
	return [output.items()];
}
