// The node parameter choosing a credential type, and the matching credential
// slots of a node description. Shared by every node of the package.

import type { INodeCredentialDescription, INodeProperties } from 'n8n-workflow';
import { API_CREDENTIAL } from './credentials';

export const authenticationProperty: INodeProperties = {
	displayName: 'Authentication',
	name: 'authentication',
	type: 'options',
	options: [
		{
			name: 'AmoCRM API (Long-Lived Token)',
			value: API_CREDENTIAL,
		},
	],
	default: API_CREDENTIAL,
};

export const credentialSlots: INodeCredentialDescription[] = [
	{
		name: API_CREDENTIAL,
		required: true,
		displayOptions: { show: { authentication: [API_CREDENTIAL] } },
	},
];
