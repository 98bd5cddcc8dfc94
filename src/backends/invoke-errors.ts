// How a model server's refusal becomes a stable SwarmError code (pure). Servers disagree on
// error bodies (BACKENDS.md §1.9, §2.7-2.8, §3.6, §4.7, §6.3, §7.2-7.3), so the body is read
// loosely and the status decides first; message text is consulted only where a server gives
// nothing better (context overflow, LM Studio's unknown model).
import { BackendError, type ErrorCode, ErrorCodes } from '../errors.js';

/** What a server said about a failure, whatever envelope it used. */
export interface UpstreamError {
  message: string;
  /** `type` (OpenAI, llama.cpp, vLLM) or `status` (Gemini). */
  type: string | null;
  /** A string `code` (`context_length_exceeded`, `model_not_found`, `concurrency_limit`...). */
  code: string | null;
  /** A numeric `code` (vLLM, llama.cpp, OpenRouter, Gemini carry the HTTP status there). */
  status: number | null;
}

/** A failed backend call: the code says what happened, the fields say what a caller may do next. */
export class BackendInvokeError extends BackendError {
  /** Another attempt (here later, or on another target) may succeed; false when the request itself is at fault. */
  readonly retryable: boolean;
  /** The HTTP status the server answered, null when none came (network, timeout, mid-stream). */
  readonly status: number | null;
  /** How long the server asked us to wait (Retry-After / retry-after-ms), null when it did not say. */
  readonly retryAfterMs: number | null;
  /** Chunks already handed to onChunk: 0 means a fallback is still invisible to the client. */
  readonly chunksDelivered: number;
  /** The server's own error, for logs and for passing a 4xx reason back to the client. */
  readonly upstream: UpstreamError | null;
  /** The URL that failed: for the log only, never for clients (it names an internal host). */
  readonly url: string | null;

  constructor(
    code: ErrorCode,
    message: string,
    fields: {
      status?: number | null;
      retryAfterMs?: number | null;
      chunksDelivered?: number;
      upstream?: UpstreamError | null;
      url?: string | null;
      retryable?: boolean;
      cause?: unknown;
    } = {},
  ) {
    super(code, message, { cause: fields.cause });
    this.name = 'BackendInvokeError';
    this.status = fields.status ?? null;
    this.retryAfterMs = fields.retryAfterMs ?? null;
    this.chunksDelivered = fields.chunksDelivered ?? 0;
    this.upstream = fields.upstream ?? null;
    this.url = fields.url ?? null;
    this.retryable = fields.retryable ?? defaultRetryable(code, this.chunksDelivered);
  }
}

// Failures of the request itself go nowhere better; everything else is worth another target.
function defaultRetryable(code: ErrorCode, chunksDelivered: number): boolean {
  switch (code) {
    case ErrorCodes.BACKEND_BAD_REQUEST:
    case ErrorCodes.CONTEXT_LENGTH_EXCEEDED:
    case ErrorCodes.MODEL_NOT_FOUND:
      return false;
    case ErrorCodes.BACKEND_STREAM_BROKEN:
      return chunksDelivered === 0;
    default:
      return true;
  }
}

/** Read an error out of any envelope: `{error:{…}}`, `{error:"…"}`, vLLM's flat body, Gemini's array, FastAPI's `detail`. */
export function readUpstreamError(body: unknown): UpstreamError | null {
  const root = Array.isArray(body) ? body[0] : body;
  if (!isObject(root)) return null;
  const inner = root.error;
  if (isObject(inner)) {
    return {
      message: text(inner.message) ?? JSON.stringify(inner).slice(0, 200),
      type: text(inner.type) ?? text(inner.status),
      code: text(inner.code),
      status: int(inner.code),
    };
  }
  if (typeof inner === 'string') return { message: inner, type: null, code: null, status: null };
  if (root.object === 'error' || (typeof root.message === 'string' && 'type' in root)) {
    return {
      message: text(root.message) ?? '',
      type: text(root.type),
      code: text(root.code),
      status: int(root.code),
    };
  }
  if (typeof root.detail === 'string') return { message: root.detail, type: null, code: null, status: null };
  return null;
}

/** Read an error body that may be JSON or plain text (llama-swap `text/plain`, Go's `404 page not found`). */
export function upstreamErrorFromText(body: string): UpstreamError | null {
  const trimmed = body.trim();
  if (trimmed === '') return null;
  try {
    const parsed = readUpstreamError(JSON.parse(trimmed));
    if (parsed) return parsed;
  } catch {
    // not JSON: the text is the message
  }
  return { message: trimmed.slice(0, 500), type: null, code: null, status: null };
}

