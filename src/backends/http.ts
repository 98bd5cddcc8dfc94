// Small HTTP client for talking to model servers: every request has a deadline, and failures
// come out as BackendError with a stable code so callers never see raw fetch/undici errors.
import { BackendError, ErrorCodes, errorMessage } from '../errors.js';

/** Options every request takes. */
export interface HttpOptions {
  /** Deadline for the whole exchange, body included. */
  timeoutMs: number;
  /** Caller cancellation; when it fires the request rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
}

/** A response read to the end as text. Status is not judged here. */
export interface TextResponse {
  url: string;
  status: number;
  /** Lower-cased media type without parameters (`application/json`), or '' when absent. */
  contentType: string;
  text: string;
}

/** Send a request and read the whole body; throws BACKEND_UNREACHABLE when no answer arrives. */
export async function requestText(
  url: string,
  opts: HttpOptions & { method?: 'GET' | 'POST'; json?: unknown },
): Promise<TextResponse> {
  const method = opts.method ?? 'GET';
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9, */*;q=0.5' };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const attempt = async (): Promise<TextResponse> => {
    // redirect manual: a redirect (llama-swap `/` → /ui) is an answer to look at, not a place to go.
    const res = await fetch(url, { method, headers, body, signal, redirect: 'manual' });
    const text = await res.text();
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    return { url, status: res.status, contentType, text };
  };
  try {
    try {
      return await attempt();
    } catch (err) {
      // A pooled keep-alive socket the server already closed (it restarted, or idled it out)
      // fails at once; a GET is safe to send again on a fresh connection.
      if (method !== 'GET' || signal.aborted || !isStaleSocket(err)) throw err;
      return await attempt();
    }
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (timeout.aborted) {
      throw new BackendError(
        ErrorCodes.BACKEND_UNREACHABLE,
        `${method} ${url} gave no answer within ${opts.timeoutMs} ms; is the server up and not overloaded?`,
        { cause: err },
      );
    }
    throw new BackendError(
      ErrorCodes.BACKEND_UNREACHABLE,
      `${method} ${url} failed (${networkReason(err)}); is the server running on that address?`,
      { cause: err },
    );
  }
}

/** Parse a response body as JSON; throws BACKEND_BAD_RESPONSE naming the URL when it is not. */
export function parseJson(res: TextResponse): unknown {
  try {
    return JSON.parse(res.text);
  } catch (err) {
    throw new BackendError(
      ErrorCodes.BACKEND_BAD_RESPONSE,
      `${res.url} answered HTTP ${res.status} with a body that is not JSON: ${JSON.stringify(res.text.slice(0, 80))}`,
      { cause: err },
    );
  }
}

/** Throw BACKEND_BAD_RESPONSE unless the status is 2xx. */
export function expectOk(res: TextResponse): TextResponse {
  if (res.status >= 200 && res.status < 300) return res;
  throw new BackendError(
    ErrorCodes.BACKEND_BAD_RESPONSE,
    `${res.url} answered HTTP ${res.status}: ${JSON.stringify(res.text.slice(0, 120))}`,
  );
}

/** GET a 2xx JSON body. */
export async function getJson(url: string, opts: HttpOptions): Promise<unknown> {
  return parseJson(expectOk(await requestText(url, opts)));
}

/** POST a JSON body and read a 2xx JSON answer. */
export async function postJson(url: string, json: unknown, opts: HttpOptions): Promise<unknown> {
  return parseJson(expectOk(await requestText(url, { ...opts, method: 'POST', json })));
}

/** GET a 2xx body as text. */
export async function getText(url: string, opts: HttpOptions): Promise<string> {
  return expectOk(await requestText(url, opts)).text;
}

function isStaleSocket(err: unknown): boolean {
  const code = causeCode(err);
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
}

function causeCode(err: unknown): string | null {
  const cause = err instanceof Error ? err.cause : undefined;
  return cause && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string'
    ? cause.code
    : null;
}

// fetch hides the socket error in `cause` (ECONNREFUSED, ENOTFOUND...): that is what helps a person.
function networkReason(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string')
    return cause.code;
  return errorMessage(cause ?? err);
}
