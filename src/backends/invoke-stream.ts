// Reading one streamed answer: SSE frames → canonical chunks → onChunk, with the failure modes a
// caller needs told apart: the server's error event, the connection dropping before the answer
// finished, silence for too long, and the caller's own abort (which also closes the socket, so
// the server stops generating).
import type { ClientRequest, IncomingMessage } from 'node:http';
import { ErrorCodes } from '../errors.js';
import type { JsonObject, Usage } from '../inference/types.js';
import { BackendInvokeError, httpError, readUpstreamError } from './invoke-errors.js';
import { abortError } from './invoke-http.js';
import { completionAsChunk, type StreamNormaliser } from './stream/normalise.js';
import { SseParser } from './stream/sse.js';

/** What a finished stream yields. */
export interface StreamOutcome {
  usage: Usage | null;
  finishReason: string | null;
  firstTokenMs: number | null;
  chunks: number;
}

/** Everything the reader needs besides the exchange. */
export interface StreamContext {
  url: string;
  signal: AbortSignal;
  normaliser: StreamNormaliser;
  onChunk?: (chunk: JsonObject) => void;
  /** Longest silence between body bytes before the stream counts as broken. */
  idleMs: number;
  /** Monotonic ms when the request was dispatched, for firstTokenMs. */
  startedAt: number;
}

// After `[DONE]` the body should end at once; a server that keeps the socket open is not waited on.
const AFTER_DONE_GRACE_MS = 1_000;

/** Read an SSE body to its end, delivering canonical chunks; rejects with BackendInvokeError or an AbortError. */
export function readStream(
  req: ClientRequest,
  res: IncomingMessage,
  ctx: StreamContext,
): Promise<StreamOutcome> {
  const { normaliser, signal } = ctx;
  const parser = new SseParser();
  const sink = new Delivery(ctx);

  return new Promise<StreamOutcome>((resolve, reject) => {
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    let grace: NodeJS.Timeout | undefined;

    const finish = (fn: () => void, destroy: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      clearTimeout(grace);
      signal.removeEventListener('abort', onAbort);
      res.removeListener('data', onData);
      // Destroying the request closes the socket: the server sees the disconnect and stops generating.
      if (destroy) req.destroy();
      else res.resume();
      fn();
    };
    const fail = (err: unknown) => finish(() => reject(err), true);
    const succeed = (destroy: boolean) =>
      finish(
        () =>
          resolve({
            usage: normaliser.usage,
            finishReason: normaliser.finishReason,
            firstTokenMs: sink.firstTokenMs,
            chunks: sink.delivered,
          }),
        destroy,
      );
    const broken = (why: string, cause?: BackendInvokeError) =>
      streamBroken(ctx.url, why, sink.delivered, cause);
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => fail(broken(`went silent for ${ctx.idleMs} ms`)), ctx.idleMs);
    };

    const handle = (data: string): boolean => {
      if (normaliser.done) return true;
      const step = normaliser.push(data);
      switch (step.type) {
        case 'done':
          grace = setTimeout(() => succeed(true), AFTER_DONE_GRACE_MS);
          return true;
        case 'error': {
          const cause = eventError(ctx.url, step.body);
          fail(broken(`reported an error mid-stream (${cause.upstream?.message ?? 'no message'})`, cause));
          return false;
        }
        case 'invalid':
          fail(broken(`sent an event that is not a chunk: ${JSON.stringify(step.data.slice(0, 80))}`));
          return false;
        case 'chunks':
          for (const chunk of step.chunks) {
            try {
              sink.deliver(chunk);
            } catch (err) {
              // The consumer gave up (its client went away): stop the server too.
              fail(err);
              return false;
            }
          }
          return true;
      }
    };

    const onData = (bytes: Buffer) => {
      armIdle();
      for (const event of parser.push(bytes)) if (!handle(event.data)) return;
    };
    const onAbort = () => fail(abortError(signal));

    signal.addEventListener('abort', onAbort, { once: true });
    res.on('data', onData);
    res.on('end', () => {
      for (const event of parser.end()) if (!handle(event.data)) return;
      if (normaliser.done || normaliser.complete) succeed(false);
      else fail(broken('ended the stream before the answer finished'));
    });
    // 'close' without 'end': the connection dropped. Finished answers still count (usage may be lost).
    res.on('close', () => {
      if (settled) return;
      if (normaliser.done || normaliser.complete) succeed(true);
      else fail(broken('dropped the connection'));
    });
    res.on('error', () => {
      // 'close' follows and decides; listening keeps the error from being thrown.
    });
    if (signal.aborted) onAbort();
    else armIdle();
  });
}

/** A whole answer from a server that ignored `stream: true`, delivered as the chunks a stream would have had. */
export function deliverWhole(body: unknown, ctx: StreamContext): StreamOutcome {
  const sink = new Delivery(ctx);
  const step = ctx.normaliser.pushObject(isObject(body) ? completionAsChunk(body) : body);
  if (step.type === 'error') throw eventError(ctx.url, step.body);
  if (step.type !== 'chunks' || !ctx.normaliser.complete) {
    throw new BackendInvokeError(
      ErrorCodes.BACKEND_BAD_RESPONSE,
      'the model server answered a streaming request with JSON that is no completion',
      { url: ctx.url },
    );
  }
  for (const chunk of step.chunks) sink.deliver(chunk);
  const { usage, finishReason } = ctx.normaliser;
  return { usage, finishReason, firstTokenMs: sink.firstTokenMs, chunks: sink.delivered };
}

/** The error for a stream that failed after `delivered` chunks; retryable only while nothing was delivered. */
export function streamBroken(
  url: string,
  why: string,
  delivered: number,
  cause?: BackendInvokeError,
): BackendInvokeError {
  return new BackendInvokeError(
    ErrorCodes.BACKEND_STREAM_BROKEN,
    `the model server ${why} after ${delivered} chunk(s); the answer is incomplete`,
    {
      url,
      chunksDelivered: delivered,
      cause,
      retryable: delivered === 0 && (cause?.retryable ?? true),
      upstream: cause?.upstream ?? null,
    },
  );
}

// An error event classified as if it had been the HTTP answer (its numeric code, else a 500).
function eventError(url: string, body: JsonObject): BackendInvokeError {
  return httpError({ url, status: 200, upstream: readUpstreamError(body), retryAfterMs: null });
}

// Counts delivered chunks and times the first one that carries generated output.
class Delivery {
  delivered = 0;
  private firstChunkMs: number | null = null;
  private firstOutputMs: number | null = null;

  constructor(private readonly ctx: StreamContext) {}

  get firstTokenMs(): number | null {
    return this.firstOutputMs ?? this.firstChunkMs;
  }

  deliver(chunk: JsonObject): void {
    const now = Math.round(performance.now() - this.ctx.startedAt);
    this.firstChunkMs ??= now;
    if (this.firstOutputMs === null && carriesOutput(chunk)) this.firstOutputMs = now;
    this.delivered += 1;
    this.ctx.onChunk?.(chunk);
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function carriesOutput(chunk: JsonObject): boolean {
  const choice = Array.isArray(chunk.choices) ? (chunk.choices[0] as JsonObject | undefined) : undefined;
  if (!choice) return false;
  const payload = (choice.delta as JsonObject | undefined) ?? { text: choice.text };
  return Object.entries(payload).some(([k, v]) => k !== 'role' && v !== null && v !== undefined && v !== '');
}
