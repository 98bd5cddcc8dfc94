// invokeBackend's failures against the fakes: each refusal in each server's own format maps to a
// stable code with the right `retryable`, and streams that break say how much was delivered.
import { afterAll, describe, expect, it } from 'vitest';
import { type InvokeTarget, invokeBackend } from '../../../src/backends/invoke.js';
import { BackendInvokeError } from '../../../src/backends/invoke-errors.js';
import { closeInvokeAgents } from '../../../src/backends/invoke-http.js';
import { ErrorCodes } from '../../../src/errors.js';
import type { JsonObject } from '../../../src/inference/types.js';
import type { FakeServer } from '../../fakes/fake-server.js';
import type { FailureKind } from '../../fakes/generation/script.js';
import { FakeLlamaSwap } from '../../fakes/llama-swap.js';
import { FakeLlamaCpp } from '../../fakes/llamacpp.js';
import { FakeLmStudio } from '../../fakes/lmstudio.js';
import { FakeOllama } from '../../fakes/ollama.js';
import { FakeOpenAi } from '../../fakes/openai.js';
import { FakeVllm } from '../../fakes/vllm.js';
import { rejected } from '../../helpers/expect-error.js';
import { closedPortUrl, useFakes } from './helpers.js';

const start = useFakes();
afterAll(() => closeInvokeAgents());

const messages = [{ role: 'user', content: 'hello there' }];

interface Outcome {
  err: BackendInvokeError;
  chunks: JsonObject[];
}

// Run a request that must fail; return the error and what reached onChunk before it.
async function failing(
  target: InvokeTarget,
  stream: boolean,
  extra: JsonObject = {},
  timeoutMs = 5000,
): Promise<Outcome> {
  const chunks: JsonObject[] = [];
  const err = await rejected(
    invokeBackend(
      target,
      { kind: 'chat', body: { messages, ...extra }, stream },
      { signal: new AbortController().signal, onChunk: (c) => chunks.push(c), timeoutMs },
    ),
    BackendInvokeError,
  );
  return { err, chunks };
}

const brief = (e: BackendInvokeError) => ({ code: e.code, retryable: e.retryable });

type Make = () => FakeServer<object>;
const servers: Array<{ name: string; make: Make; target: (u: string) => InvokeTarget }> = [
  {
    name: 'Ollama',
    make: () => new FakeOllama(),
    target: (u) => ({ kind: 'ollama', baseUrl: u, model: 'm' }),
  },
  {
    name: 'llama.cpp',
    make: () => new FakeLlamaCpp(),
    target: (u) => ({ kind: 'llamacpp', baseUrl: u, model: 'm' }),
  },
  { name: 'vLLM', make: () => new FakeVllm(), target: (u) => ({ kind: 'vllm', baseUrl: u, model: 'm' }) },
  {
    name: 'vLLM <0.10.1',
    make: () => new FakeVllm({ version: '0.9.2' }),
    target: (u) => ({ kind: 'vllm', baseUrl: u, model: 'm' }),
  },
  {
    name: 'llama-swap',
    make: () => new FakeLlamaSwap(),
    target: (u) => ({ kind: 'llama-swap', baseUrl: u, model: 'm' }),
  },
  {
    name: 'llama-swap v170',
    make: () => new FakeLlamaSwap({ shape: 'v170' }),
    target: (u) => ({ kind: 'llama-swap', baseUrl: u, model: 'm' }),
  },
  {
    name: 'LM Studio 0.3',
    make: () => new FakeLmStudio({ apis: ['v0'] }),
    target: (u) => ({ kind: 'lmstudio', baseUrl: u, model: 'm' }),
  },
  {
    name: 'LM Studio 0.4',
    make: () => new FakeLmStudio(),
    target: (u) => ({ kind: 'lmstudio', baseUrl: u, model: 'm' }),
  },
  {
    name: 'OpenAI',
    make: () => new FakeOpenAi(),
    target: (u) => ({ kind: 'cloud', baseUrl: `${u}/v1/`, model: 'm' }),
  },
  {
    name: 'OpenRouter',
    make: () => new FakeOpenAi({ flavour: 'openrouter' }),
    target: (u) => ({ kind: 'cloud', baseUrl: `${u}/v1`, model: 'm' }),
  },
  {
    name: 'Gemini',
    make: () => new FakeOpenAi({ flavour: 'gemini' }),
    target: (u) => ({ kind: 'cloud', baseUrl: `${u}/v1`, model: 'm' }),
  },
];

