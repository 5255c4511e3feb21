import type { INodeProperties } from 'n8n-workflow';
import type { EntityOperation } from '../../shared/entity/operation';
import { customFields, writeOptions } from '../../shared/entity/fields';
import { LEAD, newLeadFields } from './lead';

/** A new contact made with the record (src/lead/complex.rs `new_contact`); incoming leads bring one too. */
export const newContact: INodeProperties = {
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
};

/** A new company made with the record (src/lead/complex.rs `new_company`). */
export const newCompany: INodeProperties = {
	displayName: 'Company',
	name: 'company',
	type: 'collection',
	placeholder: 'Add Company Field',
	default: {},
	description: 'The new company created with the lead',
	options: [{ displayName: 'Name', name: 'name', type: 'string', default: '' }],
};

/** Create with Contact and Company: amoCRM's "complex" create (src/lead/complex.rs). */
export const createComplex: EntityOperation = {
	option: {
		name: 'Create with Contact and Company',
		value: 'createComplex',
		action: 'Create a lead with a new contact and company',
		description:
			'Create a lead together with a new contact (name, phones, e-mails) and company in one request; returns the IDs of all three',
	},
	params: ['name', 'additionalFields', 'contact', 'company', 'customFields', 'options'],
	properties: [
		{
			displayName: 'Name',
			name: 'name',
			type: 'string',
			default: '',
			placeholder: 'Call-back request',
			description: 'Name of the lead',
		},
		newContact,
		newCompany,
		{
			displayName: 'Additional Fields',
			name: 'additionalFields',
			type: 'collection',
			placeholder: 'Add Field',
			default: {},
			options: newLeadFields.filter((f) => f.name !== 'contactIds' && f.name !== 'companyId'),
		},
		...customFields(LEAD),
		writeOptions(LEAD, { max: 50 }),
	],
};
