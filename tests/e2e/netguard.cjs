// Preloaded into n8n's processes (NODE_OPTIONS=--require) by end-to-end
// tests that prove where requests go: every DNS lookup and TCP connect is
// appended as a JSON line to $AMOCRM_E2E_NETLOG, and any that would leave
// this machine is refused on the spot (nothing reaches the internet, even
// when the code under test is wrong).
'use strict';

const fs = require('node:fs');
const dns = require('node:dns');
const net = require('node:net');

const file = process.env.AMOCRM_E2E_NETLOG;
const isLoopback = (host) => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1' || host === 'localhost';

function note(entry) {
  if (file) fs.appendFileSync(file, `${JSON.stringify({ pid: process.pid, ...entry })}\n`);
}

function blocked(what) {
  return Object.assign(new Error(`${what} blocked by the e2e network guard (tests/e2e/netguard.cjs)`), { code: 'ENOTFOUND' });
}

const lookup = dns.lookup;
dns.lookup = function guardedLookup(hostname, ...rest) {
  note({ lookup: hostname });
  if (!isLoopback(hostname)) {
    const callback = rest[rest.length - 1];
    process.nextTick(callback, blocked(`DNS lookup of ${hostname}`));
    return {};
  }
  return lookup.call(this, hostname, ...rest);
};

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = first !== null && typeof first === 'object' ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
  if (options.port !== undefined && options.port !== null) {
    const host = String(options.host ?? 'localhost').replace(/^\[|\]$/g, '');
    note({ connect: `${host}:${options.port}` });
    if (!isLoopback(host)) {
      process.nextTick(() => this.destroy(blocked(`connection to ${host}:${options.port}`)));
      return this;
    }
  }
  return connect.apply(this, args);
};
