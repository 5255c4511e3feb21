#!/usr/bin/env node
// Starts the emulator and prints one JSON line once listening:
//   {"url","port","longLivedToken","clientId","clientSecret","redirectUri",…}
// Stops cleanly on SIGINT/SIGTERM. See README.md for the flags.
import { parseArgs } from 'node:util';
import { startEmulator } from './server.mjs';

const USAGE = `usage: node tests/emulator/cli.mjs [options]
  --port N                          listen port on 127.0.0.1 (default 0 = free port)
  --seed-demo                       demo data: ~300 leads with contacts, companies, notes
  --leads N                         generate N leads (on top of the demo or base seed)
  --contacts-per-lead N             contacts generated per lead (with --leads)
  --seed-random N                   PRNG seed for generated data (default 1; demo 42)
  --rate-limit N                    requests per second per token (default 7; 0 = off)
  --token-ttl S                     access token lifetime in seconds (default 86400)
  --long-lived-ttl S                lifetime of the printed long-lived token (default 1 year)
  --refresh-requires-redirect-uri B true|false (default true)
  --no-refresh-redirect-uri         same as --refresh-requires-redirect-uri false
  --client-id ID --client-secret S --redirect-uri URL   the registered integration
  --webhook-disable-after N         consecutive failed deliveries before a hook is disabled
  --max-write-batch N               largest write array any batch endpoint accepts (default 250)
  --verbose                         log every request to stderr
  --help`;

function fail(msg) {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string' }, 'seed-demo': { type: 'boolean' }, leads: { type: 'string' },
      'contacts-per-lead': { type: 'string' }, 'seed-random': { type: 'string' }, 'rate-limit': { type: 'string' },
      'token-ttl': { type: 'string' }, 'long-lived-ttl': { type: 'string' },
      'refresh-requires-redirect-uri': { type: 'string' }, 'no-refresh-redirect-uri': { type: 'boolean' },
      'client-id': { type: 'string' }, 'client-secret': { type: 'string' }, 'redirect-uri': { type: 'string' },
      'webhook-disable-after': { type: 'string' }, 'max-write-batch': { type: 'string' }, verbose: { type: 'boolean' }, help: { type: 'boolean' },
    },
  }));
} catch (e) {
  fail(e.message);
}
if (args.help) { process.stdout.write(`${USAGE}\n`); process.exit(0); }

const int = (name) => {
  const v = args[name];
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) fail(`--${name} must be a non-negative integer`);
  return Number(v);
};

const leads = int('leads');
let seed = args['seed-demo'] ? { demo: true } : 'base';
if (leads !== undefined) {
  seed = { ...(args['seed-demo'] ? { demo: true } : {}), leads, contactsPerLead: int('contacts-per-lead') ?? (args['seed-demo'] ? 1 : 0) };
}
if (int('seed-random') !== undefined) seed = { ...(typeof seed === 'object' ? seed : { leads: 0 }), random: int('seed-random') };

let refreshRequiresRedirectUri = true;
if (args['no-refresh-redirect-uri']) refreshRequiresRedirectUri = false;
if (args['refresh-requires-redirect-uri'] !== undefined) {
  const v = args['refresh-requires-redirect-uri'];
  if (v !== 'true' && v !== 'false') fail('--refresh-requires-redirect-uri must be true or false');
  refreshRequiresRedirectUri = v === 'true';
}

function maxWriteBatch() {
  const v = int('max-write-batch');
  if (v === 0) fail('--max-write-batch must be at least 1');
  return v;
}

const emu = await startEmulator({
  port: int('port') ?? 0,
  seed,
  rateLimit: int('rate-limit') ?? 7,
  accessTokenTtlSeconds: int('token-ttl'),
  refreshRequiresRedirectUri,
  clientId: args['client-id'],
  clientSecret: args['client-secret'],
  redirectUri: args['redirect-uri'],
  webhookDisableAfterFailures: int('webhook-disable-after'),
  maxWriteBatch: maxWriteBatch(),
  quiet: !args.verbose,
});
// Handlers go in before the JSON line: a harness may signal as soon as it reads it.
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await emu.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const longLived = emu.admin.longLivedToken({ expiresInSeconds: int('long-lived-ttl') ?? 365 * 86400 });
process.stdout.write(`${JSON.stringify({
  url: emu.url, port: emu.port, longLivedToken: longLived.token,
  clientId: emu.state.integration.clientId, clientSecret: emu.state.integration.clientSecret,
  redirectUri: emu.state.integration.redirectUri, accountId: emu.state.data.account.id, subdomain: emu.state.data.account.subdomain,
  leads: emu.state.data.leads.size,
})}\n`);

