import { updateDisplayOptions, type INodeProperties } from 'n8n-workflow';

/** Parameters the core reads for this operation (src/custom.rs). */
export const params = ['method', 'path', 'query', 'body'];

const properties: INodeProperties[] = [
	{
		displayName: 'Method',
		name: 'method',
		type: 'options',
		default: 'GET',
		options: [
			{ name: 'DELETE', value: 'DELETE' },
			{ name: 'GET', value: 'GET' },
			{ name: 'PATCH', value: 'PATCH' },
			{ name: 'POST', value: 'POST' },
			{ name: 'PUT', value: 'PUT' },
		],
	},
	{
		displayName: 'Path',
		name: 'path',
		type: 'string',
		default: '/api/v4/',
		required: true,
		placeholder: '/api/v4/leads/pipelines',
		description: "An amoCRM API v4 path on the credential's account",
	},
	{
		displayName: 'Query Parameters',
		name: 'query',
		type: 'json',
		default: '',
		placeholder: '{"order": {"created_at": "desc"}, "limit": 50}',
		description: "A JSON object; nested objects and lists are sent in amoCRM's bracket syntax",
	},
	{
		displayName: 'Body',
		name: 'body',
		type: 'json',
		default: '',
		displayOptions: { hide: { method: ['GET'] } },
		description: 'The JSON body',
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['lead'], operation: ['customRequest'] } },
	properties,
);
