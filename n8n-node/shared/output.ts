// Collects what the core emits into n8n's output items: each item paired with
// the input item it came from, in input order, errors turned into error items
// under "Continue on Fail" or thrown otherwise.

import type { IBinaryKeyData, IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import type { CoreError, Emit } from './core';
import { toNodeError } from './errors';

export class ItemCollector {
	private readonly byItem: INodeExecutionData[][];

	constructor(
		private readonly ctx: IExecuteFunctions,
		itemCount: number,
		private readonly continueOnFail: boolean,
	) {
		this.byItem = Array.from({ length: itemCount }, () => []);
	}

	/** An item (with binary data, when it carries a file) or an item error. */
	add(emit: Emit, binary?: IBinaryKeyData): void {
		if (emit.type === 'item') this.push(emit.index, emit.json, binary);
		else this.fail(emit.index, emit.error);
	}

	/** Records `error` for item `index`, or throws it when the node stops on errors. */
	fail(index: number, error: CoreError): void {
		if (!this.continueOnFail) throw toNodeError(this.ctx.getNode(), error, index);
		const json: IDataObject = { error: error.message };
		if (error.description) json.description = error.description;
		if (error.httpCode !== undefined) json.httpCode = error.httpCode;
		this.push(index, json);
	}

	/** Every item without an output fails with `error`, a failure of the whole call. */
	failUnanswered(error: CoreError): void {
		if (!this.continueOnFail) throw toNodeError(this.ctx.getNode(), error);
		this.byItem.forEach((out, index) => {
			if (out.length === 0) this.fail(index, error);
		});
	}

	items(): INodeExecutionData[] {
		return this.byItem.flat();
	}

	private push(index: number, json: IDataObject, binary?: IBinaryKeyData): void {
		this.byItem[index].push(binary ? { json, binary, pairedItem: { item: index } } : { json, pairedItem: { item: index } });
	}
}
