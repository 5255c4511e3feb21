// Node properties every entity node shares, keyed as the core reads them
// (src/entity/record.rs, src/entity/filter.rs).

import type { INodeProperties } from 'n8n-workflow';
import { EXPRESSION_HINT, scopeNames, type EntityUi } from './descriptor';

/**
 * A dropdown the account fills (pipelines, users, catalogs, …) that also
 * takes an ID; `displayName` ends with "Name or ID", as n8n's lint wants.
 */
export function accountOption(
	displayName: string,
	name: string,
	loadOptionsMethod: string,
	description: string,
	extra: Partial<INodeProperties> = {},
): INodeProperties {
	return {
		displayName,
		name,
		type: 'options',
		typeOptions: { loadOptionsMethod },
		default: '',
		description: `${description} ${EXPRESSION_HINT}`,
		...extra,
	};
}

export function responsibleUser(e: EntityUi): INodeProperties {
	return {
		displayName: 'Responsible User Name or ID',
		name: 'responsibleUserId',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getUsers' },
		default: '',
		description: `User the ${e.noun} is assigned to. ${EXPRESSION_HINT}`,
	};
}

/** A whole number of at least 0 (an amount, a duration). */
export function wholeNumber(displayName: string, name: string, description: string): INodeProperties {
	return { displayName, name, type: 'number', default: 0, typeOptions: { minValue: 0 }, description };
}

export function createdAt(e: EntityUi): INodeProperties {
	return {
		displayName: 'Created At',
		name: 'createdAt',
		type: 'dateTime',
		default: '',
		description: `When the ${e.noun} was created, if not now (for imports)`,
	};
}

export function name(e: EntityUi, placeholder: string): INodeProperties {
	return {
		displayName: 'Name',
		name: 'name',
		type: 'string',
		default: '',
		placeholder,
		description: `Name of the ${e.noun}`,
	};
}

export function tagsOnCreate(e: EntityUi): INodeProperties {
	return {
		displayName: 'Tags',
		name: 'tags',
		type: 'string',
		default: '',
		placeholder: 'vip, website',
		description: `Tag names (or tag IDs) separated by commas; new names create ${e.noun} tags`,
	};
}

export function tagsOnUpdate(e: EntityUi): INodeProperties[] {
	return [
		{
			displayName: 'Tags to Add',
			name: 'tagsToAdd',
			type: 'string',
			default: '',
			placeholder: 'vip, callback',
			description: `Tag names (or IDs) separated by commas, added to the tags the ${e.noun} has`,
		},
		{
			displayName: 'Tags to Remove',
			name: 'tagsToRemove',
			type: 'string',
			default: '',
			description: `Tag names (or IDs) separated by commas, removed from the ${e.noun}`,
		},
	];
}

/**
 * The custom-field mapper, headed by a notice: n8n's mapper speaks of
 * "columns" whatever it maps (its labels cannot be renamed), so the notice
 * says that here they are the account's custom fields.
 */
export function customFields(e: EntityUi): INodeProperties[] {
	return [
		{
			displayName: `Custom fields: the account's ${e.noun} custom fields, set below (add the ones to set). Several options of a multiselect are separated by commas.`,
			name: 'customFieldsNotice',
			type: 'notice',
			default: '',
		},
		customFieldMapper(e),
	];
}

function customFieldMapper(e: EntityUi): INodeProperties {
	return {
		displayName: 'Custom Fields',
		name: 'customFields',
		type: 'resourceMapper',
		noDataExpression: true,
		default: { mappingMode: 'defineBelow', value: null },
		description: `Values for the account's ${e.noun} custom fields. Fields left out or left empty are not changed; to empty a field, use Custom Fields to Clear.`,
		typeOptions: {
			loadOptionsDependsOn: ['authentication', ...scopeNames(e)],
			resourceMapper: {
				resourceMapperMethod: 'getCustomFieldColumns',
				mode: 'add',
				fieldWords: { singular: 'custom field', plural: 'custom fields' },
				addAllFields: false,
				multiKeyMatch: false,
				// The node's own Mapping option maps an item's fields, custom
				// ones included; n8n's second switch here (labelled "Mapping
				// Column Mode", a label it does not let a node rename) would
				// only repeat it. Workflows saved with it still run.
				supportAutoMap: false,
			},
		},
	};
}

export function customFieldsToClear(e: EntityUi): INodeProperties {
	return {
		displayName: 'Custom Fields to Clear',
		name: 'customFieldsToClear',
		type: 'multiOptions',
		typeOptions: { loadOptionsMethod: 'getCustomFields', ...(e.scope ? { loadOptionsDependsOn: scopeNames(e) } : {}) },
		default: [],
		description: `${e.label} custom fields to empty in amoCRM. Clearing is a separate choice so that an input left empty never wipes data. ${EXPRESSION_HINT}`,
	};
}

/**
 * The write options: batch size, and for Create and Update (the operations
 * with automatic mapping) what to output and unknown fields.
 */
