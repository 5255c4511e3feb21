import { updateDisplayOptions, type INodeProperties } from 'n8n-workflow';

/** Parameters the core reads for this operation (src/lead/list.rs, src/lead/filter.rs). */
export const params = ['returnAll', 'limit', 'simplify', 'query', 'filters', 'options'];

const dateRange = (name: string, label: string, what: string): INodeProperties[] => [
	{
		displayName: `${label} After`,
		name: `${name}From`,
		type: 'dateTime',
		default: '',
		description: `Only leads ${what} at or after this time`,
	},
	{
		displayName: `${label} Before`,
		name: `${name}To`,
		type: 'dateTime',
		default: '',
		description: `Only leads ${what} at or before this time`,
	},
];

const properties: INodeProperties[] = [
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
		displayName: 'Search',
		name: 'query',
		type: 'string',
		default: '',
		placeholder: 'Acme',
		description: 'Text to look for in lead names and field values (amoCRM\'s "query" search)',
	},
	{
		displayName: 'Simplify',
		name: 'simplify',
		type: 'boolean',
		default: false,
		description:
			'Whether to return flat records: custom fields as {field name: value}, tags as names, contacts and companies as IDs',
	},
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		description: "Sent in amoCRM's filter syntax; all filters must match",
		options: [
			...dateRange('closedAt', 'Closed', 'closed'),
			...dateRange('closestTaskAt', 'Closest Task', 'with their closest task due'),
			...dateRange('createdAt', 'Created', 'created'),
			{
				displayName: 'Created By Names or IDs',
				name: 'createdBy',
				type: 'multiOptions',
				typeOptions: { loadOptionsMethod: 'getUsers' },
				default: [],
				description:
					'Only leads created by these users. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
			{
				displayName: 'Custom Field Values',
				name: 'customFieldValues',
				type: 'fixedCollection',
				typeOptions: { multipleValues: true },
				default: {},
				placeholder: 'Add Custom Field Filter',
				options: [
					{
						displayName: 'Values',
						name: 'values',
						values: [
							{
								displayName: 'Field Name or ID',
								name: 'fieldId',
								type: 'options',
								typeOptions: { loadOptionsMethod: 'getCustomFields' },
								default: '',
								description:
									'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
							},
							{
								displayName: 'From',
								name: 'from',
								type: 'string',
								default: '',
								description: 'For numbers and dates: the smallest value (a date as 2024-05-01 or a timestamp)',
							},
							{
								displayName: 'To',
								name: 'to',
								type: 'string',
								default: '',
								description: 'For numbers and dates: the largest value',
							},
							{
								displayName: 'Value',
								name: 'value',
								type: 'string',
								default: '',
								description: 'The value to match; several values separated by commas match any of them',
							},
						],
					},
				],
			},
			{
				displayName: 'Lead IDs',
				name: 'ids',
				type: 'string',
				default: '',
				placeholder: '12345, 12346',
				description: 'Only these leads (IDs separated by commas)',
			},
			{
				displayName: 'Names',
				name: 'names',
				type: 'string',
				default: '',
				description: 'Only leads with exactly these names (separated by commas)',
			},
			{
				displayName: 'Pipeline Names or IDs',
				name: 'pipelineIds',
				type: 'multiOptions',
				typeOptions: { loadOptionsMethod: 'getPipelines' },
				default: [],
				description:
					'Only leads in these pipelines. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
			{
				displayName: 'Price From',
				name: 'priceFrom',
				type: 'number',
				default: 0,
				description: 'Only leads with at least this budget',
			},
			{
				displayName: 'Price To',
				name: 'priceTo',
				type: 'number',
				default: 0,
				description: 'Only leads with at most this budget',
			},
			{
				displayName: 'Responsible User Names or IDs',
				name: 'responsibleUserIds',
				type: 'multiOptions',
				typeOptions: { loadOptionsMethod: 'getUsers' },
				default: [],
				description:
					'Only leads assigned to these users. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
			{
				displayName: 'Status Names or IDs',
				name: 'statuses',
				type: 'multiOptions',
				typeOptions: { loadOptionsMethod: 'getStatuses' },
				default: [],
				description:
					'Only leads in these stages; values are pipelineID:statusID. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
			...dateRange('updatedAt', 'Updated', 'last updated'),
			{
				displayName: 'Updated By Names or IDs',
				name: 'updatedBy',
				type: 'multiOptions',
				typeOptions: { loadOptionsMethod: 'getUsers' },
				default: [],
				description:
					'Only leads last changed by these users. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Include',
				name: 'with',
				type: 'multiOptions',
				default: [],
				description: 'Related data to embed in each lead, or deleted leads instead of live ones',
				options: [
					{ name: 'Catalog Elements', value: 'catalog_elements' },
					{ name: 'Contacts', value: 'contacts' },
					{ name: 'Is Price Modified by Robot', value: 'is_price_modified_by_robot' },
					{ name: 'Loss Reason', value: 'loss_reason' },
					{
						name: 'Only Deleted Leads',
						value: 'only_deleted',
						description: 'Deleted leads (mostly empty records) instead of live ones',
					},
					{ name: 'Source ID', value: 'source_id' },
				],
			},
			{
				displayName: 'Sort By',
				name: 'sortBy',
				type: 'options',
				default: 'created_at',
				options: [
					{ name: 'Created At', value: 'created_at' },
					{ name: 'ID', value: 'id' },
					{ name: 'Updated At', value: 'updated_at' },
				],
			},
			{
				displayName: 'Sort Direction',
				name: 'sortDirection',
				type: 'options',
				default: 'asc',
				options: [
					{ name: 'Ascending', value: 'asc' },
					{ name: 'Descending', value: 'desc' },
				],
			},
		],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['lead'], operation: ['getMany'] } }, properties);
