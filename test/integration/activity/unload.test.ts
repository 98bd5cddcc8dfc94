// `swarmctl pause --unload` against each fake model server: the exact unload calls of
// BACKENDS.md §1.7, §2.5, §4.8 and §5.3, the model really gone afterwards, and a plain
// "cannot" (with the reason) where a server has no way to let its model go.
import { afterEach, describe, expect, it } from 'vitest';
import { unloadBackend } from '../../../src/activity/unload.js';
import type { BackendKind, BackendStatus } from '../../../src/backends/types.js';
import { FakeLlamaSwap } from '../../fakes/llama-swap.js';
import { FakeLlamaCpp } from '../../fakes/llamacpp.js';
import { FakeLmStudio } from '../../fakes/lmstudio.js';
import { FakeOllama } from '../../fakes/ollama.js';
import { FakeVllm } from '../../fakes/vllm.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

async function started<T extends { start(): Promise<{ url: string }>; stop(): Promise<void> }>(fake: T) {
  const { url } = await fake.start();
  stops.push(() => fake.stop());
  return { fake, url };
}

function backend(kind: BackendKind, url: string): BackendStatus {
  return {
    id: `${kind}@${new URL(url).host}`,
    kind,
    url,
    healthy: true,
    version: null,
    error: null,
    models: [],
    probedAt: 0,
  };
}

describe('unloading each kind of backend', () => {
  it('Ollama: keep_alive 0 per model in /api/ps, after which /api/ps is empty', async () => {
    const { fake, url } = await started(
      new FakeOllama({
        models: [{ name: 'qwen3:8b' }, { name: 'llama3.2:3b' }],
        loaded: [{ name: 'qwen3:8b' }, { name: 'llama3.2:3b' }],
      }),
    );
    const report = await unloadBackend(backend('ollama', url));
    expect(report).toMatchObject({ outcome: 'unloaded', models: ['qwen3:8b', 'llama3.2:3b'] });
    const unloads = fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/generate');
    expect(unloads.map((r) => JSON.parse(r.body))).toEqual([
      { model: 'qwen3:8b', keep_alive: 0 },
      { model: 'llama3.2:3b', keep_alive: 0 },
    ]);
    const ps = (await (await fetch(`${url}/api/ps`)).json()) as { models: unknown[] };
    expect(ps.models).toEqual([]);
  });

  it('llama-swap: POST /api/models/unload stops every process', async () => {
    const { fake, url } = await started(
      new FakeLlamaSwap({ models: [{ id: 'coder' }], running: [{ model: 'coder', state: 'ready' }] }),
    );
    const report = await unloadBackend(backend('llama-swap', url));
    expect(report).toMatchObject({ outcome: 'unloaded', models: ['coder'] });
    expect(fake.requests.some((r) => r.method === 'POST' && r.path === '/api/models/unload')).toBe(true);
    expect(fake.state.running).toEqual([]);
  });

  it('llama.cpp in router mode: POST /models/unload per loaded model; single-model mode cannot', async () => {
    const { fake, url } = await started(
      new FakeLlamaCpp({
        router: [
          { id: 'gemma-3-4b', status: 'loaded' },
          { id: 'qwen-7b', status: 'unloaded' },
        ],
      }),
    );
    const report = await unloadBackend(backend('llamacpp', url));
    expect(report).toMatchObject({ outcome: 'unloaded', models: ['gemma-3-4b'] });
    expect(fake.requests.filter((r) => r.path === '/models/unload').map((r) => JSON.parse(r.body))).toEqual([
      { model: 'gemma-3-4b' },
    ]);
    expect(fake.state.router?.every((m) => m.status === 'unloaded')).toBe(true);

    const single = await started(new FakeLlamaCpp());
    const refused = await unloadBackend(backend('llamacpp', single.url));
    expect(refused.outcome).toBe('unsupported');
    expect(refused.detail).toMatch(/single model/);
    expect(single.fake.requests.some((r) => r.method === 'POST')).toBe(false);
  });

  it('LM Studio 0.4: POST /api/v1/models/unload per loaded instance; 0.3 says it cannot', async () => {
    const { fake, url } = await started(
      new FakeLmStudio({ models: [{ id: 'gemma-3-270m-it-qat', loaded: true }, { id: 'idle-model' }] }),
    );
    const report = await unloadBackend(backend('lmstudio', url));
    expect(report).toMatchObject({ outcome: 'unloaded', models: ['gemma-3-270m-it-qat'] });
    expect(fake.state.models.every((m) => !m.loaded)).toBe(true);
    const old = await started(new FakeLmStudio({ apis: ['v0'], models: [{ id: 'm', loaded: true }] }));
    expect((await unloadBackend(backend('lmstudio', old.url))).outcome).toBe('unsupported');
  });

  it('vLLM and OpenAI-compatible servers: unsupported, with the reason', async () => {
    const { fake, url } = await started(new FakeVllm());
    const report = await unloadBackend(backend('vllm', url));
    expect(report.outcome).toBe('unsupported');
    expect(report.detail).toMatch(/vLLM/);
    expect(fake.requests).toEqual([]);
    expect((await unloadBackend(backend('openai', url))).outcome).toBe('unsupported');
  });

  it('a server that is down is a failed entry, not a throw', async () => {
    const { fake, url } = await started(new FakeOllama({ loaded: [{ name: 'x' }] }));
    await fake.stop();
    const report = await unloadBackend(backend('ollama', url), { timeoutMs: 2000 });
    expect(report.outcome).toBe('failed');
    expect(report.detail).toMatch(/api\/ps/);
  });
});
