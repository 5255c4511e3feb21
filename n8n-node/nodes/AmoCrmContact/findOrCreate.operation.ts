import type { INodeProperties } from 'n8n-workflow';
import { findOrCreate } from '../../shared/entity/operations/findOrCreate';
import { defaultCountry } from '../../shared/entity/reach';
import { CONTACT } from './contact';

/** Find or Create by phone and e-mail (src/contact/find.rs). */
const find: INodeProperties[] = [
	{
		displayName: 'Phone',
		name: 'phone',
		type: 'string',
		default: '',
		placeholder: '+7 900 123-45-67',
		description: 'Phone number(s) to find the contact by, separated by commas; any format',
	},
	{
		displayName: 'E-Mail',
		name: 'email',
		type: 'string',
		default: '',
		placeholder: 'name@example.com',
		description: 'E-mail address(es) to find the contact by, separated by commas; case does not matter',
	},
];

const typeOption = (name: string, label: string, values: string): INodeProperties => ({
	displayName: label,
	name,
	type: 'string',
	default: 'WORK',
	description: `The type the value gets on a new contact in amoCRM: ${values}`,
});

export const contactFindOrCreate = findOrCreate(CONTACT, find, 'phone or e-mail', [
	...(CONTACT.writeOptions ?? []).filter((o) => o !== defaultCountry),
	typeOption('phoneType', 'Phone Type', 'WORK, WORKDD, MOB, FAX, HOME, OTHER'),
	typeOption('emailType', 'E-Mail Type', 'WORK, PRIV, OTHER'),
]);
