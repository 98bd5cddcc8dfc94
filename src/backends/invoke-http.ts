// The hot-path HTTP client for model servers: node:http with one keep-alive agent per origin, so
// a burst of requests reuses warm sockets instead of paying a TCP (and TLS) handshake each, and a
// bounded socket count per server. Failures before an answer come out as BackendInvokeError.
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { ErrorCodes } from '../errors.js';
import { BackendInvokeError } from './invoke-errors.js';

/** Sockets one server may hold open at once; further requests queue in the agent. */
export const MAX_SOCKETS_PER_ORIGIN = 64;
// Idle pooled sockets close after this; below uvicorn's (vLLM) 5 s keep-alive so the server is
// not the one closing a socket we are about to reuse.
const FREE_SOCKET_IDLE_MS = 4_000;

const agents = new Map<string, http.Agent>();

/** The shared keep-alive agent for a URL's origin. */
export function agentFor(url: URL): http.Agent {
  let agent = agents.get(url.origin);
  if (!agent) {
    const options: http.AgentOptions = {
      keepAlive: true,
      keepAliveMsecs: 1_000,
      maxSockets: MAX_SOCKETS_PER_ORIGIN,
      maxFreeSockets: 16,
      // Most recently used first: keeps a few sockets warm instead of rotating through all.
      scheduling: 'lifo',
      timeout: FREE_SOCKET_IDLE_MS,
    };
    agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    agents.set(url.origin, agent);
  }
  return agent;
}

const targets = new WeakMap<URL, http.RequestOptions>();

/** What http.request reads from a URL, converted once per URL object (invoke.ts reuses them). */
function requestTarget(url: URL): http.RequestOptions {
  let options = targets.get(url);
  if (!options) {
    options = urlToHttpOptions(url);
    targets.set(url, options);
  }
  return options;
}

/** Close every pooled socket (daemon stop, test teardown); later requests open fresh ones. */
export function closeInvokeAgents(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

/** A request whose response headers have arrived. */
export interface OpenExchange {
  req: ClientRequest;
  res: IncomingMessage;
}

/** What to send. */
export interface SendOptions {
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  /** Deadline for the response headers, measured from now. */
  firstByteMs: number;
}

/** The rejection for a caller's abort: the signal's reason when it is an AbortError, else a fresh one. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('The backend request was aborted', { name: 'AbortError', cause: reason });
}

/** POST the body and resolve once response headers arrive; rejects on abort, timeout or network failure. */
export async function openExchange(url: URL, opts: SendOptions): Promise<OpenExchange> {
  try {
    return await attempt(url, opts);
  } catch (err) {
    // A pooled socket the server closed while idle fails at once on reuse, before the server read
    // anything: sending again on a fresh socket is safe (Node's documented reusedSocket pattern).
    if (!(err instanceof StaleSocket) || opts.signal.aborted) throw unwrap(err);
    return attempt(url, opts).catch((again) => {
      throw unwrap(again);
    });
  }
}

class StaleSocket extends Error {
  constructor(readonly failure: BackendInvokeError) {
    super(failure.message);
  }
}

function unwrap(err: unknown): unknown {
  return err instanceof StaleSocket ? err.failure : err;
}

function attempt(url: URL, opts: SendOptions): Promise<OpenExchange> {
  return new Promise((resolve, reject) => {
    if (opts.signal.aborted) {
      reject(abortError(opts.signal));
      return;
    }
    const send = url.protocol === 'https:' ? https.request : http.request;
    const req = send({
      ...requestTarget(url),
      method: 'POST',
      agent: agentFor(url),
      headers: { ...opts.headers, 'content-length': String(Buffer.byteLength(opts.body)) },
    });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => {
      req.destroy();
      settle(() => reject(abortError(opts.signal)));
    };
    const timer = setTimeout(() => {
      req.destroy();
      settle(() =>
        reject(
          new BackendInvokeError(
            ErrorCodes.BACKEND_TIMEOUT,
            `the model server gave no answer within ${opts.firstByteMs} ms; it may be loading a model or overloaded`,
            { url: url.href },
          ),
        ),
      );
    }, opts.firstByteMs);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => settle(() => resolve({ req, res })));
    req.on('error', (err) => {
      const code = errnoCode(err);
      const failure = new BackendInvokeError(
        ErrorCodes.BACKEND_UNREACHABLE,
        `the model server could not be reached (${code ?? 'connection failed'}); is it running at the configured address?`,
        { cause: err, url: url.href },
      );
      const stale = req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE');
      settle(() => reject(stale ? new StaleSocket(failure) : failure));
    });
    req.end(opts.body);
  });
}

/** The errno code of a socket error (ECONNREFUSED, ECONNRESET...), null when none. */
export function errnoCode(err: unknown): string | null {
  return err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : null;
}

/** How a whole body is read. */
export interface ReadOptions {
  signal: AbortSignal;
  /** Longest silence between body bytes. */
  idleMs: number;
  /** Bytes beyond which the answer is refused rather than buffered. */
  limitBytes: number;
}

/** Read a response body to its end as UTF-8; aborting or failing destroys the request. */
export function readBody(url: URL, ex: OpenExchange, opts: ReadOptions): Promise<string> {
  const { req, res } = ex;
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    const finish = (fn: () => void, destroy: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      opts.signal.removeEventListener('abort', onAbort);
      if (destroy) req.destroy();
      fn();
    };
    const fail = (
      code: typeof ErrorCodes.BACKEND_UNREACHABLE | typeof ErrorCodes.BACKEND_TIMEOUT,
      why: string,
    ) =>
      finish(
        () =>
          reject(
            new BackendInvokeError(code, `the model server ${why}`, {
              status: res.statusCode,
              url: url.href,
            }),
          ),
        true,
      );
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () =>
          fail(ErrorCodes.BACKEND_TIMEOUT, `went silent for ${opts.idleMs} ms in the middle of its answer`),
        opts.idleMs,
      );
    };
    const onAbort = () => finish(() => reject(abortError(opts.signal)), true);
    res.on('data', (bytes: Buffer) => {
      if (settled) return;
      armIdle();
      size += bytes.length;
      if (size > opts.limitBytes) {
        finish(
          () =>
            reject(
              new BackendInvokeError(
                ErrorCodes.BACKEND_BAD_RESPONSE,
                `the model server sent an answer larger than ${opts.limitBytes} bytes; refusing to buffer it`,
                { status: res.statusCode, url: url.href },
              ),
            ),
          true,
        );
        return;
      }
      parts.push(bytes);
    });
    res.on('end', () => finish(() => resolve(Buffer.concat(parts).toString('utf8')), false));
    res.on('close', () =>
      fail(ErrorCodes.BACKEND_UNREACHABLE, 'dropped the connection in the middle of its answer'),
    );
    res.on('error', () => {
      // 'close' follows and reports it.
    });
    opts.signal.addEventListener('abort', onAbort, { once: true });
    if (opts.signal.aborted) onAbort();
    else armIdle();
  });
}
