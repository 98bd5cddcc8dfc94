// The generation routes every fake shares: read the OpenAI request, apply the script (delays,
// refusals, mid-stream failures, hangs), answer in the fake's own dialect, and keep the
// per-fake counters (`inflight`, `maxInflightSeen`) and request log current — including whether
// the client disconnected before the end, which is how tests prove cancellation reaches a server.
import type { ServerResponse } from 'node:http';
import type { FakeRequest, Routes } from '../fake-server.js';
import {
  countPromptTokens,
  type ErrorReply,
  type FailureKind,
  type GenerationRecord,
  type GenerationRoute,
  type GenerationScript,
  tokenize,
} from './script.js';
import {
  type AnswerPlan,
  embeddingAnswer,
  newId,
  type ShapeStyle,
  streamEvents,
  wholeAnswer,
} from './shapes.js';

/** What a request looks like to a dialect deciding whether to refuse it. */
export interface RefuseContext {
  route: GenerationRoute;
  model: string;
  promptTokens: number;
  /** max_tokens / max_completion_tokens as sent, null when absent. */
  maxTokens: number | null;
  /** Generations in flight on this fake, this one included. */
  inflight: number;
}

/** How one kind of server speaks: its shapes and its failures. */
export interface Dialect {
  style: ShapeStyle;
  fingerprint: string | null;
  /** A refusal the real server would give on its own (unknown model, prompt too long, queue full); null to go on. */
  refuse(ctx: RefuseContext): ErrorReply | null;
  /** A scripted failure in this server's error format. */
  failure(kind: FailureKind, ctx: RefuseContext): ErrorReply;
  /** Raw SSE text the server writes when generation fails mid-stream ('' ends the body silently). */
  midStreamError(plan: AnswerPlan): string;
  /** Raw SSE text written before the first event (keep-alive comments, loading notices). */
  preamble?(plan: AnswerPlan): string;
}

/** The fake's side of the bookkeeping. */
export interface GenerationHost {
  readonly script: GenerationScript;
  /** Consume one use of failWith (failTimes); returns the failure to apply now, if any. */
  takeFailure(): GenerationScript['failWith'];
  begin(record: GenerationRecord): number;
  end(record: GenerationRecord): void;
}

/** The OpenAI generation routes (chat, completions, embeddings), served in `dialect()`. */
export function openAiRoutes(host: GenerationHost, dialect: () => Dialect): Routes {
  return {
    'POST /v1/chat/completions': (req, res) => serveGeneration(host, req, res, 'chat', dialect()),
    'POST /v1/completions': (req, res) => serveGeneration(host, req, res, 'completions', dialect()),
    'POST /v1/embeddings': (req, res) => serveGeneration(host, req, res, 'embeddings', dialect()),
  };
}

