import { describe, expect, it } from 'vitest';
import { LLAMACPP_LOADING, probe } from '../../../src/backends/llamacpp.js';
import { FakeLlamaSwap } from '../../fakes/llama-swap.js';
import { FakeLlamaCpp } from '../../fakes/llamacpp.js';
import { probeCtx, useFakes } from './helpers.js';

const start = useFakes();

describe('llama.cpp probe', () => {
  it('reads the per-slot context from /props and total_slots as concurrency', async () => {
    const fake = await start(
      new FakeLlamaCpp({ modelId: 'qwen.gguf', nCtx: 16384, totalSlots: 3, build: 'b7000-1' }),
    );
    const result = await probe(fake.url, probeCtx());
    expect(result).toMatchObject({ healthy: true, version: 'b7000-1', error: null });
    expect(result.models).toEqual([
      { id: 'qwen.gguf', loaded: true, contextLength: 16384, maxConcurrency: 3, sizeVramBytes: null },
    ]);
  });

  it('lets config concurrency beat total_slots', async () => {
    const fake = await start(new FakeLlamaCpp({ modelId: 'm', totalSlots: 3 }));
    const serverWide = await probe(fake.url, probeCtx({ maxConcurrency: 8 }));
    expect(serverWide.models[0]?.maxConcurrency).toBe(8);
    const perModel = await probe(
      fake.url,
      probeCtx({ maxConcurrency: 8, modelOverrides: { m: { maxConcurrency: 1 } } }),
    );
    expect(perModel.models[0]?.maxConcurrency).toBe(1);
  });

  it('reports "loading model" while loading (new and old bodies), then healthy', async () => {
    for (const shape of ['current', 'legacy'] as const) {
      const fake = await start(new FakeLlamaCpp({ shape, loading: true }));
      const loading = await probe(fake.url, probeCtx());
      expect(loading).toMatchObject({ healthy: false, error: LLAMACPP_LOADING, models: [] });
      fake.setState({ loading: false });
      const ready = await probe(fake.url, probeCtx());
      expect(ready.healthy).toBe(true);
      expect(ready.models).toHaveLength(1);
    }
  });

  it('reads the legacy shape (no meta.n_ctx) from /props', async () => {
    const fake = await start(new FakeLlamaCpp({ shape: 'legacy', nCtx: 2048 }));
    const result = await probe(fake.url, probeCtx());
    expect(result.models[0]?.contextLength).toBe(2048);
  });
});

describe('llama.cpp probe of a router (--models-dir)', () => {
  it('lists every model; a loaded one has its own slots and context, an unloaded one is not woken', async () => {
    const fake = await start(
      new FakeLlamaCpp({
        nCtx: 2048,
        totalSlots: 3,
        build: 'b7100-1',
        router: [
          { id: 'gemma-3-4b', status: 'loaded' },
          { id: 'qwen-7b', status: 'unloaded' },
        ],
      }),
    );
    const result = await probe(fake.url, probeCtx());
    expect(result).toMatchObject({ healthy: true, version: 'b7100-1' });
    expect(result.models).toEqual([
      { id: 'gemma-3-4b', loaded: true, contextLength: 2048, maxConcurrency: 3, sizeVramBytes: null },
      { id: 'qwen-7b', loaded: false, contextLength: null, maxConcurrency: 4, sizeVramBytes: null },
    ]);
    // Only the loaded model's server was asked, and never in a way that loads one.
    const asked = fake.requestsTo('/props').map((r) => r.query);
    expect(asked).toContain('model=gemma-3-4b&autoload=false');
    expect(asked.some((q) => q.includes('qwen-7b'))).toBe(false);
  });
});

describe('llama.cpp probe against another server', () => {
  it('is unhealthy when llama-swap answers instead (the port changed hands)', async () => {
    const swap = await start(new FakeLlamaSwap({ models: [{ id: 'a' }] }));
    expect((await probe(swap.url, probeCtx())).healthy).toBe(false);
  });
});