const expected: Array<[FailureKind, string, boolean]> = [
  ['model-not-found', ErrorCodes.MODEL_NOT_FOUND, false],
  ['context-length', ErrorCodes.CONTEXT_LENGTH_EXCEEDED, false],
  ['overloaded', ErrorCodes.BACKEND_OVERLOADED, true],
  ['server-error', ErrorCodes.BACKEND_ERROR, true],
  ['bad-request', ErrorCodes.BACKEND_BAD_REQUEST, false],
  ['unauthorized', ErrorCodes.BACKEND_AUTH_FAILED, true],
];

describe.each(servers)('$name refusals before streaming', ({ make, target }) => {
  it.each(expected)('%s → %s', async (kind, code, retryable) => {
    const fake = await start(make());
    fake.behave({ failWith: kind });
    for (const stream of [true, false]) {
      const { err, chunks } = await failing(target(fake.url), stream);
      expect(brief(err)).toEqual({ code, retryable });
      expect(err.chunksDelivered).toBe(0);
      expect(chunks).toEqual([]);
    }
  });
});

describe('refusals the servers make on their own', () => {
  it('unknown models: Ollama, vLLM, llama-swap, LM Studio, OpenAI → MODEL_NOT_FOUND', async () => {
    const fakes: Array<[FakeServer<object>, InvokeTarget['kind']]> = [
      [new FakeOllama({ models: [{ name: 'llama3.2:latest' }] }), 'ollama'],
      [new FakeVllm({ models: [{ id: 'served' }] }), 'vllm'],
      [new FakeLlamaSwap({ models: [{ id: 'served' }] }), 'llama-swap'],
      [new FakeLmStudio({ models: [{ id: 'served' }] }), 'lmstudio'],
      [new FakeOpenAi({ models: [{ id: 'served' }] }), 'openai'],
    ];
    for (const [fake, kind] of fakes) {
      await start(fake);
      const { err } = await failing({ kind, baseUrl: fake.url, model: 'missing' }, true);
      expect(brief(err)).toEqual({ code: ErrorCodes.MODEL_NOT_FOUND, retryable: false });
      expect(err.status).toBeGreaterThanOrEqual(400);
    }
  });

  it('prompts longer than the context: vLLM max_model_len, llama.cpp n_ctx → CONTEXT_LENGTH_EXCEEDED', async () => {
    const long = 'word '.repeat(50);
    const vllm = await start(new FakeVllm({ models: [{ id: 'm', maxModelLen: 40 }] }));
    const llamacpp = await start(new FakeLlamaCpp({ nCtx: 40 }));
    for (const target of [
      { kind: 'vllm' as const, baseUrl: vllm.url, model: 'm' },
      { kind: 'llamacpp' as const, baseUrl: llamacpp.url, model: 'm' },
    ]) {
      const { err } = await failing(target, true, { messages: [{ role: 'user', content: long }] });
      expect(brief(err)).toEqual({ code: ErrorCodes.CONTEXT_LENGTH_EXCEEDED, retryable: false });
    }
  });

  it('llama-swap over its concurrencyLimit → BACKEND_OVERLOADED with the Retry-After it sent', async () => {
    const fake = await start(new FakeLlamaSwap({ concurrencyLimit: 1 }));
    fake.behave({ tokenDelayMs: 30 });
    const target: InvokeTarget = { kind: 'llama-swap', baseUrl: fake.url, model: 'm' };
    const first = invokeBackend(
      target,
      { kind: 'chat', body: { messages }, stream: true },
      { signal: new AbortController().signal },
    );
    const { err } = await failing(target, true);
    expect(brief(err)).toEqual({ code: ErrorCodes.BACKEND_OVERLOADED, retryable: true });
    expect(err.retryAfterMs).toBe(1000);
    await first;
  });

  it('Ollama past OLLAMA_MAX_QUEUE → BACKEND_OVERLOADED', async () => {
    const fake = await start(new FakeOllama({ maxQueue: 1 }));
    fake.behave({ tokenDelayMs: 30 });
    const target: InvokeTarget = { kind: 'ollama', baseUrl: fake.url, model: 'm' };
    const first = invokeBackend(
      target,
      { kind: 'chat', body: { messages }, stream: false },
      { signal: new AbortController().signal },
    );
    const { err } = await failing(target, false);
    expect(brief(err)).toEqual({ code: ErrorCodes.BACKEND_OVERLOADED, retryable: true });
    expect(err.retryAfterMs).toBeNull();
    await first;
  });

  it('llama.cpp still loading → BACKEND_OVERLOADED', async () => {
    const fake = await start(new FakeLlamaCpp({ loading: true }));
    const { err } = await failing({ kind: 'llamacpp', baseUrl: fake.url, model: 'm' }, true);
    expect(brief(err)).toEqual({ code: ErrorCodes.BACKEND_OVERLOADED, retryable: true });
  });

  it('OpenAI: quota is not overload; rate limits carry retry-after-ms; a wrong key is an auth failure', async () => {
    const fake = await start(new FakeOpenAi({ apiKey: 'right' }));
    const target: InvokeTarget = { kind: 'openai', baseUrl: fake.url, apiKey: 'right', model: 'm' };
    fake.behave({ failWith: 'quota' });
    expect(brief((await failing(target, true)).err)).toEqual({
      code: ErrorCodes.BACKEND_QUOTA_EXCEEDED,
      retryable: true,
    });
    fake.behave({ failWith: 'overloaded' });
    expect((await failing(target, true)).err.retryAfterMs).toBe(1500);
    fake.behave({ failWith: null });
    const wrongKey = (await failing({ ...target, apiKey: 'wrong' }, false)).err;
    expect(brief(wrongKey)).toEqual({ code: ErrorCodes.BACKEND_AUTH_FAILED, retryable: true });
  });

  it('OpenRouter out of credit (402) → BACKEND_QUOTA_EXCEEDED', async () => {
    const fake = await start(new FakeOpenAi({ flavour: 'openrouter' }));
    fake.behave({ failWith: 'quota' });
    const { err } = await failing({ kind: 'cloud', baseUrl: `${fake.url}/v1`, model: 'm' }, true);
    expect(brief(err)).toEqual({ code: ErrorCodes.BACKEND_QUOTA_EXCEEDED, retryable: true });
    expect(err.status).toBe(402);
  });

  it('failTimes: the failure applies to that many requests, then the server answers', async () => {
    const fake = await start(new FakeVllm());
    fake.behave({ failWith: 'overloaded', failTimes: 1 });
    const target: InvokeTarget = { kind: 'vllm', baseUrl: fake.url, model: 'm' };
    await failing(target, true);
    const ok = await invokeBackend(
      target,
      { kind: 'chat', body: { messages }, stream: false },
      { signal: new AbortController().signal },
    );
    expect(ok.finishReason).toBe('stop');
  });
});

