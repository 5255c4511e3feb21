// Per-token request limiter. Reference "Errors and limits": ≤ 7 req/s; beyond
// that amoCRM's nginx answers 429 with an HTML page and no Retry-After.
// Sliding 1-second window over *accepted* requests: a rejected request does not
// use up capacity, so a client that backs off recovers after ≤ 1 s.
// Requests are counted at the time their headers arrived, as nginx's limit_req
// does (it runs before the body is read): a 250-lead POST whose body is still
// being read, or that waits behind the emulator's own work, is not counted late.

export class RateLimiter {
  constructor() {
    this.windows = new Map(); // key → timestamps (ms, real time) of accepted requests
    this.refusals = new Map(); // key → timestamps of recent 429s
    this.bannedKeys = new Set();
    this.lastSweep = Date.now();
  }

  /** Returns true if the request may proceed (and records it), false for a 429. */
  take(key, limit, nowMs = Date.now()) {
    if (!limit) return true;
    let w = this.windows.get(key);
    if (!w) this.windows.set(key, (w = []));
    const cutoff = nowMs - 1000;
    let drop = 0;
    while (drop < w.length && w[drop] <= cutoff) drop++;
    if (drop) w.splice(0, drop);
    if (w.length >= limit) return false;
    // Requests are checked in the order their bodies finish, not the order
    // they arrived: keep the window sorted by arrival.
    let at = w.length;
    while (at > 0 && w[at - 1] > nowMs) at--;
    w.splice(at, 0, nowMs);
    if (nowMs - this.lastSweep > 10000) this.sweep(nowMs);
    return true;
  }

  /**
   * Records a 429 for `key`; returns true when that makes it `banAfter` 429s
   * within `windowMs` (0 never bans): the key is banned from then on.
   */
  refused(key, nowMs, banAfter, windowMs) {
    if (!banAfter) return false;
    let times = this.refusals.get(key);
    if (!times) this.refusals.set(key, (times = []));
    times.push(nowMs);
    while (times.length && times[0] <= nowMs - windowMs) times.shift();
    if (times.length >= banAfter) this.bannedKeys.add(key);
    return this.bannedKeys.has(key);
  }

  banned(key) {
    return this.bannedKeys.has(key);
  }

  sweep(nowMs) {
    this.lastSweep = nowMs;
    for (const [k, w] of this.windows) if (!w.length || w[w.length - 1] <= nowMs - 1000) this.windows.delete(k);
  }

  reset() {
    this.windows.clear();
    this.refusals.clear();
    this.bannedKeys.clear();
  }
}

/** Limiter key: the Bearer token itself (limits are per token); anonymous calls per client address. */
export function rateKey(req) {
  const m = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '');
  return m ? `t:${m[1]}` : `ip:${req.socket.remoteAddress}`;
}
