import { describe, expect, it } from 'vitest';
import { probe } from '../../../src/backends/llama-swap.js';
import { FakeLlamaSwap } from '../../fakes/llama-swap.js';
import { FakeLlamaCpp } from '../../fakes/llamacpp.js';
import { probeCtx, useFakes } from './helpers.js';

const start = useFakes();

const models = [{ id: 'qwen-coder-32b', contextLength: 32768 }, { id: 'llama-8b' }, { id: 'gemma-27b' }];

describe('llama-swap probe', () => {
  it('marks only ready processes as loaded; starting ones are still loading (current shape)', async () => {
    const fake = await start(
      new FakeLlamaSwap({
        models,
        running: [
          { model: 'qwen-coder-32b', state: 'ready' },
          { model: 'llama-8b', state: 'starting' },
        ],
      }),
    );
    const result = await probe(fake.url, probeCtx());
    expect(result).toMatchObject({ healthy: true, error: null });
    expect(result.models).toEqual([
      { id: 'gemma-27b', loaded: false, contextLength: null, maxConcurrency: 4, sizeVramBytes: null },
      { id: 'llama-8b', loaded: false, contextLength: null, maxConcurrency: 4, sizeVramBytes: null },
      { id: 'qwen-coder-32b', loaded: true, contextLength: 32768, maxConcurrency: 4, sizeVramBytes: null },
    ]);
  });

  it('reads the v170 /running shape (model and state only)', async () => {
    const fake = await start(
      new FakeLlamaSwap({ shape: 'v170', models, running: [{ model: 'llama-8b', state: 'ready' }] }),
    );
    const result = await probe(fake.url, probeCtx());
    expect(result.healthy).toBe(true);
    expect(result.models.filter((m) => m.loaded).map((m) => m.id)).toEqual(['llama-8b']);
  });

  it('follows the running set as it changes', async () => {
    const fake = await start(new FakeLlamaSwap({ models, running: [] }));
    expect((await probe(fake.url, probeCtx())).models.some((m) => m.loaded)).toBe(false);
    fake.setState({ running: [{ model: 'gemma-27b', state: 'ready' }] });
    const after = await probe(fake.url, probeCtx());
    expect(after.models.find((m) => m.id === 'gemma-27b')?.loaded).toBe(true);
  });

  it('reports a stopped llama-swap as unhealthy', async () => {
    const fake = await start(new FakeLlamaSwap({ models }));
    await fake.stop();
    expect(await probe(fake.url, probeCtx())).toMatchObject({ healthy: false, models: [] });
  });
});

describe('llama-swap probe against another server', () => {
  it('is unhealthy when a llama-server answers instead (the port changed hands)', async () => {
    const cpp = await start(new FakeLlamaCpp());
    const result = await probe(cpp.url, probeCtx());
    expect(result.healthy).toBe(false);
    expect(result.error).toEqual(expect.any(String));
  });
});