describe('no answer at all', () => {
  it('connection refused → BACKEND_UNREACHABLE, retryable', async () => {
    const url = await closedPortUrl();
    const { err } = await failing({ kind: 'ollama', baseUrl: url, model: 'm' }, true);
    expect(brief(err)).toEqual({ code: ErrorCodes.BACKEND_UNREACHABLE, retryable: true });
  });

  it('no response headers within timeoutMs → BACKEND_TIMEOUT, and the server sees the disconnect', async () => {
    const fake = await start(new FakeLlamaSwap());
    fake.behave({ hang: true });
    const { err } = await failing({ kind: 'llama-swap', baseUrl: fake.url, model: 'm' }, true, {}, 150);
    expect(brief(err)).toEqual({ code: ErrorCodes.BACKEND_TIMEOUT, retryable: true });
    await expect.poll(() => fake.generations[0]?.aborted, { timeout: 2000 }).toBe(true);
  });
});

describe('streams that break after starting', () => {
  const cases: Array<{ name: string; make: Make; target: (u: string) => InvokeTarget }> = [
    {
      name: 'vLLM error event (then [DONE])',
      make: () => new FakeVllm(),
      target: (u) => ({ kind: 'vllm', baseUrl: u, model: 'm' }),
    },
    {
      name: 'vLLM <0.10.1 flat error event',
      make: () => new FakeVllm({ version: '0.9.2' }),
      target: (u) => ({ kind: 'vllm', baseUrl: u, model: 'm' }),
    },
    {
      name: 'llama.cpp error event',
      make: () => new FakeLlamaCpp(),
      target: (u) => ({ kind: 'llamacpp', baseUrl: u, model: 'm' }),
    },
    {
      name: 'Ollama (empty chunk, body ends without finish)',
      make: () => new FakeOllama(),
      target: (u) => ({ kind: 'ollama', baseUrl: u, model: 'm' }),
    },
    {
      name: 'OpenAI error event',
      make: () => new FakeOpenAi(),
      target: (u) => ({ kind: 'openai', baseUrl: u, model: 'm' }),
    },
    {
      name: 'OpenRouter error chunk (finish_reason error)',
      make: () => new FakeOpenAi({ flavour: 'openrouter' }),
      target: (u) => ({ kind: 'cloud', baseUrl: `${u}/v1`, model: 'm' }),
    },
    {
      name: 'LM Studio error event',
      make: () => new FakeLmStudio(),
      target: (u) => ({ kind: 'lmstudio', baseUrl: u, model: 'm' }),
    },
  ];

  it.each(cases)(
    '$name after chunks → BACKEND_STREAM_BROKEN, not retryable, chunksDelivered',
    async ({ make, target }) => {
      const fake = await start(make());
      fake.behave({ reply: 'one two three four five', failAfterChunks: 3, midStreamFailure: 'error-event' });
      const { err, chunks } = await failing(target(fake.url), true);
      expect(brief(err)).toEqual({ code: ErrorCodes.BACKEND_STREAM_BROKEN, retryable: false });
      expect(err.chunksDelivered).toBe(chunks.length);
      expect(chunks.length).toBeGreaterThan(0);
    },
  );

  it.each(cases)('$name before any chunk → BACKEND_STREAM_BROKEN, retryable', async ({ make, target }) => {
    const fake = await start(make());
    fake.behave({ failAfterChunks: 0, midStreamFailure: 'error-event' });
    const { err, chunks } = await failing(target(fake.url), true);
    expect(brief(err)).toEqual({ code: ErrorCodes.BACKEND_STREAM_BROKEN, retryable: true });
    expect(err.chunksDelivered).toBe(0);
    expect(chunks).toEqual([]);
  });

  it('the connection dropping mid-stream → BACKEND_STREAM_BROKEN with what was delivered', async () => {
    const fake = await start(new FakeLlamaSwap());
    // Three events: the role-only opening (held back), "one", " two".
    fake.behave({ reply: 'one two three four five', failAfterChunks: 3, midStreamFailure: 'drop' });
    const { err, chunks } = await failing({ kind: 'llama-swap', baseUrl: fake.url, model: 'm' }, true);
    expect(brief(err)).toEqual({ code: ErrorCodes.BACKEND_STREAM_BROKEN, retryable: false });
    expect(err.chunksDelivered).toBe(2);
    expect(chunks).toHaveLength(2);
    expect(fake.generations[0]).toMatchObject({ failure: 'drop', aborted: false });
  });

  it('a stream that goes silent past timeoutMs → BACKEND_STREAM_BROKEN, and the server is disconnected', async () => {
    const fake = await start(new FakeOllama());
    fake.behave({ reply: 'one two three', failAfterChunks: 1, midStreamFailure: 'stall' });
    const { err } = await failing({ kind: 'ollama', baseUrl: fake.url, model: 'm' }, true, {}, 200);
    expect(err.code).toBe(ErrorCodes.BACKEND_STREAM_BROKEN);
    expect(err.chunksDelivered).toBe(1);
    await expect.poll(() => fake.generations[0]?.aborted, { timeout: 2000 }).toBe(true);
  });

  it('a 2xx answer that is not JSON → BACKEND_BAD_RESPONSE', async () => {
    const fake = await start(new FakeOpenAi());
    fake.behave({
      failWith: { status: 200, body: '{"id":"x","choices":[' },
    });
    const { err } = await failing({ kind: 'openai', baseUrl: fake.url, model: 'm' }, false);
    expect(err.code).toBe(ErrorCodes.BACKEND_BAD_RESPONSE);
  });
});
