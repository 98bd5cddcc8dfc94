// Base URLs and ids of backends. A base URL is kept without a trailing slash and without /v1,
// since adapters append both native (/api/...) and OpenAI (/v1/...) paths to it.
import type { BackendKind } from './types.js';

// The ways of writing "this box" that reach the same local server.
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '0.0.0.0', '[::]']);

/** Base URL without trailing slashes or a trailing /v1 ("http://h:1234/v1/" → "http://h:1234"). */
export function normalizeBaseUrl(url: string): string {
  let base = url.trim().replace(/\/+$/, '');
  if (base.endsWith('/v1')) base = base.slice(0, -3).replace(/\/+$/, '');
  return base;
}

/** host:port of a base URL, with the scheme's default port when none is written. */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return { host: u.hostname, port };
}

/** BackendStatus.id: `kind@host:port`. */
export function backendId(kind: BackendKind, url: string): string {
  const { host, port } = hostPort(url);
  return `${kind}@${host}:${port}`;
}

/** True when two base URLs reach the same server (loopback spellings count as one host). */
export function sameEndpoint(a: string, b: string): boolean {
  const x = hostPort(a);
  const y = hostPort(b);
  const hostX = LOOPBACK.has(x.host) ? 'loopback' : x.host.toLowerCase();
  const hostY = LOOPBACK.has(y.host) ? 'loopback' : y.host.toLowerCase();
  return hostX === hostY && x.port === y.port && new URL(a).pathname === new URL(b).pathname;
}
