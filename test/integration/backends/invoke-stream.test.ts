// invokeBackend against every fake, on the happy path: the canonical chunk sequence whatever the
// server's own shape, usage always known, non-streamed bodies as sent, and what the server saw.
import { afterAll, describe, expect, it } from 'vitest';
import { type InvokeTarget, invokeBackend } from '../../../src/backends/invoke.js';
import { closeInvokeAgents } from '../../../src/backends/invoke-http.js';
import type { InferenceKind, JsonObject } from '../../../src/inference/types.js';
import type { FakeServer } from '../../fakes/fake-server.js';
import { FakeLlamaSwap } from '../../fakes/llama-swap.js';
import { FakeLlamaCpp } from '../../fakes/llamacpp.js';
import { FakeLmStudio } from '../../fakes/lmstudio.js';
import { FakeOllama } from '../../fakes/ollama.js';
import { FakeOpenAi } from '../../fakes/openai.js';
import { FakeVllm } from '../../fakes/vllm.js';
import { useFakes } from './helpers.js';

const start = useFakes();
afterAll(() => closeInvokeAgents());

const REPLY = 'The quick brown fox jumps.';
const messages = [{ role: 'user', content: 'say something short' }];

type Choice = { index: number; delta: Record<string, unknown>; text?: string; finish_reason: string | null };
const choice0 = (c: JsonObject) => (c.choices as Choice[])[0]!;

async function stream(target: InvokeTarget, kind: InferenceKind = 'chat', body: JsonObject = { messages }) {
  const chunks: JsonObject[] = [];
  const result = await invokeBackend(
    target,
    { kind, body: { model: 'client-alias', ...body, stream: true }, stream: true },
    {
      signal: new AbortController().signal,
      onChunk: (c) => chunks.push(c),
      requestId: 'req-42',
      timeoutMs: 5000,
    },
  );
  return { chunks, result };
}

// BACKENDS.md §6.2: one id and created, role first only, content between, empty-delta finish last.
function expectCanonicalChat(chunks: JsonObject[], finish = 'stop'): string {
  expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  expect(new Set(chunks.map((c) => c.created)).size).toBe(1);
  expect(chunks.every((c) => c.object === 'chat.completion.chunk' && !('usage' in c))).toBe(true);
  expect(choice0(chunks[0]!).delta.role).toBe('assistant');
  expect(chunks.slice(1).some((c) => 'role' in choice0(c).delta)).toBe(false);
  expect(chunks.slice(0, -1).every((c) => choice0(c).finish_reason === null)).toBe(true);
  expect(choice0(chunks.at(-1)!)).toMatchObject({ delta: {}, finish_reason: finish });
  return chunks.map((c) => (choice0(c).delta.content as string | null | undefined) ?? '').join('');
}

interface Case {
  name: string;
  make: () => FakeServer<object>;
  /** How the target reaches it: local kind (base URL) or cloud (base URL with /v1). */
  target: (url: string) => InvokeTarget;
}

const cases: Case[] = [
  {
    name: 'Ollama ≥v0.32.6',
    make: () => new FakeOllama({ models: [{ name: 'llama3.2:latest' }] }),
    target: (u) => ({ kind: 'ollama', baseUrl: u, model: 'llama3.2:latest' }),
  },
  {
    name: 'Ollama ≤v0.32.5',
    make: () => new FakeOllama({ shape: 'legacy', version: '0.32.5', models: [{ name: 'llama3.2:latest' }] }),
    target: (u) => ({ kind: 'ollama', baseUrl: u, model: 'llama3.2' }),
  },
  {
    name: 'llama.cpp current',
    make: () => new FakeLlamaCpp(),
    target: (u) => ({ kind: 'llamacpp', baseUrl: `${u}/v1/`, model: 'local' }),
  },
  {
    name: 'llama.cpp b6097 (usage on finish chunk)',
    make: () => new FakeLlamaCpp({ shape: 'legacy' }),
    target: (u) => ({ kind: 'llamacpp', baseUrl: u, model: 'local' }),
  },
  {
    name: 'vLLM',
    make: () => new FakeVllm({ models: [{ id: 'Qwen/Qwen2.5-7B-Instruct' }] }),
    target: (u) => ({ kind: 'vllm', baseUrl: u, model: 'Qwen/Qwen2.5-7B-Instruct' }),
  },
  {
    name: 'llama-swap',
    make: () => new FakeLlamaSwap({ models: [{ id: 'qwen-coder' }] }),
    target: (u) => ({ kind: 'llama-swap', baseUrl: u, model: 'qwen-coder' }),
  },
  {
    name: 'llama-swap with loading state',
    make: () => new FakeLlamaSwap({ models: [{ id: 'qwen-coder' }], sendLoadingState: true }),
    target: (u) => ({ kind: 'llama-swap', baseUrl: u, model: 'qwen-coder' }),
  },
  {
    name: 'LM Studio',
    make: () => new FakeLmStudio({ models: [{ id: 'qwen2.5-7b-instruct' }] }),
    target: (u) => ({ kind: 'lmstudio', baseUrl: u, model: 'qwen2.5-7b-instruct' }),
  },
  {
    name: 'OpenAI-compatible with a key',
    make: () => new FakeOpenAi({ apiKey: 'sk-test', models: [{ id: 'gpt-4o' }] }),
    target: (u) => ({ kind: 'openai', baseUrl: u, apiKey: 'sk-test', model: 'gpt-4o' }),
  },
  {
    name: 'cloud: OpenRouter (comments)',
    make: () => new FakeOpenAi({ flavour: 'openrouter', apiKey: 'or-key' }),
    target: (u) => ({ kind: 'cloud', baseUrl: `${u}/v1`, apiKey: 'or-key', model: 'openai/gpt-4o' }),
  },
];

