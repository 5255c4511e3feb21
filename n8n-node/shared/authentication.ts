// The node parameter choosing a credential type, and the matching credential
// slots of a node description. Shared by every node of the package.

import type { INodeCredentialDescription, INodeProperties } from 'n8n-workflow';
import { API_TYPE, CONNECT_BUTTON_TYPE } from './credentials';

export const authenticationProperty: INodeProperties = {
	displayName: 'Authentication',
	name: 'authentication',
	type: 'options',
	options: [
		{
			name: 'AmoCRM API (Long-Lived Token or OAuth 2.0)',
			value: API_TYPE,
		},
		{
			name: 'AmoCRM OAuth2 API (Connect Button)',
			value: CONNECT_BUTTON_TYPE,
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
	{
		name: CONNECT_BUTTON_TYPE,
		required: true,
		displayOptions: { show: { authentication: [CONNECT_BUTTON_TYPE] } },
	},
];
