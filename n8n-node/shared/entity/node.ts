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

/** One resource of a node: how its records look, and what can be done with them. */
export interface NodeResource {
	ui: EntityUi;
	operations: EntityOperation[];
}

/** Every resource's operations carry the resource's scope parameters (the catalog an element belongs to). */
function scoped(r: NodeResource): EntityOperation[] {
	const scope = (r.ui.scope ?? []).map((p) => p.name);
	if (scope.length === 0) return r.operations;
	return r.operations.map((o) =>
		o.core
			? o
			: { ...o, params: [...scope, ...o.params], autoParams: o.autoParams && [...scope, ...o.autoParams] },
	);
}

export function resourcesProperties(resources: NodeResource[]): INodeProperties[] {
	const byName = (a: EntityOperation, b: EntityOperation) => a.option.name.localeCompare(b.option.name);
	return [
		authenticationProperty,
		{
			displayName: 'Resource',
			name: 'resource',
			type: 'options',
			noDataExpression: true,
			options: resources.map((r) => ({ name: r.ui.label, value: r.ui.resource })),
			default: resources[0].ui.resource,
		},
		...resources.flatMap(({ ui: e, operations }) => {
			// n8n adds a "Custom API Call" of its own to an Operation list unless one
			// is its last entry: the node's own (rate-limited, error-mapped) goes last.
			const custom = operations.filter((o) => o.option.value === 'customRequest');
			const ordered = [...operations.filter((o) => o.option.value !== 'customRequest').sort(byName), ...custom];
			const show = { resource: [e.resource] };
			return [
				{
					displayName: 'Operation',
					name: 'operation',
					type: 'options',
					noDataExpression: true,
					displayOptions: { show },
					options: ordered.map((o) => o.option),
					default: ordered.some((o) => o.option.value === 'get') ? 'get' : ordered[0].option.value,
				} as INodeProperties,
				...updateDisplayOptions({ show, hide: { operation: ['customRequest'] } }, e.scope ?? []),
				...ordered.flatMap((o) => updateDisplayOptions({ show: { ...show, operation: [o.option.value] } }, o.properties)),
			];
		}),
	];
}

export function entityProperties(e: EntityUi, operations: EntityOperation[]): INodeProperties[] {
	return resourcesProperties([{ ui: e, operations }]);
}

/** The operations by their value, for the router. */
export function operationMap(operations: EntityOperation[]): Record<string, EntityOperation> {
	return Object.fromEntries(operations.map((o) => [o.option.value, o]));
}

type NodeMeta = { displayName: string; name: string; description: string; subtitle: string };

/** The description of a node: names from `meta`, the rest shared. */
export function resourcesNodeDescription(meta: NodeMeta, resources: NodeResource[]): INodeTypeDescription {
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
		properties: resourcesProperties(resources),
	};
}

/** The description of an entity node: names from `meta`, the rest shared. */
export function entityNodeDescription(meta: NodeMeta, e: EntityUi, operations: EntityOperation[]): INodeTypeDescription {
	return resourcesNodeDescription(meta, [{ ui: e, operations }]);
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
 * The class of a node of one or more resources: its description, its
 * dropdowns, pickers and custom-field mapper, and execute() running the
 * chosen resource's operation.
 */
export function resourcesNode(meta: NodeMeta, resources: NodeResource[]) {
	const byResource = Object.fromEntries(resources.map((r) => [r.ui.resource, operationMap(scoped(r))]));
	const only = resources.length === 1 ? resources[0].ui.resource : undefined;
	return class implements INodeType {
		description: INodeTypeDescription = resourcesNodeDescription(meta, resources);

		methods = { listSearch, loadOptions, resourceMapping };

		async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
			const resource = only ?? (this.getNodeParameter('resource', 0) as string);
			return await executeOperation.call(this, resource, byResource[resource]);
		}
	};
}

/** The class of an entity node (one resource). */
export function entityNode(meta: NodeMeta, e: EntityUi, operations: EntityOperation[]) {
	return resourcesNode(meta, [{ ui: e, operations }]);
}
