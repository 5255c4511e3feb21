import type {
	IAuthenticate,
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IDataObject,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';
import { accountOrigin, checkOwnUrl } from '../shared/core';
import { NOT_CONNECTED_PREFIX, axiosUrl, isAbsoluteUrl } from '../shared/http';
import { addressFields } from '../shared/credentials';
import { renewIfDue, renewTokens } from '../shared/oauth';
import { accountProperties, rateProperties } from './accountProperties';

const oauthOnly = { show: { connectionType: ['oauth'] } };

/**
 * amoCRM / Kommo access for the package's nodes, by a long-lived token or by
 * OAuth 2.0 with tokens managed by the Rust core: the authorization code is
 * exchanged on first use, the access token renewed after a 401 (and the
 * refresh token at any use once it is 30 days old), the rotated refresh token
 * persisted, and concurrent renewals in one n8n process share one request. The account address is validated by the core, and every
 * request is checked to target that account before a token is attached, so
 * whoever edits the credential cannot send the token elsewhere.
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
		// n8n renews the first hidden, expirable property through
		// preAuthentication: when it is empty and after a 401.
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'hidden',
			typeOptions: { expirable: true, password: true },
			default: '',
		},
		{
			displayName: 'Refresh Token',
			name: 'refreshToken',
			type: 'hidden',
			typeOptions: { password: true },
			default: '',
		},
		{ displayName: 'Access Token Expires At', name: 'accessExpiresAt', type: 'hidden', default: '' },
		{ displayName: 'Refresh Token Issued At', name: 'refreshIssuedAt', type: 'hidden', default: '' },
		{ displayName: 'Grant Fingerprint', name: 'grantFingerprint', type: 'hidden', default: '' },
		...accountProperties,
		{
			displayName: 'Connection Type',
			name: 'connectionType',
			type: 'options',
			options: [
				{
					name: 'Long-Lived Token',
					value: 'longLivedToken',
					description: 'A token of a private integration, valid 1 day to 5 years; nothing to renew',
				},
				{
					name: 'OAuth 2.0 (Tokens Renewed Automatically)',
					value: 'oauth',
					description:
						'An integration with client ID, secret and a one-time authorization code; tokens are renewed and saved automatically',
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
				'In amoCRM: Settings → Integrations → Create integration → Private integration, then Keys and scopes → Generate long-lived token',
			displayOptions: { show: { connectionType: ['longLivedToken'] } },
		},
		{
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			default: '',
			required: true,
			description: "The integration's ID, from Settings → Integrations → your integration → Keys and scopes",
			displayOptions: oauthOnly,
		},
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: "The integration's secret key, from the same tab",
			displayOptions: oauthOnly,
		},
		{
			displayName: 'Redirect URI',
			name: 'redirectUri',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://example.com/amocrm/oauth',
			description: "Exactly the redirect URI saved in the integration's settings (amoCRM checks it on every token request)",
			displayOptions: oauthOnly,
		},
		{
			displayName: 'Authorization Code',
			name: 'authorizationCode',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'A one-time code from Keys and scopes (valid 20 minutes). It is exchanged for tokens on first use; paste a new one only to reconnect.',
			displayOptions: oauthOnly,
		},
		...rateProperties,
		{
			// Keeps the credential out of n8n's HTTP Request node, which would
			// otherwise send the token to any URL typed into it.
			displayName: 'Allowed HTTP Request Domains',
			name: 'allowedHttpRequestDomains',
			type: 'hidden',
			default: 'none',
		},
	];

	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject): Promise<IDataObject> {
		return await renewTokens(this, credentials);
	}

	authenticate: IAuthenticate = async (
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> => {
		const fields = addressFields(credentials);
		const origin = accountOrigin(fields);
		if (!origin.ok) throw new Error(origin.error.message);
		// The credential test sends a path only; node requests are absolute.
		const options = isAbsoluteUrl(requestOptions.url) ? requestOptions : { ...requestOptions, baseURL: origin.value };
		// Checked where axios will send it, whatever baseURL says.
		const own = checkOwnUrl(fields, axiosUrl(options));
		if (!own.ok) throw new Error(own.error.message);
		// Keep-alive: a refresh token older than 30 days is renewed first.
		renewIfDue(credentials);
		const oauth = credentials.connectionType === 'oauth';
		const token = String((oauth ? credentials.accessToken : credentials.longLivedToken) ?? '').trim();
		if (token === '') {
			throw new Error(
				NOT_CONNECTED_PREFIX +
					(oauth
						? 'it has no access token yet; fill in Client ID, Client Secret, Redirect URI and a fresh Authorization Code, then save it'
						: 'it has no long-lived token; paste one from amoCRM into the credential'),
			);
		}
		return { ...options, headers: { ...options.headers, Authorization: `Bearer ${token}` } };
	};

	test: ICredentialTestRequest = {
		request: { method: 'GET', url: '/api/v4/account' },
	};
}
