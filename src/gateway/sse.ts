// Server-sent events in OpenAI's streaming format (BACKENDS.md §6.2): `data: <json>\n\n`
// per chunk, then `data: [DONE]\n\n`. Usage reaches the client only when it asked
// (`stream_options.include_usage`): `usage: null` on every chunk, then one `choices: []`
// chunk carrying it. A failure after the first byte becomes a `data: {"error":…}` event.
import type { ServerResponse } from 'node:http';
import type { JsonObject, Usage } from '../inference/types.js';
import { wireUsage } from '../inference/wire-usage.js';
import type { OpenAIErrorObject } from './error-map.js';
import type { Headers } from './respond.js';

const DONE = 'data: [DONE]\n\n';

/** Fields the synthesized usage chunk copies from the stream's chunks. */
export interface ChunkDefaults {
  id: string;
  object: string;
  model: string;
}

/** Writes one OpenAI stream to an HTTP response. */
export class SseWriter {
  private readonly res: ServerResponse;
  private readonly includeUsage: boolean;
  private readonly defaults: ChunkDefaults;
  private created = Math.floor(Date.now() / 1000);
  private usageSent = false;
  private heldUsage: unknown = null;
  private closed = false;

  constructor(res: ServerResponse, includeUsage: boolean, defaults: ChunkDefaults) {
    this.res = res;
    this.includeUsage = includeUsage;
    this.defaults = { ...defaults };
  }

  /** True once the status line and headers went out. */
  get started(): boolean {
    return this.res.headersSent;
  }

  /** Send 200 and the event-stream headers now, so the client learns who serves it. */
  open(headers: Headers): void {
    if (this.res.headersSent || this.res.destroyed) return;
    this.res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    this.res.flushHeaders();
  }

  /** Write one chunk, applying the usage rule. */
  chunk(chunk: JsonObject): void {
    if (this.closed) return;
    this.remember(chunk);
    const usage = chunk['usage'];
    const choices = chunk['choices'];
    const hasChoices = Array.isArray(choices) && choices.length > 0;
    if (!this.includeUsage) {
      if (usage === undefined) this.write(chunk);
      else if (hasChoices) this.write(withoutUsage(chunk));
      return;
    }
    if (usage === null || usage === undefined) {
      this.write(usage === null ? chunk : { ...chunk, usage: null });
    } else if (hasChoices) {
      this.heldUsage = usage;
      this.write({ ...chunk, usage: null });
    } else {
      this.usageSent = true;
      this.write({ ...chunk, choices: [] });
    }
  }

  /** End normally: the usage chunk (if asked and not yet sent), then `[DONE]`. */
  finish(usage: Usage | null): void {
    if (this.closed) return;
    if (this.includeUsage && !this.usageSent) {
      const wire = this.heldUsage ?? (usage ? wireUsage(usage) : null);
      if (wire !== null) {
        const { id, object, model } = this.defaults;
        this.write({ id, object, created: this.created, model, choices: [], usage: wire });
      }
    }
    this.closed = true;
    if (!this.res.destroyed) this.res.end(DONE);
  }

  /** End with an error event (no `[DONE]`), as OpenAI does mid-stream. */
  fail(error: OpenAIErrorObject): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.res.destroyed) this.res.end(`data: ${JSON.stringify({ error })}\n\n`);
  }

  private write(chunk: JsonObject): void {
    if (this.res.destroyed) return;
    if (!this.res.headersSent) this.open({});
    this.res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  }

  private remember(chunk: JsonObject): void {
    const { id, object, model, created } = chunk;
    if (typeof id === 'string') this.defaults.id = id;
    if (typeof object === 'string') this.defaults.object = object;
    if (typeof model === 'string') this.defaults.model = model;
    if (typeof created === 'number') this.created = created;
  }
}

function withoutUsage(chunk: JsonObject): JsonObject {
  const copy = { ...chunk };
  delete copy['usage'];
  return copy;
}
