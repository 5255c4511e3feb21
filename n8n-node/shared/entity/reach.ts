// Phones and e-mails of contacts and companies, each with its type, as the
// core reads them (src/entity/reach.rs, src/entity/multitext.rs).

import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

const PHONE_TYPES: INodePropertyOptions[] = [
	{ name: 'Fax', value: 'FAX' },
	{ name: 'Home', value: 'HOME' },
	{ name: 'Mobile', value: 'MOB' },
	{ name: 'Other', value: 'OTHER' },
	{ name: 'Work', value: 'WORK' },
	{ name: 'Work Direct', value: 'WORKDD' },
];

const EMAIL_TYPES: INodePropertyOptions[] = [
	{ name: 'Other', value: 'OTHER' },
	{ name: 'Personal', value: 'PRIV' },
	{ name: 'Work', value: 'WORK' },
];

function values(name: string, label: string, one: string, placeholder: string, types: INodePropertyOptions[]): INodeProperties {
	return {
		displayName: label,
		name,
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		default: {},
		placeholder: `Add ${one}`,
		options: [
			{
				displayName: one,
				name: 'values',
				values: [
					{ displayName: 'Value', name: 'value', type: 'string', default: '', placeholder },
					{ displayName: 'Type', name: 'type', type: 'options', default: 'WORK', options: types },
				],
			},
		],
	};
}

export const phones = values('phones', 'Phones', 'Phone', '+7 900 123-45-67', PHONE_TYPES);
export const emails = values('emails', 'E-mails', 'E-mail', 'name@example.com', EMAIL_TYPES);

/** How Update treats the phones and e-mails it is given: amoCRM replaces a field's values on every write. */
export const valuesMode: INodeProperties = {
	displayName: 'Phones and E-mails',
	name: 'valuesMode',
	type: 'options',
	default: 'add',
	options: [
		{
			name: 'Add to Existing',
			value: 'add',
			description: 'Keep the values the record has and add these; a value already there (in any format) is not added twice',
		},
		{ name: 'Replace All', value: 'replace', description: 'These become the only values of the field' },
		{ name: 'Remove These', value: 'remove', description: 'Take these values out (compared after normalisation)' },
	],
	description: 'What Update does with the phones and e-mails given, here or as PHONE and EMAIL fields of the item',
};

export const defaultCountry: INodeProperties = {
	displayName: 'Default Country',
	name: 'defaultCountry',
	type: 'options',
	default: 'RU',
	description:
		'How a phone number written without a country code is read when numbers are compared (8 900… in Russia is +7 900…)',
	options: [
		{ name: 'Armenia (+374)', value: 'AM' },
		{ name: 'Azerbaijan (+994)', value: 'AZ' },
		{ name: 'Belarus (+375)', value: 'BY' },
		{ name: 'Brazil (+55)', value: 'BR' },
		{ name: 'Georgia (+995)', value: 'GE' },
		{ name: 'Germany (+49)', value: 'DE' },
		{ name: 'India (+91)', value: 'IN' },
		{ name: 'Kazakhstan (+7)', value: 'KZ' },
		{ name: 'Kyrgyzstan (+996)', value: 'KG' },
		{ name: 'Mexico (+52)', value: 'MX' },
		{ name: 'Russia (+7)', value: 'RU' },
		{ name: 'Spain (+34)', value: 'ES' },
		{ name: 'Turkey (+90)', value: 'TR' },
		{ name: 'Ukraine (+380)', value: 'UA' },
		{ name: 'United Kingdom (+44)', value: 'GB' },
		{ name: 'United States or Canada (+1)', value: 'US' },
		{ name: 'Uzbekistan (+998)', value: 'UZ' },
	],
};
