import { describe, expect, it } from 'vitest';
import {
  completionAsChunk,
  type NormaliserOptions,
  parseUsage,
  StreamNormaliser,
  type StreamStep,
} from '../../../src/backends/stream/normalise.js';
import { SseParser } from '../../../src/backends/stream/sse.js';
import type { JsonObject } from '../../../src/inference/types.js';

type Obj = Record<string, unknown>;
const sse = (...events: Array<Obj | string>) =>
  events.map((e) => `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`).join('');

interface Run {
  chunks: JsonObject[];
  steps: StreamStep[];
  n: StreamNormaliser;
}

// Parse an SSE body cut at the given byte offsets and normalise every event.
function run(body: string, opts: Partial<NormaliserOptions> = {}, cuts: number[] = []): Run {
  const n = new StreamNormaliser({
    kind: 'chat',
    model: 'asked-model',
    nowS: () => 1_000,
    newId: () => 'gen-id',
    ...opts,
  });
  const parser = new SseParser();
  const bytes = new TextEncoder().encode(body);
  const steps: StreamStep[] = [];
  let from = 0;
  const events = [];
  for (const cut of [...cuts, bytes.length]) {
    events.push(...parser.push(bytes.subarray(from, cut)));
    from = cut;
  }
  events.push(...parser.end());
  for (const e of events) steps.push(n.push(e.data));
  const chunks = steps.flatMap((s) => (s.type === 'chunks' ? s.chunks : []));
  return { chunks, steps, n };
}

type Choice = { index: number; delta: Obj; finish_reason: string | null };
const choice0 = (c: JsonObject) => (c.choices as Choice[])[0]!;

// The canonical sequence of BACKENDS.md §6.2: one id and created, role only first, a separate
// empty-delta finish chunk last, no usage on any emitted chunk.
function expectCanonical(chunks: JsonObject[], finish = 'stop'): void {
  expect(chunks.length).toBeGreaterThanOrEqual(2);
  const ids = new Set(chunks.map((c) => c.id));
  const created = new Set(chunks.map((c) => c.created));
  expect(ids.size).toBe(1);
  expect(created.size).toBe(1);
  for (const c of chunks) {
    expect(c.object).toBe('chat.completion.chunk');
    expect(c).not.toHaveProperty('usage');
    expect(c).not.toHaveProperty('timings');
  }
  expect(choice0(chunks[0]!).delta.role).toBe('assistant');
  for (const c of chunks.slice(1)) expect(choice0(c).delta).not.toHaveProperty('role');
  for (const c of chunks.slice(0, -1)) expect(choice0(c).finish_reason).toBeNull();
  const last = choice0(chunks.at(-1)!);
  expect(last.delta).toEqual({});
  expect(last.finish_reason).toBe(finish);
}

const text = (chunks: JsonObject[]) => chunks.map((c) => choice0(c).delta.content ?? '').join('');

const head = {
  id: 'chatcmpl-7',
  object: 'chat.completion.chunk',
  model: 'llama3.2',
  system_fingerprint: 'fp_ollama',
};

// Ollama ≥v0.32.6 (BACKENDS.md §1.8): role with the first content, separate finish, usage chunk.
const ollamaNew = sse(
  {
    ...head,
    created: 100,
    choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }],
  },
  { ...head, created: 100, choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: null }] },
  { ...head, created: 100, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
  { ...head, created: 100, choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } },
  '[DONE]',
);

// Ollama ≤v0.32.5: role on every chunk, finish on the last content chunk, created per chunk.
const ollamaOld = sse(
  {
    ...head,
    created: 100,
    choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }],
  },
  {
    ...head,
    created: 101,
    choices: [{ index: 0, delta: { role: 'assistant', content: 'lo' }, finish_reason: null }],
  },
  {
    ...head,
    created: 102,
    choices: [{ index: 0, delta: { role: 'assistant', content: '!' }, finish_reason: 'stop' }],
  },
  { ...head, created: 103, choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } },
  '[DONE]',
);