describe.each(cases)('invokeBackend on $name', ({ make, target }) => {
  it('streams chat as the canonical chunk sequence with usage known', async () => {
    const fake = await start(make());
    fake.behave({ reply: REPLY });
    const t = target(fake.url);
    const { chunks, result } = await stream(t);
    expect(expectCanonicalChat(chunks)).toBe(REPLY);
    expect(result).toMatchObject({ body: null, finishReason: 'stop', chunks: chunks.length });
    expect(result.usage).toEqual({ promptTokens: 3, completionTokens: 5, totalTokens: 8 });
    expect(result.firstTokenMs).toEqual(expect.any(Number));
    // What the server saw: its own model name, a stream asking for usage, our request id and key.
    const seen = fake.generations.at(-1)!;
    expect(seen).toMatchObject({
      route: 'chat',
      model: t.model,
      stream: true,
      includeUsage: true,
      requestId: 'req-42',
      completed: true,
      aborted: false,
    });
    expect(seen.messages).toEqual(messages);
    expect(seen.authorization).toBe(t.apiKey ? `Bearer ${t.apiKey}` : null);
  });

  it('answers non-streamed chat with the body as sent and its usage', async () => {
    const fake = await start(make());
    fake.behave({ reply: REPLY });
    const result = await invokeBackend(
      target(fake.url),
      {
        kind: 'chat',
        body: { model: 'client-alias', messages, stream_options: { include_usage: true } },
        stream: false,
      },
      { signal: new AbortController().signal },
    );
    const body = result.body as { object: string; choices: Array<{ message: { content: string } }> };
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0]!.message.content).toBe(REPLY);
    expect(result).toMatchObject({ finishReason: 'stop', chunks: 0 });
    expect(result.usage).toEqual({ promptTokens: 3, completionTokens: 5, totalTokens: 8 });
    // stream_options is refused by OpenAI when not streaming: it must not be forwarded.
    expect(fake.generations.at(-1)!.body).not.toHaveProperty('stream_options');
    expect(fake.generations.at(-1)!.stream).toBe(false);
  });

  it('streams completions as text chunks with a separate finish chunk', async () => {
    const fake = await start(make());
    fake.behave({ reply: 'Once upon a time' });
    const { chunks, result } = await stream(target(fake.url), 'completions', { prompt: 'Tell a story' });
    const choices = chunks.map(choice0);
    expect(choices.map((c) => c.text).join('')).toBe('Once upon a time');
    expect(choices.at(-1)).toMatchObject({ text: '', finish_reason: 'stop' });
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    expect(result.usage).toEqual({ promptTokens: 3, completionTokens: 4, totalTokens: 7 });
  });

  it('returns embeddings (never streamed, even when asked)', async () => {
    const fake = await start(make());
    const result = await invokeBackend(
      target(fake.url),
      { kind: 'embeddings', body: { model: 'x', input: ['one two', 'three'] }, stream: true },
      { signal: new AbortController().signal },
    );
    expect((result.body as { data: unknown[] }).data).toHaveLength(2);
    expect(result.usage).toEqual({ promptTokens: 3, completionTokens: 0, totalTokens: 3 });
    expect(fake.generations.at(-1)!.body).not.toHaveProperty('stream');
  });
});

describe('invokeBackend stream details', () => {
  it('honours max_tokens: finish reason length', async () => {
    const fake = await start(new FakeVllm());
    fake.behave({ reply: 'one two three four five six' });
    const { chunks, result } = await stream({ kind: 'vllm', baseUrl: fake.url, model: 'm' }, 'chat', {
      messages,
      max_tokens: 2,
    });
    expect(expectCanonicalChat(chunks, 'length')).toBe('one two');
    expect(result.finishReason).toBe('length');
  });

  it('passes reasoning through in the server’s own field', async () => {
    const ollama = await start(new FakeOllama());
    ollama.behave({ reasoning: 'thinking hard', reply: 'Yes.' });
    const a = await stream({ kind: 'ollama', baseUrl: ollama.url, model: 'm' });
    expect(a.chunks.some((c) => choice0(c).delta.reasoning === 'thinking hard')).toBe(true);
    const vllm = await start(new FakeVllm());
    vllm.behave({ reasoning: 'thinking hard', reply: 'Yes.' });
    const b = await stream({ kind: 'vllm', baseUrl: vllm.url, model: 'm' });
    expect(b.chunks.some((c) => choice0(c).delta.reasoning_content === 'thinking hard')).toBe(true);
    expect(expectCanonicalChat(b.chunks)).toBe('Yes.');
  });

  it('keeps the client’s other stream_options and forces include_usage', async () => {
    const fake = await start(new FakeVllm());
    await stream({ kind: 'vllm', baseUrl: fake.url, model: 'm' }, 'chat', {
      messages,
      stream_options: { include_usage: false, continuous_usage_stats: true },
    });
    expect(fake.generations.at(-1)!.body.stream_options).toEqual({
      include_usage: true,
      continuous_usage_stats: true,
    });
  });
});
