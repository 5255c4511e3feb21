import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { ItemCollector } from '../../../shared/output';
import { runOperation } from '../../../shared/transport';
import { operations } from './lead';

/** Whether a raw parameter value holds an n8n expression anywhere in it. */
function hasExpression(value: unknown): boolean {
	if (typeof value === 'string') return value.startsWith('=');
	if (Array.isArray(value)) return value.some(hasExpression);
	if (value !== null && typeof value === 'object') return Object.values(value).some(hasExpression);
	return false;
}

/**
 * Reads each item's parameters for the chosen operation and hands them all to
 * the core in one call, which batches, pages and retries as amoCRM requires.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operationName = this.getNodeParameter('operation', 0) as string;
	const operation = operations[operationName];
	const credentialType = this.getNodeParameter('authentication', 0) as string;
	const inputs = this.getInputData();
	const output = new ItemCollector(this, inputs.length);

	// A parameter without an expression is the same for every item: read it
	// once. n8n resolves each read of each item (in n8n 2.40 through an
	// isolated VM), which for thousands of items costs seconds.
	const raw = this.getNode().parameters;
	const same = new Map<string, unknown>();
	for (const name of operation.params) {
		if (inputs.length > 1 && !hasExpression(raw[name])) same.set(name, this.getNodeParameter(name, 0, null));
	}

	const items = inputs.map((_, index): IDataObject | null => {
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
	});

	const core = operation.core ?? { resource: 'lead', operation: operationName };
	const fatal = await runOperation(this, credentialType, { ...core, items }, (emit) => output.add(emit));
	if (fatal) output.failAll(fatal);
	return [output.items()];
}
