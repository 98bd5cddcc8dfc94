// Writing answers: JSON bodies, OpenAI error bodies and the x-swarm-* headers that say
// who served a request.
import type { ServerResponse } from 'node:http';
import type { Privacy, ServedBy } from '../inference/types.js';
import type { HttpError } from './error-map.js';

/** Response headers, as node:http takes them. */
export type Headers = Record<string, string>;

/** The headers describing who served a request (x-swarm-node is the serving node). */
export function servedHeaders(
  servedBy: ServedBy,
  privacy: Privacy,
  requestId: string,
  privacyReason = '',
): Headers {
  const { target } = servedBy;
  const headers: Headers = {
    'x-request-id': requestId,
    'x-swarm-node': target.nodeName,
    'x-swarm-node-id': target.nodeId,
    // The kind of server (`ollama`, `cloud:<provider>`), never its address.
    'x-swarm-backend': target.backendId.replace(/@.*$/, ''),
    'x-swarm-model': target.model,
    'x-swarm-attempts': String(servedBy.attempts),
    'x-swarm-privacy': privacy,
  };
  if (target.tier !== null) headers['x-swarm-tier'] = target.tier;
  // Why privacy is what it is (e.g. "secret:aws-access-key" held it to lan).
  if (privacyReason) headers['x-swarm-privacy-reason'] = privacyReason;
  // Anything else the swarm wants the client to know (e.g. x-swarm-budget when cloud is off).
  return { ...headers, ...servedBy.notices };
}

/** Send a JSON body with its length. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** Send an OpenAI error body (`{error: {message, type, param, code}}`) with its headers. */
export function sendError(res: ServerResponse, error: HttpError, headers: Headers): void {
  sendJson(res, error.status, { error: error.error }, { ...headers, ...error.headers });
}

/** Send a short plain-text body. */
export function sendText(res: ServerResponse, status: number, text: string, headers: Headers): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    ...headers,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}
