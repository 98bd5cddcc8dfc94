// Running one inference request on one model server. Every kind swarmd adopts serves the OpenAI
// routes, so there is one code path: rewrite `model`, ask for usage in streams, send over the
// per-origin keep-alive pool, and hand back canonical chunks (stream/normalise.ts) or the body.
// Failures reject with BackendInvokeError (stable code, `retryable`, `chunksDelivered`); the
// caller's abort rejects with an AbortError after closing the upstream socket.
import { ErrorCodes } from '../errors.js';
import type { InferenceKind, JsonObject, Usage } from '../inference/types.js';
import { SOFTWARE_VERSION } from '../version.js';
import {
  BackendInvokeError,
  httpError,
  readUpstreamError,
  retryAfterMs,
  upstreamErrorFromText,
} from './invoke-errors.js';
import { openExchange, readBody } from './invoke-http.js';
import { deliverWhole, readStream } from './invoke-stream.js';
import { parseUsage, StreamNormaliser } from './stream/normalise.js';
import type { BackendKind } from './types.js';
import { normalizeBaseUrl } from './url.js';

/** Where to send: a local server kind (base URL without /v1) or a cloud provider (base URL with its version path). */
export interface InvokeTarget {
  kind: BackendKind | 'cloud';
  baseUrl: string;
  apiKey?: string;
  /** The model id as this server names it; replaces the client's `model`. */
  model: string;
}

/** What to run: the OpenAI body as the client sent it. */
export interface InvokeRequest {
  kind: InferenceKind;
  body: JsonObject;
  /** Ignored for embeddings, which never stream. */
  stream: boolean;
}

/** The caller's controls. */
export interface InvokeHooks {
  signal: AbortSignal;
  /** Streaming: each canonical chunk, in order; the usage chunk is never passed (see InvokeResult.usage). */
  onChunk?: (chunk: JsonObject) => void;
  /** Deadline for the first byte of the answer, and the longest silence inside it; default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Sent as `x-request-id` so server logs (vLLM uses it as its request id) match ours. */
  requestId?: string;
}

/** The end of a successful call. */
export interface InvokeResult {
  /** Non-streaming: the body as the server sent it. Streaming: null. */
  body: JsonObject | null;
  usage: Usage | null;
  finishReason: string | null;
  /** ms to the first generated token (streaming) or to the whole answer (non-streaming). */
  firstTokenMs: number | null;
  /** Chunks handed to onChunk. */
  chunks: number;
}

/** Default first-byte deadline: llama-swap may swap models (minutes) before answering. */
export const DEFAULT_TIMEOUT_MS = 300_000;
// An answer bigger than this is a broken server, not a completion (embeddings of long batches stay far below).
const BODY_LIMIT_BYTES = 64 * 1024 * 1024;

const ROUTES: Readonly<Record<InferenceKind, string>> = {
  chat: 'chat/completions',
  completions: 'completions',
  embeddings: 'embeddings',
};

/** Send one request to one server and resolve when its answer is complete. */
export async function invokeBackend(
  target: InvokeTarget,
  request: InvokeRequest,
  hooks: InvokeHooks,
): Promise<InvokeResult> {
  const url = invokeUrl(target, request.kind);
  const stream = request.stream && request.kind !== 'embeddings';
  const timeoutMs = hooks.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const startedAt = performance.now();
  const exchange = await openExchange(url, {
    headers: requestHeaders(target, stream, hooks.requestId),
    body: JSON.stringify(upstreamBody(target, request.kind, request.body, stream)),
    signal: hooks.signal,
    firstByteMs: timeoutMs,
  });
  const { res } = exchange;
  const status = res.statusCode ?? 0;
  const read = () =>
    readBody(url, exchange, { signal: hooks.signal, idleMs: timeoutMs, limitBytes: BODY_LIMIT_BYTES });

  if (status < 200 || status >= 300) {
    const text = await read();
    throw httpError({
      url: url.href,
      status,
      upstream: upstreamErrorFromText(text),
      retryAfterMs: retryAfterMs(res.headers, Date.now()),
    });
  }

  const contentType = (res.headers['content-type'] ?? '').toLowerCase();
  if (stream) {
    const ctx = {
      url: url.href,
      signal: hooks.signal,
      normaliser: new StreamNormaliser({ kind: request.kind as 'chat' | 'completions', model: target.model }),
      onChunk: hooks.onChunk,
      idleMs: timeoutMs,
      startedAt,
    };
    const outcome = contentType.includes('application/json')
      ? deliverWhole(parseBody(url, await read()), ctx)
      : await readStream(exchange.req, res, ctx);
    return { body: null, ...outcome };
  }

  const body = parseBody(url, await read());
  const firstTokenMs = Math.round(performance.now() - startedAt);
  checkAnswer(url, request.kind, body);
  const choices = (body as { choices?: unknown }).choices;
  const first = Array.isArray(choices) ? (choices[0] as { finish_reason?: unknown } | undefined) : undefined;
  return {
    // The reply names the swarm's model id, never the server's own (llama-server puts a file path there).
    body: { ...(body as JsonObject), model: target.model },
    usage: parseUsage((body as JsonObject).usage),
    finishReason: typeof first?.finish_reason === 'string' ? first.finish_reason : null,
    firstTokenMs,
    chunks: 0,
  };
}

