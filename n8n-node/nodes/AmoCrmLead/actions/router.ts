import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { ItemCollector } from '../../../shared/output';
import { runOperation } from '../../../shared/transport';
import { operations } from './lead';

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

	const items = inputs.map((_, index): IDataObject | null => {
		try {
			const params: IDataObject = {};
			for (const name of operation.params) {
				params[name] = this.getNodeParameter(name, index, null) as IDataObject[keyof IDataObject];
			}
			// A resource mapper set to map input fields automatically leaves
			// its value empty; the fields come from the item itself.
			const mapper = params.customFields as IDataObject | null | undefined;
			if (mapper?.mappingMode === 'autoMapInputData') mapper.value = inputs[index].json;
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
