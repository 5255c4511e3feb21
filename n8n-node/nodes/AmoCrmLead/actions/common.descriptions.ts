import type { INodeProperties } from 'n8n-workflow';

/** A lead chosen from a searchable list, by ID, or by the URL of its card. */
export const leadLocator: INodeProperties = {
	displayName: 'Lead',
	name: 'leadId',
	type: 'resourceLocator',
	default: { mode: 'list', value: '' },
	required: true,
	description: 'The lead to use',
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			placeholder: 'Select a lead...',
			typeOptions: { searchListMethod: 'searchLeads', searchable: true },
		},
		{
			displayName: 'By ID',
			name: 'id',
			type: 'string',
			placeholder: '12345',
			validation: [
				{ type: 'regex', properties: { regex: '^\\s*[0-9]+\\s*$', errorMessage: 'A lead ID is a whole number such as 12345' } },
			],
		},
		{
			displayName: 'By URL',
			name: 'url',
			type: 'string',
			placeholder: 'https://example.amocrm.ru/leads/detail/12345',
			validation: [
				{
					type: 'regex',
					properties: {
						regex: '^https?://[^/]+/leads/detail/[0-9]+',
						errorMessage: 'Paste the address of a lead card, like https://example.amocrm.ru/leads/detail/12345',
					},
				},
			],
		},
	],
};
