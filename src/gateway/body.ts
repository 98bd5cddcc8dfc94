// Reads a request body as one JSON object, refusing bodies over the size limit before
// buffering them (Content-Length) or as soon as the limit is crossed (chunked uploads).
import type { IncomingMessage } from 'node:http';
import { ErrorCodes } from '../errors.js';
import type { JsonObject } from '../inference/types.js';
import { RequestError } from './request-error.js';

/** 32 MiB: room for long contexts and base64 images, small enough to refuse floods. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

function tooLarge(maxBytes: number, got: string): RequestError {
  return new RequestError(
    `The request body is too large (${got}); this gateway accepts at most ${maxBytes} bytes. Send a smaller request.`,
    { code: ErrorCodes.GATEWAY_BODY_TOO_LARGE, openaiCode: 'request_too_large' },
  );
}

/** Read the whole body (≤ maxBytes) as raw bytes; rejects with a RequestError over the limit. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(tooLarge(maxBytes, `${declared} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        reject(tooLarge(maxBytes, `more than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('the client closed the connection while sending the request'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** Deepest nesting of objects and arrays a body may have: deep enough for any tool schema. */
export const MAX_JSON_DEPTH = 512;

/** True when objects/arrays in `value` nest more than `limit` deep. Iterative: no recursion to overflow. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push({ node: child, depth: depth + 1 });
    }
  }
  return false;
}

/** Parse body bytes as one JSON object; a RequestError (400) says what is wrong. */
export function parseJsonObject(raw: Buffer): JsonObject {
  if (raw.length === 0) {
    throw new RequestError(
      'The request body is empty; send a JSON object (Content-Type: application/json).',
      {
        openaiCode: 'invalid_json',
      },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new RequestError(
      `We could not parse the JSON body of your request (${(err as Error).message}); send a JSON object.`,
      { openaiCode: 'invalid_json', cause: err },
    );
  }
  if (nestedDeeperThan(value, MAX_JSON_DEPTH)) {
    throw new RequestError(
      `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep; this gateway accepts at most ${MAX_JSON_DEPTH} (deep enough for any tool schema). Flatten the request.`,
      { openaiCode: 'invalid_json' },
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RequestError(
      `The request body must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}.`,
      { openaiCode: 'invalid_json' },
    );
  }
  return value as JsonObject;
}