export function writeOptions(e: EntityUi, { auto = false, max = 250, batchDefault = 50 } = {}): INodeProperties {
	const options: INodeProperties[] = [
		{
			displayName: 'Batch Size',
			name: 'batchSize',
			type: 'number',
			default: batchDefault,
			typeOptions: { minValue: 1, maxValue: max },
			description: `${e.labels} sent per request (1 to ${max}). amoCRM documents no limit and its official client advises 50; raise it only if your account takes larger batches.`,
		},
	];
	options.push(...(e.writeOptions ?? []));
	if (auto) {
		options.push({
			displayName: 'Output',
			name: 'output',
			type: 'options',
			default: 'records',
			options: [
				{
					name: 'Written Records',
					value: 'records',
					description: `Each ${e.noun} as amoCRM now has it (one extra read per batch)`,
				},
				{
					name: 'IDs Only',
					value: 'ids',
					description: `Only the ID of each ${e.noun}, as amoCRM answers a write: no extra request`,
				},
			],
			description: 'What each output item holds',
		});
		options.push({
			displayName: 'Ignore Unknown Fields',
			name: 'ignoreUnknownFields',
			type: 'boolean',
			default: false,
			displayOptions: { show: { '/mapping': ['auto'] } },
			description: `Whether to skip item fields that are neither ${e.noun} fields nor custom fields, instead of failing the item`,
		});
	}
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: options.sort((a, b) => a.displayName.localeCompare(b.displayName)),
	};
}

/** Create and Update: fields from the parameters below, or from each item as it is. */
export function mapping(e: EntityUi, example: string): INodeProperties {
	return {
		displayName: 'Mapping',
		name: 'mapping',
		type: 'options',
		noDataExpression: true,
		default: 'manual',
		options: [
			{
				name: 'Map Each Field Below',
				value: 'manual',
				description: 'Set the fields with the parameters below, with expressions where needed',
			},
			{
				name: 'Map Input Fields Automatically',
				value: 'auto',
				description: `Take each input item's fields as they are: amoCRM's ${e.noun} field names (${example}) and custom fields by name, code or ID. Fastest for large inputs: no expression is evaluated per item.`,
			},
		],
	};
}

/** A Filters collection of `options`. */
export function filtersCollection(options: INodeProperties[]): INodeProperties {
	return { displayName: 'Filters', name: 'filters', type: 'collection', placeholder: 'Add Filter', default: {}, options };
}

/** Return All, and Limit when not. */
export function paging(): INodeProperties[] {
	return [
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
	];
}

export function simplify(e: EntityUi): INodeProperties {
	return {
		displayName: 'Simplify',
		name: 'simplify',
		type: 'boolean',
		default: false,
		description: `Whether to return ${e.nouns === 'leads' ? 'a flat record' : 'flat records'}: custom fields as {field name: value}, tags as names, linked records as IDs`,
	};
}

export function dateRange(e: EntityUi, param: string, label: string, what: string): INodeProperties[] {
	return [
		{
			displayName: `${label} After`,
			name: `${param}From`,
			type: 'dateTime',
			default: '',
			description: `Only ${e.nouns} ${what} at or after this time`,
		},
		{
			displayName: `${label} Before`,
			name: `${param}To`,
			type: 'dateTime',
			default: '',
			description: `Only ${e.nouns} ${what} at or before this time`,
		},
	];
}

export function usersFilter(e: EntityUi, param: string, label: string, what: string): INodeProperties {
	return {
		displayName: `${label} Names or IDs`,
		name: param,
		type: 'multiOptions',
		typeOptions: { loadOptionsMethod: 'getUsers' },
		default: [],
		description: `Only ${e.nouns} ${what} these users. ${EXPRESSION_HINT}`,
	};
}

/** The filters every entity with custom fields and users has. */
export function commonFilters(e: EntityUi): INodeProperties[] {
	return [
		...dateRange(e, 'createdAt', 'Created', 'created'),
		usersFilter(e, 'createdBy', 'Created By', 'created by'),
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
							description: EXPRESSION_HINT,
						},
						{
							displayName: 'From',
							name: 'from',
							type: 'string',
							default: '',
							description: 'For numbers and dates: the smallest value (a date as 2024-05-01 or a timestamp)',
						},
						{ displayName: 'To', name: 'to', type: 'string', default: '', description: 'For numbers and dates: the largest value' },
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
			displayName: `${e.label} IDs`,
			name: 'ids',
			type: 'string',
			default: '',
			placeholder: '12345, 12346',
			description: `Only these ${e.nouns} (IDs separated by commas)`,
		},
		{
			displayName: 'Names',
			name: 'names',
			type: 'string',
			default: '',
			description: `Only ${e.nouns} with exactly these names (separated by commas)`,
		},
		usersFilter(e, 'responsibleUserIds', 'Responsible User', 'assigned to'),
		...dateRange(e, 'updatedAt', 'Updated', 'last updated'),
		usersFilter(e, 'updatedBy', 'Updated By', 'last changed by'),
		...dateRange(e, 'closestTaskAt', 'Closest Task', 'with their closest task due'),
	];
}

export const sortDirection: INodeProperties = {
	displayName: 'Sort Direction',
	name: 'sortDirection',
	type: 'options',
	default: 'asc',
	options: [
		{ name: 'Ascending', value: 'asc' },
		{ name: 'Descending', value: 'desc' },
	],
};
