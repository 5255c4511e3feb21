import {
	NodeConnectionTypes,
	updateDisplayOptions,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { authenticationProperty, credentialSlots } from '../../shared/authentication';
import { binaryMeta, ItemBinaries } from '../../shared/binary';
import type { Emit } from '../../shared/core';
import { listSearch, loadOptions, resourceMapping } from '../../shared/entity/methods';
import { operationMap } from '../../shared/entity/node';
import { executeOperation } from '../../shared/entity/router';
import { toNodeError } from '../../shared/errors';
import { ItemCollector } from '../../shared/output';
import { runOperation } from '../../shared/transport';
import { RESOURCES } from './operations';

function properties(): INodeProperties[] {
	const out: INodeProperties[] = [
		authenticationProperty,
		{
			displayName: 'Resource',
			name: 'resource',
			type: 'options',
			noDataExpression: true,
			options: RESOURCES.map((r) => ({ name: r.name, value: r.value })),
			default: 'account',
		},
	];
	for (const r of RESOURCES) {
		const custom = r.operations.filter((o) => o.option.value === 'customRequest');
		const ordered = [...r.operations.filter((o) => o.option.value !== 'customRequest').sort((a, b) => a.option.name.localeCompare(b.option.name)), ...custom];
		const first = ordered[0].option.value;
		out.push({
			displayName: 'Operation',
			name: 'operation',
			type: 'options',
			noDataExpression: true,
			displayOptions: { show: { resource: [r.value] } },
			options: ordered.map((o) => o.option),
			default: first,
		});
		for (const o of ordered) out.push(...updateDisplayOptions({ show: { resource: [r.value], operation: [o.option.value] } }, o.properties));
	}
	return out;
}

const BINARY_KEY = '$binary';

/** Upload and Download: the files' bytes go through n8n's binary data, part by part. */
async function executeFiles(this: IExecuteFunctions, operation: string, params: string[]): Promise<INodeExecutionData[][]> {
	const inputs = this.getInputData();
	const asTool = this.getNode().type.endsWith('Tool');
	const continueOnFail = this.continueOnFail() || asTool;
	const credentialType = this.getNodeParameter('authentication', 0) as string;
	const items: IDataObject[] = [];
	for (let index = 0; index < inputs.length; index++) {
		const item: IDataObject = {};
		try {
			for (const name of params) item[name] = this.getNodeParameter(name, index, null) as IDataObject[keyof IDataObject];
			if (operation === 'upload') {
				const property = String(item.binaryPropertyName || 'data');
				try {
					item.binary = await binaryMeta(this, index, property);
				} catch {
					// The core says that the item has no such binary data.
				}
			}
			items.push(item);
		} catch (error) {
			items.push({ $readError: (error as Error).message });
		}
	}
	const binary = new ItemBinaries(this);
	const emits: Emit[] = [];
	try {
		const fatal = await runOperation(this, credentialType, { resource: 'file', operation, continueOnFail }, { items, binary }, (emit) => emits.push(emit));
		const output = new ItemCollector(this, inputs.length, continueOnFail);
		for (const emit of emits) {
			const file = emit.type === 'item' ? (emit.json[BINARY_KEY] as IDataObject | undefined) : undefined;
			if (emit.type !== 'item' || !file) {
				output.add(emit);
				continue;
			}
			const json = { ...emit.json };
			delete json[BINARY_KEY];
			const bytes = binary.take(String(file.key)) ?? Buffer.alloc(0);
			const data = await this.helpers.prepareBinaryData(bytes, String(file.fileName ?? 'file'), (file.mimeType as string | undefined) ?? undefined);
			output.add({ ...emit, json }, { [String(file.property)]: data });
		}
		if (fatal) {
			if (!continueOnFail) throw toNodeError(this.getNode(), fatal);
			output.failUnanswered(fatal);
		}
		return [output.items()];
	} finally {
		binary.close();
	}
}

export class AmoCrmAccount implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'AmoCRM Account',
		name: 'amoCrmAccount',
		icon: { light: 'file:../../icons/amocrm.svg', dark: 'file:../../icons/amocrm.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description:
			'Manage the amoCRM / Kommo account itself: pipelines and statuses, users, custom fields, tags, loss reasons, sources, calls, talks, salesbots, webhooks and files',
		defaults: { name: 'AmoCRM Account' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: credentialSlots,
		properties: properties(),
	};

	methods = { listSearch, loadOptions, resourceMapping };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const resource = this.getNodeParameter('resource', 0) as string;
		const operation = this.getNodeParameter('operation', 0) as string;
		const operations = RESOURCES.find((r) => r.value === resource)?.operations ?? [];
		if (resource === 'file' && (operation === 'upload' || operation === 'download')) {
			const params = operations.find((o) => o.option.value === operation)?.params ?? [];
			return await executeFiles.call(this, operation, params);
		}
		return await executeOperation.call(this, resource, operationMap(operations));
	}
}