const lc = {
  id: 'chatcmpl-abc',
  object: 'chat.completion.chunk',
  model: 'gpt-oss:20b',
  system_fingerprint: 'b6097-9515c613',
  created: 1754524122,
};

// llama.cpp b6097 (BACKENDS.md §4.6): content null on the role chunk, usage + timings on the finish chunk.
const llamaCppLegacy = sse(
  { ...lc, choices: [{ index: 0, delta: { role: 'assistant', content: null }, finish_reason: null }] },
  { ...lc, choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] },
  {
    ...lc,
    choices: [{ finish_reason: 'stop', index: 0, delta: {} }],
    usage: { completion_tokens: 247, prompt_tokens: 1085, total_tokens: 1332 },
    timings: { prompt_n: 1085, predicted_n: 247 },
  },
  '[DONE]',
);

const oa = {
  id: 'chatcmpl-AbC',
  object: 'chat.completion.chunk',
  created: 1741569952,
  model: 'gpt-4o',
  usage: null,
};

// OpenAI with include_usage: usage null everywhere, then a choices:[] usage chunk.
const openAi = sse(
  {
    ...oa,
    choices: [
      {
        index: 0,
        delta: { role: 'assistant', content: '', refusal: null },
        logprobs: null,
        finish_reason: null,
      },
    ],
  },
  { ...oa, choices: [{ index: 0, delta: { content: 'Hel' }, logprobs: null, finish_reason: null }] },
  { ...oa, choices: [{ index: 0, delta: { content: 'lo' }, logprobs: null, finish_reason: null }] },
  { ...oa, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'length' }] },
  { ...oa, choices: [], usage: { prompt_tokens: 19, completion_tokens: 2, total_tokens: 21 } },
  '[DONE]',
);

