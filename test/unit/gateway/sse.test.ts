import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SseWriter } from '../../../src/gateway/sse.js';
import type { JsonObject } from '../../../src/inference/types.js';

class FakeResponse {
  headersSent = false;
  destroyed = false;
  status = 0;
  headers: Record<string, string> = {};
  text = '';
  ended = false;

  writeHead(status: number, headers: Record<string, string>): this {
    this.status = status;
    this.headers = headers;
    this.headersSent = true;
    return this;
  }
  flushHeaders(): void {}
  write(text: string): boolean {
    this.text += text;
    return true;
  }
  end(text?: string): this {
    if (text) this.text += text;
    this.ended = true;
    return this;
  }
  /** The `data:` payloads, in order. */
  events(): string[] {
    return this.text
      .split('\n\n')
      .filter((e) => e !== '')
      .map((e) => {
        expect(e.startsWith('data: ')).toBe(true);
        return e.slice(6);
      });
  }
}

const chunk = (content: string, extra: JsonObject = {}): JsonObject => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1700000000,
  model: 'm',
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
  ...extra,
});
const defaults = { id: 'chatcmpl-x', object: 'chat.completion.chunk', model: 'asked' };
const usage = { promptTokens: 3, completionTokens: 2, totalTokens: 5 };

function writer(includeUsage: boolean): { res: FakeResponse; sse: SseWriter } {
  const res = new FakeResponse();
  return { res, sse: new SseWriter(res as unknown as ServerResponse, includeUsage, defaults) };
}

describe('SSE writer', () => {
  it('sends event-stream headers on open and each chunk as a data event, then [DONE]', () => {
    const { res, sse } = writer(false);
    sse.open({ 'x-swarm-node': 'a' });
    expect(sse.started).toBe(true);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.headers['x-swarm-node']).toBe('a');
    sse.chunk(chunk('Hel'));
    sse.chunk(chunk('lo'));
    sse.finish(usage);
    const events = res.events();
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.slice(0, -1).map((e) => JSON.parse(e).choices[0].delta.content)).toEqual(['Hel', 'lo']);
    expect(res.text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(res.ended).toBe(true);
  });

  it('keeps usage from a client that did not ask for it', () => {
    const { res, sse } = writer(false);
    sse.chunk(chunk('a', { usage: null }));
    sse.chunk({
      ...chunk(''),
      choices: [],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
    sse.finish(usage);
    const events = res.events();
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[0]!)).not.toHaveProperty('usage');
  });

  it('with include_usage: usage null on chunks, then a choices:[] usage chunk from the outcome before [DONE]', () => {
    const { res, sse } = writer(true);
    sse.chunk(chunk('a'));
    sse.chunk(chunk('b'));
    sse.finish(usage);
    const events = res.events();
    expect(events).toHaveLength(4);
    expect(JSON.parse(events[0]!).usage).toBeNull();
    expect(JSON.parse(events[1]!).usage).toBeNull();
    const last = JSON.parse(events[2]!);
    expect(last).toEqual({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model: 'm',
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
    expect(events[3]).toBe('[DONE]');
  });

  it('with include_usage: passes the backend usage chunk on once, without adding another', () => {
    const { res, sse } = writer(true);
    sse.chunk(chunk('a', { usage: null }));
    sse.chunk({
      ...chunk(''),
      choices: null,
      usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 },
    });
    sse.finish(usage);
    const events = res.events();
    expect(events).toHaveLength(3);
    expect(JSON.parse(events[1]!)).toMatchObject({ choices: [], usage: { total_tokens: 10 } });
  });

  it('with include_usage: moves usage carried on a content chunk to the final chunk', () => {
    const { res, sse } = writer(true);
    sse.chunk(chunk('a', { usage: { prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 } }));
    sse.finish(null);
    const events = res.events().map((e) => (e === '[DONE]' ? e : JSON.parse(e)));
    expect(events[0].usage).toBeNull();
    expect(events[1]).toMatchObject({ choices: [], usage: { total_tokens: 8 } });
  });

  it('ends a failed stream with an error event and no [DONE]', () => {
    const { res, sse } = writer(false);
    sse.chunk(chunk('a'));
    sse.fail({ message: 'backend died', type: 'server_error', param: null, code: 'server_error' });
    sse.chunk(chunk('late'));
    const events = res.events();
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[1]!)).toEqual({
      error: { message: 'backend died', type: 'server_error', param: null, code: 'server_error' },
    });
    expect(res.ended).toBe(true);
  });

  it('writes nothing to a destroyed response', () => {
    const { res, sse } = writer(false);
    sse.open({});
    res.destroyed = true;
    sse.chunk(chunk('a'));
    sse.finish(usage);
    expect(res.text).toBe('');
  });
});
