// Turns every server's streaming chunks into the canonical OpenAI sequence (BACKENDS.md §6.2),
// pure: one id and one `created` for the whole response, the role on the first chunk only (which
// is also the first to carry output), content in the chunks between, and the finish reason on a
// chunk of its own with an empty delta. Old Ollama (≤v0.32.5: role on every chunk, finish on the last content chunk), llama.cpp
// (usage and timings on the finish chunk), llama-swap's loading chunks (no id/model/created) and
// usage chunks with `choices` empty, null or missing all come out the same. Usage is kept aside,
// never emitted, so the gateway decides what its client sees.
import type { InferenceKind, JsonObject, Usage } from '../../inference/types.js';

/** What one upstream event meant. */
export type StreamStep =
  /** Canonical chunks to deliver, in order (possibly none: a usage or keep-alive chunk). */
  | { type: 'chunks'; chunks: JsonObject[] }
  /** The server reported a failure inside the stream; `body` is the event as sent. */
  | { type: 'error'; body: JsonObject }
  /** `data: [DONE]`. */
  | { type: 'done' }
  /** Not JSON, or JSON that is no chunk at all. */
  | { type: 'invalid'; data: string };

/** How a normaliser names what it emits. */
export interface NormaliserOptions {
  kind: Exclude<InferenceKind, 'embeddings'>;
  /** The model asked for; used when the server's chunks do not say. */
  model: string;
  /** Unix seconds now; injectable for tests. */
  nowS?: () => number;
  /** A fresh response id, used when the server's first chunk has none. */
  newId?: () => string;
}

interface Identity {
  id: string;
  created: number;
  model: string;
  fingerprint: string | null;
}

/** Normalises one response's chunks; create one per upstream response. */
export class StreamNormaliser {
  /** The last usage the server reported (usage chunk, finish chunk, or running totals). */
  usage: Usage | null = null;
  /** finish_reason of the first choice to finish; null until one does. */
  finishReason: string | null = null;
  /** True once `[DONE]` arrived. */
  done = false;
  private identity: Identity | null = null;
  private seenId: string | null = null;
  private seenCreated: number | null = null;
  private seenFingerprint: string | null = null;
  private readonly started = new Set<number>();
  private readonly finished = new Set<number>();

  constructor(private readonly opts: NormaliserOptions) {}

  /** True once any choice has finished: the answer is complete even if `[DONE]` never comes. */
  get complete(): boolean {
    return this.finished.size > 0;
  }

  /** Feed one SSE `data` payload. */
  push(data: string): StreamStep {
    if (data.trim() === '[DONE]') {
      this.done = true;
      return { type: 'done' };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      return { type: 'invalid', data };
    }
    return this.pushObject(raw, data);
  }

  /** Feed one already parsed chunk (also a whole non-streamed answer, see completionAsChunk). */
  pushObject(raw: unknown, data = ''): StreamStep {
    if (!isObject(raw)) return { type: 'invalid', data: data || JSON.stringify(raw) };
    if (isErrorEvent(raw)) return { type: 'error', body: raw };
    this.remember(raw);
    if (isObject(raw.usage)) {
      const usage = parseUsage(raw.usage);
      // Ollama's /v1/completions puts zero usage on every chunk before the real one: never let zeros win.
      if (usage && (this.usage === null || usage.totalTokens > 0)) this.usage = usage;
    }
    if (!Array.isArray(raw.choices)) {
      return 'usage' in raw || 'id' in raw ? { type: 'chunks', chunks: [] } : { type: 'invalid', data };
    }
    const chunks: JsonObject[] = [];
    for (const choice of raw.choices) {
      if (isObject(choice)) chunks.push(...this.choice(choice));
    }
    return { type: 'chunks', chunks };
  }

  private remember(raw: JsonObject): void {
    if (this.seenId === null && typeof raw.id === 'string' && raw.id !== '') this.seenId = raw.id;
    if (this.seenCreated === null && typeof raw.created === 'number') this.seenCreated = raw.created;
    if (this.seenFingerprint === null && typeof raw.system_fingerprint === 'string') {
      this.seenFingerprint = raw.system_fingerprint;
    }
  }