describe('StreamNormaliser: chat streams of each server', () => {
  it('Ollama ≥v0.32.6: canonical already; usage from the usage chunk', () => {
    const { chunks, n } = run(ollamaNew);
    expectCanonical(chunks);
    expect(text(chunks)).toBe('Hello');
    expect(chunks[0]).toMatchObject({
      id: 'chatcmpl-7',
      created: 100,
      // The swarm's model id, whatever the server named.
      model: 'asked-model',
      system_fingerprint: 'fp_ollama',
    });
    expect(n.usage).toEqual({ promptTokens: 5, completionTokens: 2, totalTokens: 7 });
    expect(n.finishReason).toBe('stop');
    expect(n.done).toBe(true);
  });

  it('Ollama ≤v0.32.5: strips the repeated role, splits finish off the last content chunk, one created', () => {
    const { chunks, n } = run(ollamaOld);
    expectCanonical(chunks);
    expect(chunks).toHaveLength(4);
    expect(text(chunks)).toBe('Hello!');
    expect(choice0(chunks[2]!).delta).toEqual({ content: '!' });
    expect(new Set(chunks.map((c) => c.created))).toEqual(new Set([100]));
    expect(n.usage).toEqual({ promptTokens: 5, completionTokens: 3, totalTokens: 8 });
  });

  it('llama.cpp legacy: usage taken from the finish chunk, timings dropped, the role-only chunk merged into the first content', () => {
    const { chunks, n } = run(llamaCppLegacy);
    expectCanonical(chunks);
    expect(chunks).toHaveLength(2);
    expect(choice0(chunks[0]!).delta).toEqual({ role: 'assistant', content: 'Hi' });
    expect(n.usage).toEqual({ promptTokens: 1085, completionTokens: 247, totalTokens: 1332 });
  });

  it('OpenAI: usage chunk kept aside, usage:null never emitted, finish reason length', () => {
    const { chunks, n, steps } = run(openAi);
    expectCanonical(chunks, 'length');
    expect(chunks).toHaveLength(3);
    expect(choice0(chunks[0]!).delta).toEqual({ role: 'assistant', content: 'Hel' });
    expect(steps.at(-2)).toEqual({ type: 'chunks', chunks: [] });
    expect(n.usage).toEqual({ promptTokens: 19, completionTokens: 2, totalTokens: 21 });
    expect(n.finishReason).toBe('length');
  });

  it('accepts usage chunks whose choices are null or missing', () => {
    for (const extra of [{ choices: null }, {}]) {
      const body = sse(
        { ...oa, choices: [{ index: 0, delta: { role: 'assistant', content: 'x' }, finish_reason: null }] },
        { ...oa, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
        { id: oa.id, ...extra, usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } },
        '[DONE]',
      );
      const { chunks, n, steps } = run(body);
      expectCanonical(chunks);
      expect(steps.every((s) => s.type !== 'invalid')).toBe(true);
      expect(n.usage).toEqual({ promptTokens: 1, completionTokens: 1, totalTokens: 2 });
    }
  });

  it('OpenRouter: comments skipped, a mid-stream error chunk is reported as an error step', () => {
    const body =
      ': OPENROUTER PROCESSING\n\n' +
      sse({
        ...oa,
        choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }],
      }) +
      ': OPENROUTER PROCESSING\n\n' +
      sse({
        ...oa,
        error: { code: 'server_error', message: 'Provider disconnected unexpectedly' },
        choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }],
      });
    const { chunks, steps, n } = run(body);
    expect(chunks).toHaveLength(1);
    expect(steps.at(-1)).toMatchObject({ type: 'error', body: { error: { code: 'server_error' } } });
    expect(n.complete).toBe(false);
  });

  it("reports OpenAI's and vLLM's error events (nested and flat) as errors", () => {
    const nested = run(sse({ error: { message: 'boom', type: 'server_error', param: null, code: null } }));
    const flat = run(sse({ object: 'error', message: 'boom', type: 'InternalServerError', code: 500 }));
    expect(nested.steps[0]!.type).toBe('error');
    expect(flat.steps[0]!.type).toBe('error');
  });

  it("llama-swap's id-less loading chunk: an id is made up and used for every chunk; reasoning passes", () => {
    const body =
      sse({ choices: [{ delta: { reasoning_content: 'llama-swap loading model: m\n' } }] }) +
      sse(
        { ...lc, choices: [{ index: 0, delta: { role: 'assistant', content: null }, finish_reason: null }] },
        { ...lc, choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] },
        { ...lc, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
        '[DONE]',
      );
    const { chunks } = run(body);
    expectCanonical(chunks);
    expect(chunks[0]).toMatchObject({ id: 'gen-id', created: 1_000, model: 'asked-model' });
    expect(choice0(chunks[0]!).delta).toEqual({
      role: 'assistant',
      reasoning_content: 'llama-swap loading model: m\n',
      content: '',
    });
    expect(text(chunks)).toBe('Hi');
  });

  it('passes delta.reasoning and tool calls through untouched', () => {
    const tool = { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } };
    const body = sse(
      {
        ...head,
        created: 1,
        choices: [
          { index: 0, delta: { role: 'assistant', content: '', reasoning: 'think' }, finish_reason: null },
        ],
      },
      { ...head, created: 1, choices: [{ index: 0, delta: { tool_calls: [tool] }, finish_reason: null }] },
      { ...head, created: 1, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
      '[DONE]',
    );
    const { chunks } = run(body);
    expectCanonical(chunks, 'tool_calls');
    expect(choice0(chunks[0]!).delta.reasoning).toBe('think');
    expect(choice0(chunks[1]!).delta).toEqual({ tool_calls: [tool] });
  });

  it('drops empty keep-alive deltas between content chunks', () => {
    const body = sse(
      { ...oa, choices: [{ index: 0, delta: { role: 'assistant', content: 'a' }, finish_reason: null }] },
      { ...oa, choices: [{ index: 0, delta: { content: '' }, finish_reason: null }] },
      { ...oa, choices: [{ index: 0, delta: { content: null }, finish_reason: null }] },
      { ...oa, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    );
    const { chunks, n } = run(body);
    expectCanonical(chunks);
    expect(chunks).toHaveLength(2);
    expect(n.done).toBe(false);
    expect(n.complete).toBe(true);
  });

  it('gives identical chunks for every byte split of an old Ollama stream', () => {
    const whole = run(ollamaOld).chunks;
    const length = new TextEncoder().encode(ollamaOld).length;
    for (let cut = 1; cut < length; cut += 7) {
      expect(run(ollamaOld, {}, [cut, Math.min(length, cut + 3)]).chunks).toEqual(whole);
    }
  });

  it('holds a role-only opening chunk until output or finish, so a failure before output delivered nothing', () => {
    const opening = sse({
      ...oa,
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    });
    expect(run(opening + sse({ error: { message: 'boom' } })).chunks).toEqual([]);
    const empty = run(
      opening + sse({ ...oa, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }, '[DONE]'),
    );
    expectCanonical(empty.chunks);
    expect(empty.chunks).toHaveLength(2);
    expect(choice0(empty.chunks[0]!).delta).toEqual({ role: 'assistant', content: '' });
  });

  it('flags non-JSON data as invalid', () => {
    expect(run(sse('not json')).steps[0]).toEqual({ type: 'invalid', data: 'not json' });
  });
});

