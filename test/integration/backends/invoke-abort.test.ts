// Cancellation and connection reuse: aborting stops the server's generation (the fake sees its
// client leave), a consumer that throws stops it too, and sequential requests share warm sockets.
import { type AddressInfo, createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { type InvokeTarget, invokeBackend } from '../../../src/backends/invoke.js';
import { closeInvokeAgents } from '../../../src/backends/invoke-http.js';
import type { JsonObject } from '../../../src/inference/types.js';
import { FakeLlamaCpp } from '../../fakes/llamacpp.js';
import { FakeOllama } from '../../fakes/ollama.js';
import { FakeVllm } from '../../fakes/vllm.js';
import { rejected } from '../../helpers/expect-error.js';
import { useFakes } from './helpers.js';

const start = useFakes();
afterAll(() => closeInvokeAgents());

const messages = [{ role: 'user', content: 'write a long story' }];
const LONG = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');

/** One non-streaming chat request to `target`. */
const chatOnce = (target: InvokeTarget) =>
  invokeBackend(
    target,
    { kind: 'chat', body: { messages }, stream: false },
    { signal: new AbortController().signal },
  );

describe('aborting a request', () => {
  it('mid-stream: rejects with AbortError at once and the server sees its client leave', async () => {
    const fake = await start(new FakeOllama());
    fake.behave({ reply: LONG, tokenDelayMs: 10 });
    const controller = new AbortController();
    const chunks: JsonObject[] = [];
    const pending = invokeBackend(
      { kind: 'ollama', baseUrl: fake.url, model: 'm' },
      { kind: 'chat', body: { messages }, stream: true },
      {
        signal: controller.signal,
        onChunk: (c) => {
          chunks.push(c);
          if (chunks.length === 3) controller.abort();
        },
      },
    );
    const err = await rejected(pending);
    expect((err as Error).name).toBe('AbortError');
    expect(chunks).toHaveLength(3);
    await expect.poll(() => fake.generations[0]?.aborted, { timeout: 1000 }).toBe(true);
    expect(fake.generations[0]!.completed).toBe(false);
    expect(fake.generations[0]!.eventsSent).toBeLessThan(20);
    expect(fake.inflight).toBe(0);
  });

  it('before the answer starts (server still thinking): the server sees the disconnect', async () => {
    const fake = await start(new FakeVllm());
    fake.behave({ hang: true });
    const controller = new AbortController();
    const pending = invokeBackend(
      { kind: 'vllm', baseUrl: fake.url, model: 'm' },
      { kind: 'chat', body: { messages }, stream: false },
      { signal: controller.signal },
    );
    await expect.poll(() => fake.inflight).toBe(1);
    controller.abort();
    expect(((await rejected(pending)) as Error).name).toBe('AbortError');
    await expect.poll(() => fake.generations[0]?.aborted, { timeout: 1000 }).toBe(true);
  });

  it('keeps the abort reason when it is an AbortError, and sends nothing when already aborted', async () => {
    const fake = await start(new FakeVllm());
    const controller = new AbortController();
    const reason = new DOMException('client went away', 'AbortError');
    controller.abort(reason);
    const err = await rejected(
      invokeBackend(
        { kind: 'vllm', baseUrl: fake.url, model: 'm' },
        { kind: 'chat', body: { messages }, stream: true },
        { signal: controller.signal },
      ),
    );
    expect(err).toBe(reason);
    expect(fake.generations).toHaveLength(0);
  });

  it('a consumer that throws stops the upstream generation and gets its own error back', async () => {
    const fake = await start(new FakeLlamaCpp());
    fake.behave({ reply: LONG, tokenDelayMs: 5 });
    const boom = new Error('gateway client disconnected');
    const err = await rejected(
      invokeBackend(
        { kind: 'llamacpp', baseUrl: fake.url, model: 'm' },
        { kind: 'chat', body: { messages }, stream: true },
        {
          signal: new AbortController().signal,
          onChunk: () => {
            throw boom;
          },
        },
      ),
    );
    expect(err).toBe(boom);
    await expect.poll(() => fake.generations[0]?.aborted, { timeout: 1000 }).toBe(true);
  });
});

describe('connection reuse', () => {
  it('sequential requests, streamed or not, ride one keep-alive socket', async () => {
    const fake = await start(new FakeVllm());
    const target: InvokeTarget = { kind: 'vllm', baseUrl: fake.url, model: 'm' };
    for (let i = 0; i < 20; i++) {
      const stream = i % 2 === 0;
      const result = await invokeBackend(
        target,
        { kind: i % 5 === 4 ? 'embeddings' : 'chat', body: { messages, input: 'x' }, stream },
        { signal: new AbortController().signal, onChunk: () => {} },
      );
      expect(result.usage).not.toBeNull();
    }
    expect(fake.generations).toHaveLength(20);
    expect(fake.connections).toBeLessThanOrEqual(2);
  });

  it('parallel requests open one socket each, and the server sees them all at once', async () => {
    const fake = await start(new FakeOllama());
    fake.behave({ reply: 'a b c d e', tokenDelayMs: 10 });
    const target: InvokeTarget = { kind: 'ollama', baseUrl: fake.url, model: 'm' };
    const run = () =>
      invokeBackend(
        target,
        { kind: 'chat', body: { messages }, stream: true },
        { signal: new AbortController().signal },
      );
    await Promise.all(Array.from({ length: 6 }, run));
    expect(fake.maxInflightSeen).toBe(6);
    expect(fake.connections).toBeLessThanOrEqual(6);
    // A second burst reuses the warm sockets.
    await Promise.all(Array.from({ length: 6 }, run));
    expect(fake.connections).toBeLessThanOrEqual(6);
    expect(fake.inflight).toBe(0);
  });

  it('resends once on a fresh socket when a pooled one was reset by the server (idle-close race)', async () => {
    // A raw server: its first connection answers once, then resets on the next request, as a
    // server closing an idle keep-alive socket just as we reuse it would.
    let accepted = 0;
    const server = createServer((sock) => {
      const connection = ++accepted;
      let answered = 0;
      sock.on('data', (bytes: Buffer) => {
        if (!bytes.toString('latin1').startsWith('POST ')) return;
        if (connection === 1 && answered === 1) {
          sock.resetAndDestroy();
          return;
        }
        answered += 1;
        const body = JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: 'm',
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        });
        sock.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
            `connection: keep-alive\r\n\r\n${body}`,
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const target: InvokeTarget = { kind: 'openai', baseUrl: `http://127.0.0.1:${port}`, model: 'm' };
      await chatOnce(target);
      await expect(chatOnce(target)).resolves.toMatchObject({ finishReason: 'stop' });
      expect(accepted).toBe(2);
    } finally {
      closeInvokeAgents();
      await new Promise((r) => server.close(r));
    }
  });

  it('survives the server restarting between requests', async () => {
    const fake = await start(new FakeVllm());
    const target: InvokeTarget = { kind: 'vllm', baseUrl: fake.url, model: 'm' };
    await chatOnce(target);
    await fake.stop();
    await fake.start();
    await expect(chatOnce(target)).resolves.toMatchObject({ finishReason: 'stop' });
  });
});
