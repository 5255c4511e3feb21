import type { ICredentialType, INodeProperties } from 'n8n-workflow';
import { rateProperties } from './accountProperties';

// The account host is built by n8n expressions (the Rust core cannot run
// there), so they only ever produce {letters, digits, hyphens}.{closed zone
// list} or 127.0.0.1:{digits}: no edit of the fields can point the token URL,
// which receives the client secret, at another host. The nodes validate the
// same fields again in the core before any API request.
const SUBDOMAIN = "String($self.subdomain ?? '').toLowerCase().replace(/[^a-z0-9-]/g, '')";
const ZONE =
	"($self.zone === 'kommo.com' ? 'kommo.com' : $self.zone === 'amocrm.com' ? 'amocrm.com' : 'amocrm.ru')";
const LOCAL = "'http://127.0.0.1:' + String($self.localPort ?? '').replace(/[^0-9]/g, '')";
const isLocal = "$self.environment === 'local'";

/**
 * amoCRM / Kommo through n8n's own OAuth2 flow, with its Connect button.
 * Choose it to connect by clicking; choose "AmoCRM API" in OAuth mode where
 * tokens must be renewed exactly as amoCRM documents (n8n's own refresh sends
 * no redirect_uri) or where many workflows run at once on n8n before 2.30
 * (which has no lock around its refresh).
 */
export class AmoCrmKommoOAuth2Api implements ICredentialType {
	name = 'amoCrmKommoOAuth2Api';

	extends = ['oAuth2Api'];

	displayName = 'AmoCRM OAuth2 API';

	icon = { light: 'file:../icons/amocrm.svg', dark: 'file:../icons/amocrm.dark.svg' } as const;

	documentationUrl = 'https://github.com/amocrm-kommo/n8n-nodes-amocrm-kommo#connect-with-the-oauth2-connect-button';

	restrictToSupportedNodes = true;

	properties: INodeProperties[] = [
		{
			displayName: 'Environment',
			name: 'environment',
			type: 'options',
			options: [
				{ name: 'amoCRM or Kommo Account', value: 'cloud' },
				{ name: 'Local Emulator (127.0.0.1)', value: 'local' },
			],
			default: 'cloud',
		},
		{
			displayName: 'Subdomain',
			name: 'subdomain',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'example',
			description: 'The first part of your account address: example for example.amocrm.ru',
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
			displayOptions: { show: { environment: ['cloud'] } },
		},
		{
			displayName: 'Local Port',
			name: 'localPort',
			type: 'number',
			default: 8080,
			description: 'Port of the emulator on 127.0.0.1',
			displayOptions: { show: { environment: ['local'] } },
		},
		{ displayName: 'Grant Type', name: 'grantType', type: 'hidden', default: 'authorizationCode' },
		{
			displayName: 'Authorization URL',
			name: 'authUrl',
			type: 'hidden',
			default: `={{ ${isLocal} ? ${LOCAL} + '/oauth' : ($self.zone === 'amocrm.ru' ? 'https://www.amocrm.ru/oauth' : 'https://www.kommo.com/oauth') }}`,
		},
		{
			displayName: 'Access Token URL',
			name: 'accessTokenUrl',
			type: 'hidden',
			default: `={{ (${isLocal} ? ${LOCAL} : 'https://' + ${SUBDOMAIN} + '.' + ${ZONE}) + '/oauth2/access_token' }}`,
		},
		{
			// amoCRM: post_message keeps the redirect in the window n8n opened,
			// where n8n's callback page completes the connection.
			displayName: 'Auth URI Query Parameters',
			name: 'authQueryParameters',
			type: 'hidden',
			default: 'mode=post_message',
		},
		{ displayName: 'Scope', name: 'scope', type: 'hidden', default: '' },
		{ displayName: 'Authentication', name: 'authentication', type: 'hidden', default: 'body' },
		...rateProperties,
		{
			displayName: 'Allowed HTTP Request Domains',
			name: 'allowedHttpRequestDomains',
			type: 'hidden',
			default: 'none',
		},
	];
}
