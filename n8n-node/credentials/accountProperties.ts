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
			'The address of your account as the browser shows it, such as example.amocrm.ru or https://example.kommo.com/ (the zone comes from it), or just the subdomain (then choose the zone)',
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
		description: 'The zone of an account address given as a bare subdomain. A full address such as example.kommo.com decides the zone itself, and this field is hidden.',
		// Shown only while the address is a bare subdomain (or still empty).
		displayOptions: { show: { environment: ['cloud'], address: [{ _cnd: { regex: '^\\s*[A-Za-z0-9-]*\\s*$' } }] } },
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

/**
 * How fast the package may spend the account's request budget; shared by
 * both credential types. The core keeps one budget per account per n8n
 * process, and lowers this process's share by itself when other processes
 * (queue-mode workers) spend on the same account.
 */
export const rateProperties: INodeProperties[] = [
	{
		displayName: 'Requests per Second',
		name: 'requestsPerSecond',
		type: 'number',
		default: 7,
		typeOptions: { minValue: 1, maxValue: 50 },
		description:
			'Most requests sent to this account per second, across all workflows. amoCRM allows 7; lower it if other integrations use the same account.',
	},
	{
		displayName: 'n8n Processes Sharing the Account',
		name: 'sharingProcesses',
		type: 'number',
		default: 1,
		typeOptions: { minValue: 1, maxValue: 32 },
		description:
			'In queue mode, how many n8n processes (workers, and the main process if it runs executions) use this account at once: each then keeps to its part of Requests per Second. Leave 1 to let each process find its share by itself (it slows down when amoCRM answers 429).',
	},
];
