// A stand-in for the parts of n8n's execution context the package uses, so
// the TypeScript layer's execute() can be driven in-process: it records every
// request n8n would send (after the credential's real authenticate()) and
// answers with scripted responses.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const dist = (p) => require(`../../dist/${p}`);

const { AmoCrmKommoApi } = dist('credentials/AmoCrmKommoApi.credentials.js');

export const LOCAL_ACCOUNT = { environment: 'local', baseUrl: 'http://127.0.0.1:9', address: '', zone: 'amocrm.ru' };

export function longLivedCredential(extra = {}) {
  return { ...LOCAL_ACCOUNT, connectionType: 'longLivedToken', longLivedToken: 'LLT-secret-token', requestsPerSecond: 50, ...extra };
}

/**
 * `respond(request)` returns `{status, body, headers}` or throws to simulate a
 * network failure. Requests are recorded after authenticate() ran, as n8n
 * would send them.
 */
export function fakeContext({ params, items = [{ json: {} }], credentials = longLivedCredential(), respond, continueOnFail = false }) {
  const requests = [];
  const credentialType = new AmoCrmKommoApi();
  const ctx = {
    requests,
    getInputData: () => items,
    // The node's raw parameters: per-item values (a function) stand for
    // expressions, as they are in a real workflow.
    getNode: () => ({
      name: 'AmoCRM Lead',
      type: 'n8n-nodes-amocrm-kommo.amoCrmLead',
      typeVersion: 1,
      parameters: typeof params === 'function' ? new Proxy({}, { get: () => '={{ $json }}' }) : params,
    }),
    continueOnFail: () => continueOnFail,
    getCredentials: async () => ({ ...credentials }),
    getNodeParameter(name, index, fallback) {
      const value = typeof params === 'function' ? params(name, index) : params[name];
      if (value === undefined) {
        if (arguments.length >= 3) return fallback;
        throw new Error(`Could not get parameter "${name}"`);
      }
      return value;
    },
    helpers: {
      async httpRequestWithAuthentication(type, options) {
        const sent = await credentialType.authenticate({ ...credentials }, { ...options });
        requests.push(sent);
        const response = await respond(sent, requests.length - 1);
        if (!options.ignoreHttpStatusErrors && (response.status < 200 || response.status > 299)) {
          throw Object.assign(new Error(`Request failed with status code ${response.status}`), { httpCode: String(response.status) });
        }
        // As n8n returns it: bytes when asked for an array buffer.
        const body = options.encoding === 'arraybuffer' ? Buffer.from(response.body ?? '') : response.body ?? '';
        return { statusCode: response.status, headers: response.headers ?? {}, body };
      },
    },
  };
  return ctx;
}

export const json = (status, body, headers = {}) => ({
  status,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  headers: { 'content-type': 'application/hal+json', ...headers },
});
