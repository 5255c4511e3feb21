import type { INodeProperties } from 'n8n-workflow';
import { findOrCreate } from '../../shared/entity/operations/findOrCreate';
import { COMPANY } from './company';

/** Find or Create by exact name, and optionally by a custom field value (src/company/find.rs). */
const find: INodeProperties[] = [
	{
		displayName: 'Name',
		name: 'name',
		type: 'string',
		default: '',
		placeholder: 'Acme LLC',
		description: 'The company name to match exactly; case and extra spaces do not matter',
	},
	{
		displayName: 'Match Field Name or ID',
		name: 'matchField',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getCustomFields' },
		default: '',
		description:
			'A custom field that also identifies the company, such as a tax number. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
	{
		displayName: 'Match Value',
		name: 'matchValue',
		type: 'string',
		default: '',
		placeholder: '7701234567',
		displayOptions: { hide: { matchField: [''] } },
		description: 'The value of the match field; a company with it matches even under another name',
	},
];

export const companyFindOrCreate = findOrCreate(COMPANY, find, 'name or field value');
