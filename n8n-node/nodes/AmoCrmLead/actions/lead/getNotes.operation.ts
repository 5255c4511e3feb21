import { updateDisplayOptions, type INodeProperties } from 'n8n-workflow';
import { leadLocator } from '../common.descriptions';

/** Parameters the core reads for this operation (src/lead/notes.rs, src/lead/list.rs). */
export const params = ['leadId', 'returnAll', 'limit', 'filters'];

const properties: INodeProperties[] = [
	leadLocator,
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		default: 50,
		typeOptions: { minValue: 1 },
		displayOptions: { show: { returnAll: [false] } },
		description: 'Max number of results to return',
	},
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		options: [
			{
				displayName: 'Note Types',
				name: 'noteTypes',
				type: 'multiOptions',
				default: [],
				options: [
					{ name: 'Incoming Call', value: 'call_in' },
					{ name: 'Outgoing Call', value: 'call_out' },
					{ name: 'Service Message', value: 'service_message' },
					{ name: 'Text', value: 'common' },
				],
			},
		],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['lead'], operation: ['getNotes'] } }, properties);
