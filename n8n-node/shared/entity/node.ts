// The properties of an entity node, put together from its operations: the
// Resource (so that n8n lists the node's actions in its panel), the
// Operation list, and each operation's fields, shown only for it.

import {
	NodeConnectionTypes,
	updateDisplayOptions,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { authenticationProperty, credentialSlots } from '../authentication';
import { listSearch, loadOptions, resourceMapping } from './methods';
import { create } from './operations/create';
import { customRequest } from './operations/customRequest';
import { get } from './operations/get';
import { getMany } from './operations/getMany';
import { links } from './operations/links';
import { notes } from './operations/notes';
import { update } from './operations/update';
import { executeOperation } from './router';
import type { EntityUi } from './descriptor';
import type { EntityOperation } from './operation';

export function entityProperties(e: EntityUi, operations: EntityOperation[]): INodeProperties[] {
	const byName = (a: EntityOperation, b: EntityOperation) => a.option.name.localeCompare(b.option.name);
	// n8n adds a "Custom API Call" of its own to an Operation list unless one
	// is its last entry: the node's own (rate-limited, error-mapped) goes last.
	const custom = operations.filter((o) => o.option.value === 'customRequest');
	const ordered = [...operations.filter((o) => o.option.value !== 'customRequest').sort(byName), ...custom];
	return [
		authenticationProperty,
		{
			displayName: 'Resource',
			name: 'resource',
			type: 'options',
			noDataExpression: true,
			options: [{ name: e.label, value: e.resource }],
			default: e.resource,
		},
		{
			displayName: 'Operation',
			name: 'operation',
			type: 'options',
			noDataExpression: true,
			displayOptions: { show: { resource: [e.resource] } },
			options: ordered.map((o) => o.option),
			default: 'get',
		},
		...ordered.flatMap((o) =>
			updateDisplayOptions({ show: { resource: [e.resource], operation: [o.option.value] } }, o.properties),
		),
	];
}

/** The operations by their value, for the router. */
export function operationMap(operations: EntityOperation[]): Record<string, EntityOperation> {
	return Object.fromEntries(operations.map((o) => [o.option.value, o]));
}

/** The description of an entity node: names from `meta`, the rest shared. */
export function entityNodeDescription(
	meta: { displayName: string; name: string; description: string; subtitle: string },
	e: EntityUi,
	operations: EntityOperation[],
): INodeTypeDescription {
	return {
		...meta,
		icon: { light: 'file:../../icons/amocrm.svg', dark: 'file:../../icons/amocrm.dark.svg' },
		group: ['transform'],
		version: 1,
		defaults: { name: meta.displayName },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: credentialSlots,
		properties: entityProperties(e, operations),
	};
}

/** The operations every entity node has, for its descriptor. */
export function standardOperations(e: EntityUi, recordExample: string): EntityOperation[] {
	return [
		get(e),
		getMany(e),
		create(e, recordExample),
		update(e, recordExample),
		...(e.links ? links(e) : []),
		...(e.notes ? notes(e) : []),
		customRequest(),
	];
}

/**
 * The class of an entity node: its description, its dropdowns, pickers and
 * custom-field mapper, and execute() running the chosen operation.
 */
export function entityNode(
	meta: { displayName: string; name: string; description: string; subtitle: string },
	e: EntityUi,
	operations: EntityOperation[],
) {
	const byValue = operationMap(operations);
	return class implements INodeType {
		description: INodeTypeDescription = entityNodeDescription(meta, e, operations);

		methods = { listSearch, loadOptions, resourceMapping };

		async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
			return await executeOperation.call(this, e.resource, byValue);
		}
	};
}