// Parsed routes, reused: a URL per request showed in profiles, and http.request converts a new
// URL object each time. Bounded; cleared when full (the keys are few: servers × routes).
const urls = new Map<string, URL>();
const MAX_CACHED_URLS = 256;

/** The OpenAI route for a request kind on a target (shared: callers must not change it). */
export function invokeUrl(target: InvokeTarget, kind: InferenceKind): URL {
  const key = `${target.kind === 'cloud' ? 'cloud' : 'local'} ${kind} ${target.baseUrl}`;
  const cached = urls.get(key);
  if (cached) return cached;
  const url = parseInvokeUrl(target, kind);
  if (urls.size >= MAX_CACHED_URLS) urls.clear();
  urls.set(key, url);
  return url;
}

function parseInvokeUrl(target: InvokeTarget, kind: InferenceKind): URL {
  const base =
    target.kind === 'cloud'
      ? target.baseUrl.trim().replace(/\/+$/, '')
      : `${normalizeBaseUrl(target.baseUrl)}/v1`;
  try {
    return new URL(`${base}/${ROUTES[kind]}`);
  } catch (err) {
    throw new BackendInvokeError(
      ErrorCodes.BACKEND_UNREACHABLE,
      `backend URL ${JSON.stringify(target.baseUrl)} is not a valid URL; fix the backend's address in the config`,
      { cause: err },
    );
  }
}

/** The body sent upstream: the client's, with this server's model name and the stream flags we rely on. */
export function upstreamBody(
  target: InvokeTarget,
  kind: InferenceKind,
  body: JsonObject,
  stream: boolean,
): JsonObject {
  const { stream: _stream, stream_options: options, ...rest } = body;
  const out: JsonObject = { ...rest, model: target.model };
  if (kind === 'embeddings') return out;
  if (!stream) return { ...out, stream: false };
  // Usage is always asked for, so the ledger knows it; the gateway decides whether its client sees it.
  const kept = typeof options === 'object' && options !== null && !Array.isArray(options) ? options : {};
  return { ...out, stream: true, stream_options: { ...kept, include_usage: true } };
}

function requestHeaders(target: InvokeTarget, stream: boolean, requestId?: string): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    // llama-swap picks its error format from Accept: asking for JSON keeps errors machine-readable.
    accept: stream ? 'text/event-stream, application/json' : 'application/json',
    'user-agent': `swarmd/${SOFTWARE_VERSION}`,
  };
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  if (requestId) headers['x-request-id'] = requestId;
  return headers;
}

function parseBody(url: URL, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BackendInvokeError(
      ErrorCodes.BACKEND_BAD_RESPONSE,
      `the model server answered with a body that is not JSON: ${JSON.stringify(text.slice(0, 80))}`,
      { cause: err, url: url.href },
    );
  }
}

// A 2xx must still be a completion (`choices`) or an embedding list (`data`): LM Studio answers
// some failures with 200 and an error body.
function checkAnswer(url: URL, kind: InferenceKind, body: unknown): void {
  const key = kind === 'embeddings' ? 'data' : 'choices';
  if (typeof body === 'object' && body !== null && Array.isArray((body as JsonObject)[key])) return;
  const upstream = readUpstreamError(body);
  if (upstream) throw httpError({ url: url.href, status: 200, upstream, retryAfterMs: null });
  throw new BackendInvokeError(
    ErrorCodes.BACKEND_BAD_RESPONSE,
    `the model server answered 200 without \`${key}\`: ${JSON.stringify(body).slice(0, 120)}`,
    { url: url.href },
  );
}
