// Who may talk to the gateway: API keys (constant-time), the Host header (DNS rebinding)
// and the Origin header (web pages). Pure; the rules are documented on each export.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isLoopback } from '../config/schema.js';

/** Host part of a Host header value or URL authority: `[::1]:8765` → `::1`, `Box.:80` → `box`. */
export function hostnameOf(authority: string): string {
  let host = authority;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    host = end === -1 ? host.slice(1) : host.slice(1, end);
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1 && colon === host.lastIndexOf(':')) host = host.slice(0, colon);
  }
  host = host.toLowerCase();
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** True for names and addresses that always mean this machine: localhost, *.localhost, 127/8, ::1. */
export function isLoopbackName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || isLoopback(hostname);
}

/** True when binding to this address only accepts connections from this machine. */
export function bindsLoopbackOnly(bindHost: string): boolean {
  return isLoopbackName(hostnameOf(bindHost));
}

/**
 * The Host header rule (DNS rebinding). Listening beyond loopback (0.0.0.0, ::, a LAN
 * address) — which the config allows only with API keys — any Host is accepted: the key
 * is the guard. Listening on loopback, only these are accepted (port ignored, case and a
 * trailing dot ignored): localhost and *.localhost, 127.0.0.0/8, ::1, the bound address,
 * and `extraNames` (the daemon passes this machine's hostname). A request without a Host
 * header (HTTP/1.0) is accepted: browsers always send one.
 */
export function createHostCheck(
  bindHost: string,
  extraNames: readonly string[] = [],
): (host?: string) => boolean {
  if (!bindsLoopbackOnly(bindHost)) return () => true;
  const allowed = new Set([hostnameOf(bindHost), ...extraNames.map(hostnameOf)]);
  return (host) => {
    if (host === undefined || host === '') return true;
    const name = hostnameOf(host);
    return isLoopbackName(name) || allowed.has(name);
  };
}

/**
 * The Origin header rule (requests made by web pages). Accepted: no Origin (curl, SDKs,
 * IDE extension hosts); any Origin when API keys are configured (the key is the guard);
 * http(s) origins on a loopback name (a local web UI); non-web schemes such as
 * vscode-webview:, vscode-file:, chrome-extension:, app: (installed software). Refused:
 * `null` (sandboxed frames, file: pages) and http(s) pages on any other host.
 */
export function originAllowed(origin: string | undefined, keysConfigured: boolean): boolean {
  if (origin === undefined || keysConfigured) return true;
  const schemeEnd = origin.indexOf('://');
  if (schemeEnd === -1) return false;
  const scheme = origin.slice(0, schemeEnd).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return true;
  const authority = origin.slice(schemeEnd + 3);
  const slash = authority.indexOf('/');
  const at = authority.lastIndexOf('@');
  const hostPart = (slash === -1 ? authority : authority.slice(0, slash)).slice(at + 1);
  return isLoopbackName(hostnameOf(hostPart));
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Who a gateway client is. `label` names it in the usage ledger and logs (`key-<index in
 * gateway.apiKeys>`, or `local`); `keyId` says whose stored things (async tasks, and anything
 * else kept per client) it may see: a stable id of its API key, or null when the gateway has no
 * keys, where every client is the same anonymous one.
 */
export interface ClientIdentity {
  label: string;
  keyId: string | null;
}

/** The client of a gateway without API keys: anyone who can reach it. */
export const ANONYMOUS_CLIENT: ClientIdentity = Object.freeze({ label: 'local', keyId: null });

/**
 * The stable id of an API key: a domain-separated SHA-256 of the key, cut to 128 bits. It is
 * what gets stored (never the key), and it stays the same when keys are reordered or added.
 */
export function apiKeyId(key: string): string {
  return `key_${createHash('sha256').update(`swarmd gateway api key\n${key}`).digest('hex').slice(0, 32)}`;
}

/** The configured API keys; labels are `key-<index in gateway.apiKeys>`. */
export class ApiKeys {
  private readonly digests: Buffer[];
  private readonly ids: string[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
    this.ids = keys.map(apiKeyId);
  }

  /** True when clients must send a key. */
  get required(): boolean {
    return this.digests.length > 0;
  }

  /**
   * Who sent a request with this `Authorization` header: the anonymous client when no keys are
   * configured; the matching key's identity; null when keys are configured and it sent none or
   * a wrong one (constant time per key).
   */
  identify(authorization: string | undefined): ClientIdentity | null {
    if (!this.required) return ANONYMOUS_CLIENT;
    const found = this.match(authorization);
    return found === -1 ? null : { label: `key-${found}`, keyId: this.ids[found]! };
  }

  /** The index of the key in an `Authorization: Bearer <key>` header, or -1. */
  private match(authorization: string | undefined): number {
    if (authorization === undefined || authorization.length < 8) return -1;
    if (authorization.slice(0, 7).toLowerCase() !== 'bearer ') return -1;
    const presented = digest(authorization.slice(7).trim());
    let found = -1;
    for (let i = 0; i < this.digests.length; i++) {
      if (timingSafeEqual(presented, this.digests[i]!) && found === -1) found = i;
    }
    return found;
  }
}
