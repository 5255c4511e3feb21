// The Element resource of the AmoCRM Catalog node: the elements of one
// catalog (products with SKU and price, …), their custom fields, and a
// lead's products. The catalog is chosen once per run; the core builds the
// elements' descriptor from it (src/catalog).

import type { INodeProperties } from 'n8n-workflow';
import type { EntityUi } from '../../shared/entity/descriptor';
import { locator } from '../../shared/entity/descriptor';
import { accountOption, name } from '../../shared/entity/fields';
import { customRequest } from '../../shared/entity/operations/customRequest';
import type { EntityOperation } from '../../shared/entity/operation';
import { standardOperations } from '../../shared/entity/node';

const catalog = accountOption('Catalog Name or ID', 'catalogId', 'getCatalogs', 'The list whose elements to work on; one list per run.', {
	required: true,
});

const base: Omit<EntityUi, 'createPrimary' | 'createFields' | 'updateFields'> = {
	resource: 'catalogElement',
	noun: 'catalog element',
	nouns: 'catalog elements',
	label: 'Element',
	labels: 'Elements',
	idParam: 'elementId',
	example: 'Pro licence',
	include: [],
	sortBy: [],
	filters: [
		{
			displayName: 'Element IDs',
			name: 'ids',
			type: 'string',
			default: '',
			placeholder: '600001, 600002',
			description: 'Only these elements (IDs separated by commas)',
		},
	],
	notes: false,
	tags: false,
	customFields: true,
	writeSummary: 'name and custom fields such as SKU and price',
	scope: [catalog],
};

export const ELEMENT: EntityUi = {
	...base,
	createPrimary: [name(base as EntityUi, 'Pro licence')],
	createFields: [],
	updateFields: [{ displayName: 'Name', name: 'name', type: 'string', default: '', description: 'New name of the element' }],
};

const lead: INodeProperties = {
	displayName: 'Lead',
	name: 'leadId',
	type: 'string',
	default: '',
	required: true,
	placeholder: '20000001',
	description: 'The lead, by ID or card URL',
};

const linkToLead: EntityOperation = {
	option: {
		name: 'Link to Lead',
		value: 'linkToLead',
		action: 'Add a product to a lead',
		description:
			'Link an element of the list to a lead with a quantity and, where the list has one, the price field that applies (linking it again sets the new quantity); returns the lead, element, quantity and price field',
	},
	params: ['leadId', 'elementId', 'quantity', 'priceId'],
	properties: [
		lead,
		locator(ELEMENT),
		{
			displayName: 'Quantity',
			name: 'quantity',
			type: 'number',
			default: 1,
			typeOptions: { minValue: 0, numberPrecision: 3 },
			description: 'How many; fractions such as 1.5 are allowed',
		},
		accountOption('Price Field Name or ID', 'priceId', 'getPriceFields', 'The price field of the list whose value applies, when it has one.', {
			typeOptions: { loadOptionsMethod: 'getPriceFields', loadOptionsDependsOn: ['catalogId'] },
		}),
	],
};

const getLeadProducts: EntityOperation = {
	option: {
		name: "Get a Lead's Products",
		value: 'getLeadProducts',
		action: "Get a lead's products",
		description:
			"Read the elements of this list linked to a lead; returns one item per element with its name, quantity, price field and price, and the element itself",
	},
	params: ['leadId'],
	properties: [lead],
};

export const ELEMENT_OPERATIONS: EntityOperation[] = [
	...standardOperations(ELEMENT, 'name, SKU, PRICE').filter((o) => o.option.value !== 'customRequest'),
	linkToLead,
	getLeadProducts,
	customRequest(),
];
