import { updateDisplayOptions, type INodeProperties } from 'n8n-workflow';
import {
	batchOptions,
	closedAt,
	customFields,
	lossReason,
	pipeline,
	price,
	responsibleUser,
	status,
} from '../fields.descriptions';

/** Parameters the core reads for this operation (src/lead/write.rs, src/lead/body.rs). */
export const params = ['name', 'additionalFields', 'customFields', 'options'];

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
	{
		displayName: 'Created At',
		name: 'createdAt',
		type: 'dateTime',
		default: '',
		description: 'When the lead was created, if not now (for imports)',
	},
	lossReason,
	pipeline,
	price,
	responsibleUser,
	status,
	{
		displayName: 'Tags',
		name: 'tags',
		type: 'string',
		default: '',
		placeholder: 'vip, website',
		description: 'Tag names (or tag IDs) separated by commas; new names create tags',
	},
];

const properties: INodeProperties[] = [
	{
		displayName: 'Name',
		name: 'name',
		type: 'string',
		default: '',
		placeholder: 'Website order #1042',
		description: 'Name of the lead; amoCRM names it "Deal #ID" when empty',
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: newLeadFields,
	},
	customFields,
	batchOptions,
];

export const description = updateDisplayOptions({ show: { resource: ['lead'], operation: ['create'] } }, properties);
