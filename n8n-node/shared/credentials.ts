// What the shell needs to know about the package's credential types: their
// names and which of their fields the core reads. Validation is the core's.

import type { ICredentialDataDecryptedObject } from 'n8n-workflow';
import type { AddressFields, AuthMode } from './core';

/** "AmoCRM API": long-lived token, or OAuth tokens managed by the core. */
export const API_TYPE = 'amoCrmKommoApi';
/** "AmoCRM OAuth2 API": n8n's own OAuth2 flow with its Connect button. */
export const CONNECT_BUTTON_TYPE = 'amoCrmKommoOAuth2Api';

export type CredentialType = typeof API_TYPE | typeof CONNECT_BUTTON_TYPE;

function text(value: unknown): string {
	return typeof value === 'string' ? value : '';
}

export function addressFields(credentials: ICredentialDataDecryptedObject, type: string = API_TYPE): AddressFields {
	if (type === CONNECT_BUTTON_TYPE) {
		// The OAuth2 credential has a subdomain and a port instead of a free
		// address, because n8n expressions build its token URL from them.
		return {
			environment: text(credentials.environment) || 'cloud',
			address: text(credentials.subdomain),
			zone: text(credentials.zone),
			baseUrl: `http://127.0.0.1:${String(credentials.localPort ?? '')}`,
			subdomainOnly: true,
		};
	}
	return {
		environment: text(credentials.environment) || 'cloud',
		address: text(credentials.address),
		zone: text(credentials.zone),
		baseUrl: text(credentials.baseUrl),
	};
}

export function authMode(type: string, credentials: ICredentialDataDecryptedObject): AuthMode {
	if (type === CONNECT_BUTTON_TYPE) return 'oauth2';
	return credentials.connectionType === 'oauth' ? 'oauth' : 'longLivedToken';
}

/** The credential's rate settings, as the core reads them (it checks them). */
export function rateSettings(credentials: ICredentialDataDecryptedObject): { requestsPerSecond?: number; sharingProcesses?: number } {
	const number = (value: unknown) => (typeof value === 'number' ? value : undefined);
	return { requestsPerSecond: number(credentials.requestsPerSecond), sharingProcesses: number(credentials.sharingProcesses) };
}