  private choice(choice: JsonObject): JsonObject[] {
    const index = typeof choice.index === 'number' ? choice.index : 0;
    const finish =
      typeof choice.finish_reason === 'string' && choice.finish_reason !== '' ? choice.finish_reason : null;
    const out: JsonObject[] = [];
    const first = !this.started.has(index);
    const body = this.opts.kind === 'chat' ? chatDelta(choice, first) : completionText(choice);
    // A role-only opening chunk waits to ride on the first output: until something is generated,
    // nothing has reached the client and a fallback to another server stays invisible.
    if (hasOutput(body) || (first && finish !== null)) {
      this.started.add(index);
      const extra = choice.logprobs != null ? { logprobs: choice.logprobs } : {};
      out.push(this.chunk(index, body, null, extra));
    }
    if (finish !== null && !this.finished.has(index)) {
      this.finished.add(index);
      this.finishReason ??= finish;
      out.push(this.chunk(index, this.opts.kind === 'chat' ? { delta: {} } : { text: '' }, finish, {}));
    }
    return out;
  }

  private chunk(index: number, body: JsonObject, finish: string | null, extra: JsonObject): JsonObject {
    const id = this.fixIdentity();
    const chat = this.opts.kind === 'chat';
    return {
      id: id.id,
      object: chat ? 'chat.completion.chunk' : 'text_completion',
      created: id.created,
      model: id.model,
      ...(id.fingerprint !== null ? { system_fingerprint: id.fingerprint } : {}),
      choices: [{ index, ...body, ...(chat ? {} : { logprobs: null }), ...extra, finish_reason: finish }],
    };
  }

  // Fixed at the first emitted chunk so every chunk of the response agrees, even when the server
  // changes `created` per chunk (old Ollama) or sends id-less loading chunks first (llama-swap).
  private fixIdentity(): Identity {
    if (this.identity === null) {
      const prefix = this.opts.kind === 'chat' ? 'chatcmpl-' : 'cmpl-';
      this.identity = {
        id: this.seenId ?? (this.opts.newId ?? (() => `${prefix}${randomId()}`))(),
        created: this.seenCreated ?? (this.opts.nowS ?? (() => Math.floor(Date.now() / 1000)))(),
        // The swarm's model id, never the server's own (llama-server puts a file path there).
        model: this.opts.model,
        fingerprint: this.seenFingerprint,
      };
    }
    if (this.identity.fingerprint === null && this.seenFingerprint !== null) {
      this.identity.fingerprint = this.seenFingerprint;
    }
    return this.identity;
  }
}

/** A chunk that reports a failure: an `error` member (OpenAI, vLLM, OpenRouter), vLLM's flat error, or finish `error`. */
export function isErrorEvent(raw: JsonObject): boolean {
  if (raw.error !== undefined && raw.error !== null) return true;
  if (raw.object === 'error') return true;
  return Array.isArray(raw.choices) && raw.choices.some((c) => isObject(c) && c.finish_reason === 'error');
}

/** OpenAI usage → Usage; null when it carries no token counts. Embeddings have no completion_tokens. */
export function parseUsage(raw: unknown): Usage | null {
  if (!isObject(raw)) return null;
  const prompt = count(raw.prompt_tokens);
  const completion = count(raw.completion_tokens);
  if (prompt === null && completion === null) return null;
  const total = count(raw.total_tokens) ?? (prompt ?? 0) + (completion ?? 0);
  return { promptTokens: prompt ?? 0, completionTokens: completion ?? 0, totalTokens: total };
}

/** A whole answer (from a server that ignored `stream: true`) as one chunk the normaliser can split. */
export function completionAsChunk(body: JsonObject): JsonObject {
  const choices = Array.isArray(body.choices) ? body.choices : [];
  return {
    ...body,
    choices: choices.map((c) => {
      if (!isObject(c) || !isObject(c.message)) return c;
      const { message, ...rest } = c;
      return { ...rest, delta: message };
    }),
  };
}

// The delta without the role (only the first chunk carries it); the first gets role and a content.
function chatDelta(choice: JsonObject, first: boolean): JsonObject {
  const { role: _role, ...rest } = isObject(choice.delta) ? choice.delta : {};
  if (!first) return { delta: rest };
  const content = rest.content ?? (rest.tool_calls == null ? '' : null);
  return { delta: { role: 'assistant', ...rest, content } };
}

function completionText(choice: JsonObject): JsonObject {
  return { text: typeof choice.text === 'string' ? choice.text : '' };
}

// True when a delta/text carries anything generated: content, reasoning, tool calls, refusal...
function hasOutput(body: JsonObject): boolean {
  const payload = isObject(body.delta) ? body.delta : { text: body.text };
  return Object.entries(payload).some(([k, v]) => k !== 'role' && v !== null && v !== undefined && v !== '');
}

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value) : null;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function randomId(): string {
  return globalThis.crypto.randomUUID().replaceAll('-', '');
}
