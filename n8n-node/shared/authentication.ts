// The node parameter choosing a credential type, and the matching credential
// slots of a node description. Shared by every node of the package.

import type { INodeCredentialDescription, INodeProperties } from 'n8n-workflow';
import { API_TYPE } from './credentials';

export const authenticationProperty: INodeProperties = {
	displayName: 'Authentication',
	name: 'authentication',
	type: 'options',
	options: [
		{
			name: 'AmoCRM API (Long-Lived Token)',
			value: API_TYPE,
		},
	],
	default: API_TYPE,
};

export const credentialSlots: INodeCredentialDescription[] = [
	{
		name: API_TYPE,
		required: true,
		displayOptions: { show: { authentication: [API_TYPE] } },
	},
];