describe('StreamNormaliser: completions', () => {
  it("uses text chunks, a separate finish chunk, and ignores Ollama's zero usage on every chunk", () => {
    const c = { id: 'cmpl-1', object: 'text_completion', created: 5, model: 'm' };
    const zero = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    const body = sse(
      { ...c, usage: zero, choices: [{ text: 'Once', index: 0, finish_reason: null }] },
      { ...c, usage: zero, choices: [{ text: ' upon', index: 0, finish_reason: null }] },
      { ...c, usage: zero, choices: [{ text: '', index: 0, finish_reason: 'stop' }] },
      { ...c, usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }, choices: [] },
      '[DONE]',
    );
    const { chunks, n } = run(body, { kind: 'completions' });
    expect(chunks.map((x) => (x.choices as Obj[])[0])).toEqual([
      { index: 0, text: 'Once', logprobs: null, finish_reason: null },
      { index: 0, text: ' upon', logprobs: null, finish_reason: null },
      { index: 0, text: '', logprobs: null, finish_reason: 'stop' },
    ]);
    expect(chunks.every((x) => x.object === 'text_completion' && x.id === 'cmpl-1')).toBe(true);
    expect(n.usage).toEqual({ promptTokens: 3, completionTokens: 2, totalTokens: 5 });
  });
});

describe('completionAsChunk and parseUsage', () => {
  it('turns a whole chat answer into a chunk the normaliser splits canonically', () => {
    const body = {
      id: 'chatcmpl-9',
      object: 'chat.completion',
      created: 3,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'All at once' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
    };
    const n = new StreamNormaliser({ kind: 'chat', model: 'm' });
    const step = n.pushObject(completionAsChunk(body));
    expect(step.type).toBe('chunks');
    const chunks = step.type === 'chunks' ? step.chunks : [];
    expectCanonical(chunks);
    expect(text(chunks)).toBe('All at once');
    expect(n.usage).toEqual({ promptTokens: 2, completionTokens: 3, totalTokens: 5 });
  });

  it('reads embeddings usage (no completion tokens) and rejects usage without counts', () => {
    expect(parseUsage({ prompt_tokens: 8, total_tokens: 8 })).toEqual({
      promptTokens: 8,
      completionTokens: 0,
      totalTokens: 8,
    });
    expect(parseUsage({ prompt_tokens: 2, completion_tokens: 3 })).toEqual({
      promptTokens: 2,
      completionTokens: 3,
      totalTokens: 5,
    });
    expect(parseUsage({})).toBeNull();
    expect(parseUsage(null)).toBeNull();
  });
});
