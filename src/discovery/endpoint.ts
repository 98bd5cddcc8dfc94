// gRPC endpoint text ("host:port", IPv6 as "[addr]:port"): pure parsing and formatting,
// shared by the TXT codec (which must not do I/O) and the address picker.
import { isIP, isIPv6 } from 'node:net';

/** A parsed endpoint; `host` holds an IPv6 address without its brackets. */
export interface Endpoint {
  host: string;
  port: number;
}

// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
const HOST_LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const PORT_RE = /^[0-9]{1,5}$/;

/** Format an address and port the way gRPC dials it: `host:port`, or `[v6]:port`. */
export function formatEndpoint(address: string, port: number): string {
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Parse `host:port` / `[v6]:port`; null when the host or the port (1-65535) is not valid. */
export function parseEndpoint(text: string): Endpoint | null {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return null;
  const rawHost = text.slice(0, colon);
  const port = parsePort(text.slice(colon + 1));
  if (port === null) return null;
  if (rawHost.startsWith('[')) {
    if (!rawHost.endsWith(']')) return null;
    const inner = rawHost.slice(1, -1);
    // A zone id (fe80::1%eth0) only means something on the sender's box.
    return isIPv6(inner) && !inner.includes('%') ? { host: inner, port } : null;
  }
  if (isIP(rawHost) === 4 || isHostName(rawHost)) return { host: rawHost, port };
  return null;
}

/** A TCP port as decimal text, 1-65535; null otherwise. */
export function parsePort(text: string): number | null {
  if (!PORT_RE.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65_535 ? port : null;
}

function isHostName(text: string): boolean {
  if (text.length === 0 || text.length > 253) return false;
  // An all-numeric name that is not a valid IPv4 address (999.1.1.1) is a typo, not a host.
  if (/^[0-9.]+$/.test(text)) return false;
  return text.split('.').every((label) => HOST_LABEL_RE.test(label));
}
