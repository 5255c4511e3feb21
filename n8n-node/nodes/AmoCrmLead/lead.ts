// The AmoCRM Lead node's description: what is specific to leads (price,
// pipelines and statuses, loss reasons, closing date, linked contacts and
// company on create) over the fields every entity node shares.

import type { INodeProperties } from 'n8n-workflow';
import type { EntityUi } from '../../shared/entity/descriptor';
import { LINK } from '../../shared/entity/related';
import { commonFilters, createdAt, dateRange, name, responsibleUser, tagsOnCreate, tagsOnUpdate } from '../../shared/entity/fields';

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

const base = {
	resource: 'lead',
	noun: 'lead',
	nouns: 'leads',
	label: 'Lead',
	labels: 'Leads',
	idParam: 'leadId',
	cardPath: '/leads/detail/',
	example: 'Acme',
	notes: true,
	tags: true,
	customFields: true,
	writeSummary: 'name, price, status, responsible user, tags, custom fields',
} as const;

const partial: Omit<EntityUi, 'filters' | 'createFields' | 'updateFields' | 'createPrimary'> = {
	...base,
	include: [
		{ name: 'Catalog Elements', value: 'catalog_elements', description: 'Linked products and other catalog elements, with quantity' },
		{ name: 'Contacts', value: 'contacts', description: 'IDs of linked contacts and which one is main' },
		{ name: 'Is Price Modified by Robot', value: 'is_price_modified_by_robot', description: 'Whether an automation changed the budget' },
		{ name: 'Loss Reason', value: 'loss_reason', description: 'The loss reason of a lost lead' },
		{ name: 'Source ID', value: 'source_id', description: 'The lead source (a widget or form) it came from' },
	],
	listInclude: [{ name: 'Only Deleted Leads', value: 'only_deleted', description: 'Deleted leads (mostly empty records) instead of live ones' }],
	sortBy: [
		{ name: 'Created At', value: 'created_at' },
		{ name: 'ID', value: 'id' },
		{ name: 'Updated At', value: 'updated_at' },
	],
	links: [LINK.contacts, LINK.companies],
	linksCatalogElements: true,
};

/** Additional fields of a new lead; Create with Contact and Company reuses most. */
export const newLeadFields: INodeProperties[] = [
	closedAt,
	{
		displayName: 'Company ID',
		name: 'companyId',
		type: 'string',
		default: '',
		placeholder: '4567',
		description: 'An existing company to link the lead to',
	},
	{
		displayName: 'Contact IDs',
		name: 'contactIds',
		type: 'string',
		default: '',
		placeholder: '123, 124',
		description: 'Existing contacts to link, separated by commas; the first becomes the main contact',
	},
	createdAt(partial as EntityUi),
	lossReason,
	pipeline,
	price,
	responsibleUser(partial as EntityUi),
	status,
	tagsOnCreate(partial as EntityUi),
];

const pipelineFilters: INodeProperties[] = [
	{
		displayName: 'Pipeline Names or IDs',
		name: 'pipelineIds',
		type: 'multiOptions',
		typeOptions: { loadOptionsMethod: 'getPipelines' },
		default: [],
		description: 'Only leads in these pipelines. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
	{ displayName: 'Price From', name: 'priceFrom', type: 'number', default: 0, description: 'Only leads with at least this budget' },
	{ displayName: 'Price To', name: 'priceTo', type: 'number', default: 0, description: 'Only leads with at most this budget' },
	{
		displayName: 'Status Names or IDs',
		name: 'statuses',
		type: 'multiOptions',
		typeOptions: { loadOptionsMethod: 'getStatuses' },
		default: [],
		description: 'Only leads in these stages; values are pipelineID:statusID. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
];

export const LEAD: EntityUi = {
	...partial,
	createPrimary: [{ ...name(partial as EntityUi, 'Website order #1042'), description: 'Name of the lead; amoCRM names it "Deal #ID" when empty' }],
	createFields: newLeadFields,
	updateFields: [
		closedAt,
		lossReason,
		{ displayName: 'Name', name: 'name', type: 'string', default: '', description: 'New name of the lead' },
		pipeline,
		price,
		responsibleUser(partial as EntityUi),
		status,
		...tagsOnUpdate(partial as EntityUi),
	],
	filters: [...commonFilters(partial as EntityUi), ...dateRange(partial as EntityUi, 'closedAt', 'Closed', 'closed'), ...pipelineFilters].sort((a, b) =>
		a.displayName.localeCompare(b.displayName),
	),
};

/** The fields automatic mapping takes, for the Mapping option's text. */
export const LEAD_RECORD_EXAMPLE = 'name, price, status_id, pipeline_id, responsible_user_id, tags';
