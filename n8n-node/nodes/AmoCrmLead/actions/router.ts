import {
	NodeOperationError,
	sleep,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';
import { ItemCollector } from '../../../shared/output';
import { runOperation } from '../../../shared/transport';
import { operations } from './lead';

/**
 * Items per core call. Up to this many, every item's parameters are read and
 * checked before the first request, so a bad item stops the node with nothing
 * written. Beyond it, chunks go out while the next ones are read: n8n resolves
 * each item's expressions one by one (about half a millisecond each in n8n
 * 2.40), which for 50,000 leads would otherwise add half a minute before the
 * first request. A multiple of every batch size the core uses (250, 50).
 */
export const CHUNK_ITEMS = 1000;

/** Items whose parameters are read before the event loop gets a turn, so that the requests of earlier chunks go out meanwhile. */
const READ_SLICE = 50;

/** Whether a raw parameter value holds an n8n expression anywhere in it. */
function hasExpression(value: unknown): boolean {
	if (typeof value === 'string') return value.startsWith('=');
	if (Array.isArray(value)) return value.some(hasExpression);
	if (value !== null && typeof value === 'object') return Object.values(value).some(hasExpression);
	return false;
}

/**
 * Reads each item's parameters for the chosen operation and hands them to the
 * core, which batches, pages and retries as amoCRM requires.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operationName = this.getNodeParameter('operation', 0) as string;
	const operation = operations[operationName];
	const credentialType = this.getNodeParameter('authentication', 0) as string;
	const core = operation.core ?? { resource: 'lead', operation: operationName };
	const inputs = this.getInputData();
	const output = new ItemCollector(this, inputs.length);

	// A parameter without an expression is the same for every item: read it
	// once. n8n resolves every read of every item otherwise.
	const raw = this.getNode().parameters;
	const same = new Map<string, unknown>();
	for (const name of operation.params) {
		if (inputs.length > 1 && !hasExpression(raw[name])) same.set(name, this.getNodeParameter(name, 0, null));
	}

	const read = (index: number): IDataObject | null => {
		try {
			const params: IDataObject = {};
			for (const name of operation.params) {
				params[name] = (same.has(name) ? same.get(name) : this.getNodeParameter(name, index, null)) as IDataObject[keyof IDataObject];
			}
			// A resource mapper set to map input fields automatically leaves
			// its value empty; the fields come from the item itself.
			const mapper = params.customFields as IDataObject | null | undefined;
			if (mapper?.mappingMode === 'autoMapInputData') params.customFields = { ...mapper, value: inputs[index].json };
			return params;
		} catch (error) {
			if (!this.continueOnFail()) throw new NodeOperationError(this.getNode(), error as Error, { itemIndex: index });
			output.fail(index, { kind: 'input', message: (error as Error).message });
			return null;
		}
	};

	const calls: Array<Promise<void>> = [];
	let failed: { error: unknown } | undefined;
	for (let first = 0; first < inputs.length && !failed; first += CHUNK_ITEMS) {
		const items: Array<IDataObject | null> = [];
		const last = Math.min(first + CHUNK_ITEMS, inputs.length);
		for (let index = first; index < last && !failed; index++) {
			// Let the requests of earlier chunks go out while this one is read.
			if (calls.length > 0 && (index - first) % READ_SLICE === 0) await sleep(0);
			try {
				items.push(read(index));
			} catch (error) {
				failed ??= { error };
			}
		}
		if (failed) break;
		// The core numbers items (in indexes and messages) from `first`.
		const call = runOperation(this, credentialType, { ...core, items, firstItem: first }, (emit) => output.add(emit)).then((fatal) => {
			if (fatal) output.failRange(first, last, fatal);
		});
		// The first failure stops the reading of further chunks.
		calls.push(call.catch((error: unknown) => void (failed ??= { error })));
	}
	await Promise.all(calls);
	if (failed) throw failed.error;
	return [output.items()];
}
