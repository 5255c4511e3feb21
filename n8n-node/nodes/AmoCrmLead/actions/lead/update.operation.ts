import { updateDisplayOptions, type INodeProperties } from 'n8n-workflow';
import { leadLocator } from '../common.descriptions';
import {
	batchOptions,
	closedAt,
	customFields,
	customFieldsToClear,
	lossReason,
	pipeline,
	price,
	responsibleUser,
	status,
} from '../fields.descriptions';

/** Parameters the core reads for this operation (src/lead/write.rs, src/lead/body.rs). */
export const params = ['leadId', 'updateFields', 'customFields', 'customFieldsToClear', 'options'];

const properties: INodeProperties[] = [
	leadLocator,
	{
		displayName: 'Update Fields',
		name: 'updateFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: [
			closedAt,
			lossReason,
			{
				displayName: 'Name',
				name: 'name',
				type: 'string',
				default: '',
				description: 'New name of the lead',
			},
			pipeline,
			price,
			responsibleUser,
			status,
			{
				displayName: 'Tags to Add',
				name: 'tagsToAdd',
				type: 'string',
				default: '',
				placeholder: 'vip, callback',
				description: 'Tag names (or IDs) separated by commas, added to the tags the lead has',
			},
			{
				displayName: 'Tags to Remove',
				name: 'tagsToRemove',
				type: 'string',
				default: '',
				description: 'Tag names (or IDs) separated by commas, removed from the lead',
			},
		],
	},
	customFields,
	customFieldsToClear,
	batchOptions,
];

export const description = updateDisplayOptions({ show: { resource: ['lead'], operation: ['update'] } }, properties);
