// n8n's side of the bench children (bench/upload-memory.mjs,
// bench/return-all-memory.mjs): httpRequestWithAuthentication as n8n's
// helper sends a request, through axios, after the credential's real
// authenticate(); the body comes back as the bytes received.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axios = require('axios');

/** The helper for `credentials` of the credential type `credentialType` (an instance). */
export function authenticatedRequest(credentialType, credentials) {
  return async function httpRequestWithAuthentication(_type, options) {
    const sent = await credentialType.authenticate({ ...credentials }, { ...options });
    const response = await axios.request({
      method: sent.method,
      url: sent.url,
      headers: sent.headers,
      data: sent.body,
      responseType: 'arraybuffer',
      maxRedirects: 0,
      timeout: sent.timeout,
      validateStatus: () => true,
    });
    return { statusCode: response.status, headers: response.headers, body: Buffer.from(response.data) };
  };
}
