// The List resource of the AmoCRM Catalog node: the account's catalogs
// (products, services, …), read and written through the generic entity
// operations over the core's src/catalog descriptor.

import type { INodeProperties } from 'n8n-workflow';
import type { EntityUi } from '../../shared/entity/descriptor';
import { name, paging } from '../../shared/entity/fields';
import { create } from '../../shared/entity/operations/create';
import { customRequest } from '../../shared/entity/operations/customRequest';
import { update } from '../../shared/entity/operations/update';
import type { EntityOperation } from '../../shared/entity/operation';

const base: Omit<EntityUi, 'createPrimary' | 'createFields' | 'updateFields'> = {
	resource: 'catalog',
	noun: 'list',
	nouns: 'lists',
	label: 'List',
	labels: 'Lists',
	idParam: 'listId',
	example: 'Services',
	include: [],
	sortBy: [],
	filters: [],
	notes: false,
	tags: false,
	customFields: false,
	writeSummary: 'name, sort and settings',
};

const settings: INodeProperties[] = [
	{
		displayName: 'Can Add Elements',
		name: 'canAddElements',
		type: 'boolean',
		default: true,
		description: 'Whether users can add elements to the list in amoCRM',
	},
	{
		displayName: 'Can Link Multiple',
		name: 'canLinkMultiple',
		type: 'boolean',
		default: true,
		description: 'Whether a record can be linked to several elements of the list',
	},
	{
		displayName: 'Show in Cards',
		name: 'canShowInCards',
		type: 'boolean',
		default: false,
		description: 'Whether the list shows as a tab in lead and contact cards',
	},
	{ displayName: 'Sort', name: 'sort', type: 'number', default: 10, typeOptions: { minValue: 0 }, description: 'Position among the lists' },
];

export const LIST: EntityUi = {
	...base,
	createPrimary: [name(base as EntityUi, 'Services')],
	createFields: ([
		...settings,
		{
			displayName: 'Type',
			name: 'type',
			type: 'options',
			default: 'regular',
			description: 'An account has at most one list of each type but Regular, and ten lists in all',
			options: [
				{ name: 'Invoices', value: 'invoices' },
				{ name: 'Products', value: 'products' },
				{ name: 'Regular', value: 'regular' },
				{ name: 'Suppliers', value: 'suppliers' },
			],
		},
	] as INodeProperties[]).sort((a, b) => a.displayName.localeCompare(b.displayName)),
	updateFields: ([{ displayName: 'Name', name: 'name', type: 'string', default: '', description: 'New name of the list' }, ...settings] as INodeProperties[]).sort((a, b) =>
		a.displayName.localeCompare(b.displayName),
	),
};

const getMany: EntityOperation = {
	option: {
		name: 'Get Many',
		value: 'getMany',
		action: 'Get many lists',
		description: "List the account's catalogs (products, services, …) with their type and settings; returns one item per list",
	},
	params: ['returnAll', 'limit'],
	properties: paging(),
};

export const LIST_OPERATIONS: EntityOperation[] = [getMany, create(LIST, 'name, type, sort'), update(LIST, 'name, sort'), customRequest()];
