import type { INodeProperties } from 'n8n-workflow';

/**
 * Lead properties shared by Create, Update and Create with Contact and
 * Company, keyed as the core reads them (src/lead/body.rs).
 */
export const price: INodeProperties = {
	displayName: 'Price',
	name: 'price',
	type: 'number',
	default: 0,
	typeOptions: { minValue: 0 },
	description: 'The lead budget, a whole number in the account currency',
};

export const status: INodeProperties = {
	displayName: 'Status Name or ID',
	name: 'status',
	type: 'options',
	typeOptions: { loadOptionsMethod: 'getStatuses' },
	default: '',
	description:
		'Pipeline stage to put the lead in. Statuses 142 (won) and 143 (lost) exist in every pipeline, so the value carries its pipeline: pipelineID:statusID. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

export const pipeline: INodeProperties = {
	displayName: 'Pipeline Name or ID',
	name: 'pipelineId',
	type: 'options',
	typeOptions: { loadOptionsMethod: 'getPipelines' },
	default: '',
	description:
		'Pipeline of the lead, when no status is chosen (the lead goes to its first stage). Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

export const responsibleUser: INodeProperties = {
	displayName: 'Responsible User Name or ID',
	name: 'responsibleUserId',
	type: 'options',
	typeOptions: { loadOptionsMethod: 'getUsers' },
	default: '',
	description:
		'User the lead is assigned to. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

export const lossReason: INodeProperties = {
	displayName: 'Loss Reason Name or ID',
	name: 'lossReasonId',
	type: 'options',
	typeOptions: { loadOptionsMethod: 'getLossReasons' },
	default: '',
	description:
		'Why the lead was lost; only with the status "Closed - lost" (143). Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

export const closedAt: INodeProperties = {
	displayName: 'Closed At',
	name: 'closedAt',
	type: 'dateTime',
	default: '',
	description: 'When the lead was closed',
};

export const customFields: INodeProperties = {
	displayName: 'Custom Fields',
	name: 'customFields',
	type: 'resourceMapper',
	noDataExpression: true,
	default: { mappingMode: 'defineBelow', value: null },
	description:
		"Values for the account's lead custom fields. Fields left out or left empty are not changed; to empty a field, use Custom Fields to Clear.",
	typeOptions: {
		loadOptionsDependsOn: ['authentication'],
		resourceMapper: {
			resourceMapperMethod: 'getCustomFieldColumns',
			mode: 'add',
			fieldWords: { singular: 'custom field', plural: 'custom fields' },
			addAllFields: false,
			multiKeyMatch: false,
			supportAutoMap: true,
		},
	},
};

export const customFieldsToClear: INodeProperties = {
	displayName: 'Custom Fields to Clear',
	name: 'customFieldsToClear',
	type: 'multiOptions',
	typeOptions: { loadOptionsMethod: 'getCustomFields' },
	default: [],
	description:
		'Custom fields to empty in amoCRM. Clearing is a separate choice so that an input left empty never wipes data. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

export const batchOptions: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	options: [
		{
			displayName: 'Batch Size',
			name: 'batchSize',
			type: 'number',
			default: 250,
			typeOptions: { minValue: 1, maxValue: 250 },
			description:
				'Items sent per request. amoCRM accepts up to 250 (50 for Create with Contact and Company); the node uses the largest batches unless set lower here.',
		},
	],
};
