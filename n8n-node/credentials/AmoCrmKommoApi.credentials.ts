import type {
	IAuthenticate,
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';
import { accountOrigin, checkOwnUrl } from '../shared/core';
import { addressFields } from '../shared/credentials';
import { accountProperties } from './accountProperties';

/**
 * amoCRM / Kommo access for the package's nodes: a long-lived token from a
 * private integration. The account address is validated by the Rust core, and
 * every request is checked to target that account before the token is
 * attached, so whoever edits the credential cannot send the token elsewhere.
 */
export class AmoCrmKommoApi implements ICredentialType {
	name = 'amoCrmKommoApi';

	displayName = 'AmoCRM API';

	icon = { light: 'file:../icons/amocrm.svg', dark: 'file:../icons/amocrm.dark.svg' } as const;

	documentationUrl = 'https://github.com/amocrm-kommo/n8n-nodes-amocrm-kommo#connect-an-account';

	// n8n >= 2.x: refuse use by any node but this package's own (the HTTP
	// Request node among them). Older versions ignore the field; the hidden
	// `allowedHttpRequestDomains` below covers them.
	restrictToSupportedNodes = true;

	properties: INodeProperties[] = [
		...accountProperties,
		{
			displayName: 'Authentication',
			name: 'connectionType',
			type: 'options',
			options: [
				{
					name: 'Long-Lived Token',
					value: 'longLivedToken',
					description: 'A token from a private integration (Settings → Integrations → Keys and scopes)',
				},
			],
			default: 'longLivedToken',
		},
		{
			displayName: 'Long-Lived Token',
			name: 'longLivedToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'In amoCRM: Settings → Integrations → Create integration → Private integration, then Keys and scopes → Generate long-lived token. Valid from 1 day to 5 years.',
			displayOptions: { show: { connectionType: ['longLivedToken'] } },
		},
		{
			displayName: 'Requests per Second',
			name: 'requestsPerSecond',
			type: 'number',
			default: 7,
			typeOptions: { minValue: 1, maxValue: 50 },
			description:
				'Most requests sent to this account per second by this n8n process, across all workflows. amoCRM allows 7; lower it if other integrations use the same account.',
		},
		{
			// Keeps the credential out of n8n's HTTP Request node, which would
			// otherwise send the token to any URL typed into it.
			displayName: 'Allowed HTTP Request Domains',
			name: 'allowedHttpRequestDomains',
			type: 'hidden',
			default: 'none',
		},
	];

	authenticate: IAuthenticate = async (
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> => {
		const fields = addressFields(credentials);
		const origin = accountOrigin(fields);
		if (!origin.ok) throw new Error(origin.error.message);
		// The credential test sends a path only; node requests are absolute.
		const options = requestOptions.url.includes('://') ? requestOptions : { ...requestOptions, baseURL: origin.value };
		const target = options.baseURL ? `${options.baseURL.replace(/\/+$/, '')}/${options.url.replace(/^\/+/, '')}` : options.url;
		const own = checkOwnUrl(fields, target);
		if (!own.ok) throw new Error(own.error.message);
		const token = typeof credentials.longLivedToken === 'string' ? credentials.longLivedToken.trim() : '';
		if (token === '') throw new Error('The credential has no long-lived token; paste one from amoCRM into the credential.');
		return { ...options, headers: { ...options.headers, Authorization: `Bearer ${token}` } };
	};

	test: ICredentialTestRequest = {
		request: { method: 'GET', url: '/api/v4/account' },
	};
}
