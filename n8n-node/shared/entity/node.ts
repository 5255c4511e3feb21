// The properties of an entity node, put together from its operations: the
// Resource (so that n8n lists the node's actions in its panel), the
// Operation list, and each operation's fields, shown only for it.

import { updateDisplayOptions, type INodeProperties } from 'n8n-workflow';
import { authenticationProperty } from '../authentication';
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
