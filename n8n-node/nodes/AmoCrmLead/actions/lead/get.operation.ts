import { updateDisplayOptions, type INodeProperties } from 'n8n-workflow';
import { leadLocator } from '../common.descriptions';

/** Parameters the core reads for this operation (src/lead/get.rs). */
export const params = ['leadId', 'with', 'simplify'];

const properties: INodeProperties[] = [
	leadLocator,
	{
		displayName: 'Include',
		name: 'with',
		type: 'multiOptions',
		default: [],
		description: 'Related data amoCRM can embed in the lead (its "with" parameter)',
		options: [
			{
				name: 'Catalog Elements',
				value: 'catalog_elements',
				description: 'Linked products and other catalog elements, with quantity',
			},
			{ name: 'Contacts', value: 'contacts', description: 'IDs of linked contacts and which one is main' },
			{
				name: 'Is Price Modified by Robot',
				value: 'is_price_modified_by_robot',
				description: 'Whether an automation changed the budget',
			},
			{ name: 'Loss Reason', value: 'loss_reason', description: 'The loss reason of a lost lead' },
			{ name: 'Source ID', value: 'source_id', description: 'The lead source (a widget or form) it came from' },
		],
	},
	{
		displayName: 'Simplify',
		name: 'simplify',
		type: 'boolean',
		default: false,
		description:
			'Whether to return a flat record: custom fields as {field name: value}, tags as names, contacts and companies as IDs',
	},
];

export const description = updateDisplayOptions({ show: { resource: ['lead'], operation: ['get'] } }, properties);
