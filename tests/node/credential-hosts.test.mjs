// The last gate before a token leaves n8n: the AmoCRM API credential's
// authenticate() attaches it only to the account's own origin and to
// amoCRM's and Kommo's file drive hosts (which the Account node's files need,
// src/account.rs drive_origin); everything else is refused with an error
// that does not carry the token. The node further holds every drive address
// to the one its account names (drive_url), see tests/e2e/account.test.mjs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dist } from './fake-n8n.mjs';

const { AmoCrmKommoApi } = dist('credentials/AmoCrmKommoApi.credentials.js');
const credential = new AmoCrmKommoApi();
const TOKEN = 'LLT-secret-token';
const hosted = { environment: 'cloud', address: 'shop', zone: 'amocrm.ru', connectionType: 'longLivedToken', longLivedToken: TOKEN };
const local = { environment: 'local', baseUrl: 'http://127.0.0.1:8080', connectionType: 'longLivedToken', longLivedToken: TOKEN };

const sign = (credentials, url) => credential.authenticate({ ...credentials }, { method: 'GET', url, headers: {} });

test('the account itself and amoCRM\'s and Kommo\'s drive hosts get the token', async () => {
  for (const url of [
    'https://shop.amocrm.ru/api/v4/leads?page=2',
    'https://drive-b.amocrm.ru/v1.0/sessions',
    'https://drive-b.amocrm.ru/upload/3f1c/2',
    'https://drive.amocrm.com/v1.0/files/9cb6ac4a',
    'https://drive-c.kommo.com/download/9cb6ac4a/v1/report.pdf',
  ]) {
    const signed = await sign(hosted, url);
    assert.equal(signed.headers.Authorization, `Bearer ${TOKEN}`, url);
    assert.equal(signed.url, url);
  }
  // The credential test sends a path: it goes to the account.
  assert.equal((await sign(hosted, '/api/v4/account')).baseURL, 'https://shop.amocrm.ru');
});

test('every other address is refused, and the error does not carry the token', async () => {
  for (const url of [
    'https://other.amocrm.ru/api/v4/leads', // another account
    'https://evil.com/v1.0/sessions',
    'https://drive-b.amocrm.ru.evil.com/v1.0/sessions', // look-alike
    'https://drive-b.evil.com/',
    'https://evil-drive.amocrm.ru/',
    'https://x.drive-b.amocrm.ru/',
    'https://user@drive-b.amocrm.ru/v1.0/sessions', // user info
    'https://drive-b.amocrm.ru@evil.com/',
    'http://drive-b.amocrm.ru/v1.0/sessions', // downgrade
    'http://shop.amocrm.ru/api/v4/leads',
    'https://drive-b.amocrm.ru:8443/v1.0/sessions', // a port
    'https://93.184.216.34/v1.0/sessions', // IP literals
    'https://[::1]/v1.0/sessions',
    'https://127.0.0.1/api/v4/leads',
    'https://drive-xn--80ak6aa92e.amocrm.ru/', // punycode
    'https://www.amocrm.ru/oauth2/access_token',
    'file:///etc/passwd',
  ]) {
    await assert.rejects(sign(hosted, url), (e) => {
      assert.match(e.message, /Refused to send the amoCRM credential/, url);
      assert.doesNotMatch(e.message, new RegExp(TOKEN), url);
      return true;
    });
  }
});

test('a local (emulator) account sends its token to loopback addresses only, its drive included', async () => {
  for (const url of ['http://127.0.0.1:8080/api/v4/leads', 'http://127.0.0.1:9090/v1.0/sessions', 'http://[::1]:9090/download/1']) {
    assert.equal((await sign(local, url)).headers.Authorization, `Bearer ${TOKEN}`, url);
  }
  for (const url of ['http://localhost:9090/v1.0/sessions', 'http://10.0.0.1:9090/', 'https://drive-b.amocrm.ru/v1.0/sessions', 'http://user@127.0.0.1:9090/', 'http://127.0.0.1.evil.com:9090/']) {
    await assert.rejects(sign(local, url), /Refused to send the amoCRM credential/, url);
  }
});
