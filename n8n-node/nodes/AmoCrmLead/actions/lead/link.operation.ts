import { updateDisplayOptions, type INodeProperties } from 'n8n-workflow';
import { leadLocator } from '../common.descriptions';

/** Parameters the core reads for Link and Unlink (src/lead/links.rs). */
export const params = ['leadId', 'contactIds', 'companyIds', 'catalogElements'];

const properties: INodeProperties[] = [
	leadLocator,
	{
		displayName: 'Contact IDs',
		name: 'contactIds',
		type: 'string',
		default: '',
		placeholder: '123, 124',
		description: 'Contacts, separated by commas',
	},
	{
		displayName: 'Company IDs',
		name: 'companyIds',
		type: 'string',
		default: '',
		placeholder: '4567',
		description: 'Companies, separated by commas',
	},
	{
		displayName: 'Catalog Elements',
		name: 'catalogElements',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: 'Add Catalog Element',
		description: 'Products or other catalog elements',
		options: [
			{
				displayName: 'Elements',
				name: 'elements',
				values: [
					{ displayName: 'Catalog ID', name: 'catalogId', type: 'string', default: '' },
					{ displayName: 'Element ID', name: 'elementId', type: 'string', default: '' },
					{ displayName: 'Quantity', name: 'quantity', type: 'number', default: 1, typeOptions: { minValue: 0 } },
				],
			},
		],
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['lead'], operation: ['link', 'unlink'] } },
	properties,
);
