// What the shell needs to know about the package's credential types: their
// names and which of their fields the core reads. Validation is the core's.

import type { ICredentialDataDecryptedObject } from 'n8n-workflow';
import type { AddressFields, AuthMode } from './core';

export const API_CREDENTIAL = 'amoCrmKommoApi';
export const OAUTH2_CREDENTIAL = 'amoCrmKommoOAuth2Api';

export type CredentialType = typeof API_CREDENTIAL | typeof OAUTH2_CREDENTIAL;

function text(value: unknown): string {
	return typeof value === 'string' ? value : '';
}

export function addressFields(credentials: ICredentialDataDecryptedObject): AddressFields {
	return {
		environment: text(credentials.environment) || 'cloud',
		address: text(credentials.address),
		zone: text(credentials.zone),
		baseUrl: text(credentials.baseUrl),
	};
}

export function authMode(type: string, credentials: ICredentialDataDecryptedObject): AuthMode {
	if (type === OAUTH2_CREDENTIAL) return 'oauth2';
	return credentials.tokenType === 'oauth' ? 'oauth' : 'longLivedToken';
}

export function requestsPerSecond(credentials: ICredentialDataDecryptedObject): number | undefined {
	return typeof credentials.requestsPerSecond === 'number' ? credentials.requestsPerSecond : undefined;
}
