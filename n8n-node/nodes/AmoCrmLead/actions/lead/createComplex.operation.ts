import { updateDisplayOptions, type INodeProperties } from 'n8n-workflow';
import { batchOptions, customFields } from '../fields.descriptions';
import { newLeadFields } from './create.operation';

/** Parameters the core reads for this operation (src/lead/complex.rs). */
export const params = ['name', 'additionalFields', 'contact', 'company', 'customFields', 'options'];

const properties: INodeProperties[] = [
	{
		displayName: 'Name',
		name: 'name',
		type: 'string',
		default: '',
		placeholder: 'Call-back request',
		description: 'Name of the lead',
	},
	{
		displayName: 'Contact',
		name: 'contact',
		type: 'collection',
		placeholder: 'Add Contact Field',
		default: {},
		description: 'The new contact created with the lead',
		options: [
			{ displayName: 'Email', name: 'email', type: 'string', default: '', placeholder: 'name@email.com', description: 'One or more emails separated by commas' },
			{ displayName: 'First Name', name: 'firstName', type: 'string', default: '' },
			{ displayName: 'Last Name', name: 'lastName', type: 'string', default: '' },
			{ displayName: 'Name', name: 'name', type: 'string', default: '', description: 'Full name, if not given as first and last name' },
			{ displayName: 'Phone', name: 'phone', type: 'string', default: '', placeholder: '+7 900 000-00-00', description: 'One or more phone numbers separated by commas' },
		],
	},
	{
		displayName: 'Company',
		name: 'company',
		type: 'collection',
		placeholder: 'Add Company Field',
		default: {},
		description: 'The new company created with the lead',
		options: [{ displayName: 'Name', name: 'name', type: 'string', default: '' }],
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: newLeadFields.filter((f) => f.name !== 'contactIds' && f.name !== 'companyId'),
	},
	customFields,
	batchOptions,
];

export const description = updateDisplayOptions(
	{ show: { resource: ['lead'], operation: ['createComplex'] } },
	properties,
);
