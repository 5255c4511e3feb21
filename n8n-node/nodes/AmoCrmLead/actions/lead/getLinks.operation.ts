import { updateDisplayOptions, type INodeProperties } from 'n8n-workflow';
import { leadLocator } from '../common.descriptions';

/** Parameters the core reads for this operation (src/lead/links.rs). */
export const params = ['leadId', 'filters'];

const properties: INodeProperties[] = [
	leadLocator,
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		options: [
			{
				displayName: 'Linked Types',
				name: 'toEntityTypes',
				type: 'multiOptions',
				default: [],
				options: [
					{ name: 'Catalog Elements', value: 'catalog_elements' },
					{ name: 'Companies', value: 'companies' },
					{ name: 'Contacts', value: 'contacts' },
				],
			},
		],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['lead'], operation: ['getLinks'] } }, properties);
