import type { INodeProperties } from 'n8n-workflow';

/** Where the account lives; shared by both credential types. */
export const accountProperties: INodeProperties[] = [
	{
		displayName: 'Environment',
		name: 'environment',
		type: 'options',
		options: [
			{ name: 'amoCRM or Kommo Account', value: 'cloud' },
			{
				name: 'Local Emulator or Test Server',
				value: 'local',
				description: 'A server on this machine (loopback addresses only), such as the emulator of npm run demo',
			},
		],
		default: 'cloud',
	},
	{
		displayName: 'Account Address',
		name: 'address',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'example.amocrm.ru',
		description:
			'The address of your account as the browser shows it, such as example.amocrm.ru or https://example.kommo.com/, or just the subdomain',
		displayOptions: { show: { environment: ['cloud'] } },
	},
	{
		displayName: 'Zone',
		name: 'zone',
		type: 'options',
		options: [
			{ name: 'amocrm.ru', value: 'amocrm.ru' },
			{ name: 'amocrm.com', value: 'amocrm.com' },
			{ name: 'kommo.com', value: 'kommo.com' },
		],
		default: 'amocrm.ru',
		description: 'Used when the account address is only a subdomain',
		displayOptions: { show: { environment: ['cloud'] } },
	},
	{
		displayName: 'Base URL',
		name: 'baseUrl',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'http://127.0.0.1:8080',
		description: 'Address of the local server. Only loopback IP addresses (127.0.0.0/8, [::1]) are accepted.',
		displayOptions: { show: { environment: ['local'] } },
	},
];