/** Serve one OpenAI generation request. */
export async function serveGeneration(
  host: GenerationHost,
  req: FakeRequest,
  res: ServerResponse,
  route: GenerationRoute,
  dialect: Dialect,
): Promise<void> {
  const parsed = req.json();
  const body =
    parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  const script = host.script;
  const record = newRecord(req, route, body);
  const inflight = host.begin(record);
  let closed = false;
  res.on('close', () => {
    closed = true;
    if (!res.writableFinished && record.failure !== 'drop') record.aborted = true;
    record.endedAt = Date.now();
    host.end(record);
  });
  // A client that goes away mid-answer (its process killed: the kernel sends FIN) cancels the
  // generation, as real servers do: Go's net/http (Ollama, llama-swap) cancels the request
  // context when its background read sees EOF; uvicorn (vLLM) and llama.cpp poll for it. Node's
  // server keeps half-open sockets writable, so without this a fake would "finish" for nobody.
  const socket = res.socket;
  const onPeerGone = () => {
    if (!res.writableFinished) res.destroy();
  };
  socket?.once('end', onPeerGone);
  res.once('close', () => socket?.off('end', onPeerGone));

  const maxTokens = numberOr(body.max_tokens ?? body.max_completion_tokens);
  const ctx: RefuseContext = {
    route,
    model: record.model ?? '',
    promptTokens: countPromptTokens(body.messages ?? body.prompt ?? body.input),
    maxTokens,
    inflight,
  };
  if (script.hang) return;
  if (script.firstTokenDelayMs > 0) await sleep(script.firstTokenDelayMs);
  if (closed) return;

  const scripted = host.takeFailure();
  const refusal = scripted
    ? typeof scripted === 'string'
      ? dialect.failure(scripted, ctx)
      : scripted
    : dialect.refuse(ctx);
  if (refusal) {
    record.failure = scripted ? `status ${refusal.status}` : null;
    record.status = refusal.status;
    sendReply(res, refusal);
    return;
  }

  if (route === 'embeddings') {
    record.status = 200;
    send(res, 200, embeddingAnswer(ctx.model, body.input, body.encoding_format));
    record.completed = true;
    return;
  }

  const toolCalls = (route === 'chat' && script.toolCalls?.(record)) || [];
  let tokens = toolCalls.length > 0 ? [] : tokenize(script.respond ? script.respond(record) : script.reply);
  let finishReason: AnswerPlan['finishReason'] = toolCalls.length > 0 ? 'tool_calls' : 'stop';
  if (maxTokens !== null && tokens.length > maxTokens) {
    tokens = tokens.slice(0, maxTokens);
    finishReason = 'length';
  }
  const plan: AnswerPlan = {
    route,
    style: dialect.style,
    id: newId(dialect.style, route),
    created: Math.floor(Date.now() / 1000),
    model: ctx.model,
    fingerprint: dialect.fingerprint,
    tokens,
    reasoning: script.reasoning,
    finishReason,
    toolCalls: toolCalls.map((call, index) => ({
      ...call,
      id: `call_${index}_${newId(dialect.style, route).slice(-8)}`,
    })),
    promptTokens: ctx.promptTokens,
    includeUsage: record.includeUsage,
  };

  if (!record.stream) {
    await sleep(script.tokenDelayMs * tokens.length);
    if (closed) return;
    record.status = 200;
    send(res, 200, wholeAnswer(plan));
    record.completed = true;
    return;
  }

  record.status = 200;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  if (dialect.preamble) res.write(dialect.preamble(plan));
  for (const event of streamEvents(plan)) {
    if (script.failAfterChunks !== null && record.eventsSent >= script.failAfterChunks) {
      failMidStream(res, record, script.midStreamFailure, dialect.midStreamError(plan));
      return;
    }
    if (script.tokenDelayMs > 0) await sleep(script.tokenDelayMs);
    if (closed) return;
    res.write(`data: ${JSON.stringify(event)}\n\n`);
    record.eventsSent += 1;
  }
  if (script.failAfterChunks !== null && record.eventsSent >= script.failAfterChunks) {
    failMidStream(res, record, script.midStreamFailure, dialect.midStreamError(plan));
    return;
  }
  res.end('data: [DONE]\n\n');
  record.completed = true;
}

function failMidStream(
  res: ServerResponse,
  record: GenerationRecord,
  mode: GenerationScript['midStreamFailure'],
  text: string,
): void {
  record.failure = mode;
  if (mode === 'drop') {
    // Like a crashed runner: the socket closes with the chunked body unterminated. destroySoon
    // flushes what was written first (the response corks the socket until the next tick).
    res.socket?.destroySoon();
    return;
  }
  if (mode === 'stall') return;
  res.end(text);
}

function newRecord(
  req: FakeRequest,
  route: GenerationRoute,
  body: Record<string, unknown>,
): GenerationRecord {
  const options = body.stream_options as { include_usage?: unknown } | undefined;
  const header = (name: string) => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : null;
  };
  return {
    route,
    model: typeof body.model === 'string' ? body.model : null,
    stream: body.stream === true && route !== 'embeddings',
    includeUsage: options?.include_usage === true,
    messages: Array.isArray(body.messages) ? body.messages : null,
    prompt: route === 'embeddings' ? body.input : body.prompt,
    requestId: header('x-request-id'),
    authorization: header('authorization'),
    body,
    status: null,
    eventsSent: 0,
    completed: false,
    aborted: false,
    failure: null,
    startedAt: Date.now(),
    endedAt: null,
  };
}

/** Send an error reply: JSON for objects, text for strings. */
export function sendReply(res: ServerResponse, reply: ErrorReply): void {
  const isText = typeof reply.body === 'string';
  res.writeHead(reply.status, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    ...reply.headers,
  });
  res.end(isText ? (reply.body as string) : JSON.stringify(reply.body));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function numberOr(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