/** Milliseconds a response asks us to wait: `retry-after-ms`, then `retry-after` (seconds or HTTP date). */
export function retryAfterMs(
  headers: Record<string, string | string[] | undefined>,
  nowMs: number,
): number | null {
  const ms = Number(first(headers['retry-after-ms']));
  if (first(headers['retry-after-ms']) !== undefined && Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const value = first(headers['retry-after'])?.trim();
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

// llama.cpp "exceeds the available context size", vLLM/OpenAI/OpenRouter "maximum context length is",
// LM Studio/Ollama "context length"/"context overflow", Gemini "exceeds the maximum number of tokens".
const CONTEXT_TEXT =
  /context[ _](length|size|window)|maximum context|context overflow|prompt (is )?too long|too many tokens|exceeds the maximum number of tokens/i;
// LM Studio 0.4, llama-swap ≤v217, llama.cpp router mode and OpenRouter answer an unknown model with 400.
const MODEL_TEXT =
  /invalid model identifier|could not find real modelid|model is not found|not a valid model id|model ['"`][^'"`]*['"`] not found/i;

/** Map a non-2xx answer (or a 2xx carrying an error body) to a BackendInvokeError. */
export function httpError(input: {
  url: string;
  status: number;
  upstream: UpstreamError | null;
  retryAfterMs: number | null;
}): BackendInvokeError {
  const { url, upstream, retryAfterMs: wait } = input;
  // A 2xx that carries an error (LM Studio's "Returning 200 anyway") counts as the status inside, else 500.
  const status = input.status >= 400 ? input.status : (upstream?.status ?? 500);
  // The server's own message is what the client gets, as it said it; with none, what happened and
  // what to do. The URL goes only to the log (`url`): it names an internal host.
  const own = upstream?.message.slice(0, 500) ?? '';
  const said = (hint: string) => own || `the model server answered HTTP ${status}; ${hint}`;
  const fields = { status, upstream, retryAfterMs: wait, url };
  const code = upstream?.code ?? '';
  const type = upstream?.type ?? '';
  const message = upstream?.message ?? '';

  if (code === 'model_not_found' || status === 404 || (status === 400 && MODEL_TEXT.test(message))) {
    return new BackendInvokeError(
      ErrorCodes.MODEL_NOT_FOUND,
      said(`the model is not on this server (pull or load it, or refresh the model list)`),
      fields,
    );
  }
  if (
    code === 'context_length_exceeded' ||
    type === 'exceed_context_size_error' ||
    ((status === 400 || status === 413) && CONTEXT_TEXT.test(message))
  ) {
    return new BackendInvokeError(
      ErrorCodes.CONTEXT_LENGTH_EXCEEDED,
      said(`the prompt does not fit the model's context: shorten it or pick a model with a longer context`),
      fields,
    );
  }
  if (status === 402 || code === 'insufficient_quota') {
    return new BackendInvokeError(
      ErrorCodes.BACKEND_QUOTA_EXCEEDED,
      said(`the account has no credit or quota left: top it up or use another provider`),
      fields,
    );
  }
  if (status === 429 || status === 503) {
    return new BackendInvokeError(
      ErrorCodes.BACKEND_OVERLOADED,
      said(`the server is busy: try again${wait === null ? ' later' : ` in ${wait} ms`} or elsewhere`),
      fields,
    );
  }
  if (status === 401 || status === 403) {
    return new BackendInvokeError(
      ErrorCodes.BACKEND_AUTH_FAILED,
      said(`the server refused swarmd's credentials: check the API key configured for this backend`),
      fields,
    );
  }
  if (status === 408 || status === 504) {
    return new BackendInvokeError(
      ErrorCodes.BACKEND_TIMEOUT,
      said(`the server timed out: try again or elsewhere`),
      fields,
    );
  }
  if (status >= 400 && status < 500 && status !== 499) {
    return new BackendInvokeError(
      ErrorCodes.BACKEND_BAD_REQUEST,
      said(`the server rejected the request as invalid: fix the request`),
      fields,
    );
  }
  return new BackendInvokeError(
    ErrorCodes.BACKEND_ERROR,
    said(`the server failed while handling the request: try again or elsewhere`),
    fields,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function int(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599 ? value : null;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
