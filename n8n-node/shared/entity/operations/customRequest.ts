import type { EntityOperation } from '../operation';

/** Any amoCRM API v4 call through the node's credential, rate limit and error handling. */
export function customRequest(): EntityOperation {
	return {
		option: {
			name: 'Custom API Call',
			value: 'customRequest',
			action: 'Call any amoCRM API path, returning its answer',
			description: "Call any amoCRM API v4 path with this credential, rate limit and error handling; returns amoCRM's answer",
		},
		params: ['method', 'path', 'query', 'body'],
		core: { resource: 'request', operation: 'send' },
		properties: [
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
		],
	};
}
