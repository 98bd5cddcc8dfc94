// What a fake does when asked to generate, and what it records about each generation request.
// Tests script behaviour with `fake.behave({...})`; the same script drives every fake, and each
// fake renders it in its own server's wire format (see dialects.ts).

/** Failures every fake can render in its own server's error format. */
export type FailureKind =
  | 'model-not-found'
  | 'context-length'
  | 'overloaded'
  | 'quota'
  | 'server-error'
  | 'bad-request'
  | 'unauthorized';

/** An error answer: status, body (object → JSON, string → as is) and extra headers. */
export interface ErrorReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** How a stream ends early: an error event, the socket dropped, or silence until the client leaves. */
export type MidStreamFailure = 'error-event' | 'drop' | 'stall';

/** The scriptable behaviour of a fake's generation routes. */
export interface GenerationScript {
  /** The answer; split into tokens at word starts ("Hello", " world"). */
  reply: string;
  /** Reasoning sent before the answer (delta.reasoning / reasoning_content), '' for none. */
  reasoning: string;
  /** Wait before the answer starts (before response headers). */
  firstTokenDelayMs: number;
  /** Wait before each streamed event. */
  tokenDelayMs: number;
  /** Refuse before generating, in the server's format. */
  failWith: FailureKind | ErrorReply | null;
  /** How many requests failWith applies to (then it clears); null: every request. */
  failTimes: number | null;
  /** Stop the stream after this many data events (0: right after the headers). */
  failAfterChunks: number | null;
  midStreamFailure: MidStreamFailure;
  /** Never answer: no headers, nothing, until the client disconnects. */
  hang: boolean;
  /** The answer to this request, chosen per call (model, prompt, count so far); null: `reply`. */
  respond: ((record: GenerationRecord) => string) | null;
  /** Chat only: tool calls to answer this request with instead of text (none: null or []). */
  toolCalls: ((record: GenerationRecord) => FakeToolCall[] | null) | null;
}

/** A function call the fake model makes; `arguments` is the JSON text, as OpenAI sends it. */
export interface FakeToolCall {
  name: string;
  arguments: string;
}

/** The default script: a short answer, at once. */
export const DEFAULT_SCRIPT: GenerationScript = {
  reply: 'Hello from the fake server.',
  reasoning: '',
  firstTokenDelayMs: 0,
  tokenDelayMs: 0,
  failWith: null,
  failTimes: null,
  failAfterChunks: null,
  midStreamFailure: 'error-event',
  hang: false,
  respond: null,
  toolCalls: null,
};

/** The OpenAI routes the fakes serve. */
export type GenerationRoute = 'chat' | 'completions' | 'embeddings';

/** One generation request as a fake saw it, updated until it ends. */
export interface GenerationRecord {
  route: GenerationRoute;
  model: string | null;
  stream: boolean;
  /** stream_options.include_usage as sent. */
  includeUsage: boolean;
  messages: unknown[] | null;
  /** completions `prompt` / embeddings `input`, as sent. */
  prompt: unknown;
  /** The `x-request-id` header, null when not sent. */
  requestId: string | null;
  authorization: string | null;
  /** The whole request body as parsed. */
  body: Record<string, unknown>;
  /** Status answered (200 for streams), null before the headers went out. */
  status: number | null;
  /** Data events written (streaming). */
  eventsSent: number;
  /** The whole answer was sent. */
  completed: boolean;
  /** The client disconnected before the answer was complete. */
  aborted: boolean;
  /** Which scripted failure was applied, null when none. */
  failure: string | null;
  startedAt: number;
  endedAt: number | null;
}

/** Tokens of a reply: each word with the whitespace before it. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** Prompt size in "tokens" (words) of messages, a prompt or an input, as the fakes count them. */
export function countPromptTokens(value: unknown): number {
  if (typeof value === 'string') return tokenize(value).length;
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + countPromptTokens(v), 0);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return countPromptTokens(o.content ?? o.text ?? '');
  }
  return 0;
}
