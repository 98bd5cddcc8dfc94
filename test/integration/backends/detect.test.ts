import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { detectBackend, detectBackendKind } from '../../../src/backends/detect.js';
import { FakeLlamaSwap } from '../../fakes/llama-swap.js';
import { FakeLlamaCpp } from '../../fakes/llamacpp.js';
import { FakeLmStudio } from '../../fakes/lmstudio.js';
import { FakeOllama } from '../../fakes/ollama.js';
import { FakeOpenAi } from '../../fakes/openai.js';
import { FakeVllm } from '../../fakes/vllm.js';
import { closedPortUrl, useFakes } from './helpers.js';

const start = useFakes();
const opts = { timeoutMs: 2000 };

let plain: Server | null = null;
afterEach(async () => {
  plain?.closeAllConnections();
  await new Promise<void>((r) => (plain ? plain.close(() => r()) : r()));
  plain = null;
});

describe('detectBackendKind', () => {
  it('does not take an Ollama whose `/` timed out for a plain OpenAI server', async () => {
    // What a busy box sees: every route answers but `Ollama is running` comes too late.
    plain = createServer((req, res) => {
      if (req.url === '/') {
        setTimeout(() => res.end('Ollama is running'), 1_000);
        return;
      }
      if (req.url === '/v1/models') {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({ object: 'list', data: [{ id: 'a:1', object: 'model', owned_by: 'library' }] }),
        );
        return;
      }
      res.statusCode = 404;
      res.end('404 page not found');
    });
    await new Promise<void>((r) => plain!.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
    const found = await detectBackend(url, { timeoutMs: 200 });
    expect(found.kind).toBeNull();
    expect(found.reachable).toBe(true);
    expect(found.error).toMatch(/\/ did not answer.*detecting again/);
    // Given the time, the same server is recognised.
    expect(await detectBackendKind(url, { timeoutMs: 3_000 })).toBe('ollama');
  });

  it('detects every kind from its fake', async () => {
    const cases = [
      ['ollama', new FakeOllama({ models: [{ name: 'a:1' }] })],
      ['ollama', new FakeOllama({ shape: 'legacy' })],
      ['llama-swap', new FakeLlamaSwap({ models: [{ id: 'a' }] })],
      ['llama-swap', new FakeLlamaSwap({ shape: 'v170' })],
      ['vllm', new FakeVllm({ models: [{ id: 'a' }] })],
      ['llamacpp', new FakeLlamaCpp()],
      ['llamacpp', new FakeLlamaCpp({ loading: true })],
      ['llamacpp', new FakeLlamaCpp({ shape: 'legacy', loading: true })],
      ['lmstudio', new FakeLmStudio({ apis: ['v0'], models: [{ id: 'a' }] })],
      ['lmstudio', new FakeLmStudio({ apis: ['v1'], models: [{ id: 'a' }] })],
      ['openai', new FakeOpenAi({ models: [{ id: 'a' }] })],
      ['openai', new FakeOpenAi({ nullWhenEmpty: true })],
    ] as const;
    for (const [kind, fake] of cases) {
      await start(fake);
      expect({ kind: await detectBackendKind(fake.url, opts), fake: fake.constructor.name }).toEqual({
        kind,
        fake: fake.constructor.name,
      });
    }
  });

  it('tells llama-swap and llama-server apart on the same port', async () => {
    const swap = await start(new FakeLlamaSwap({ models: [{ id: 'a' }] }));
    const port = Number(new URL(swap.url).port);
    expect(await detectBackendKind(swap.url, opts)).toBe('llama-swap');
    await swap.stop();
    const server = await start(new FakeLlamaCpp(), port);
    expect(server.url).toBe(swap.url);
    expect(await detectBackendKind(server.url, opts)).toBe('llamacpp');
  });

  it('knows vLLM behind an API key from /version and /health alone', async () => {
    const vllm = await start(new FakeVllm({ apiKey: 'k', models: [{ id: 'a' }] }));
    expect(await detectBackendKind(vllm.url, opts)).toBe('vllm');
    expect(vllm.requestsTo('/v1/models')).toHaveLength(1);
  });

  it('returns null, unreachable, when nothing listens', async () => {
    const url = await closedPortUrl();
    expect(await detectBackend(url, opts)).toMatchObject({ kind: null, reachable: false });
  });

  it('returns null, reachable, for an HTTP server that is no model server', async () => {
    plain = createServer((_req, res) => {
      res.statusCode = 404;
      res.end('nope');
    });
    await new Promise<void>((r) => plain!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
    const found = await detectBackend(url, opts);
    expect(found).toMatchObject({ kind: null, reachable: true });
    expect(found.error).toEqual(expect.any(String));
  });
});
