import { describe, expect, it } from 'vitest';
import { probe } from '../../../src/backends/lmstudio.js';
import { FakeLmStudio, type FakeLmStudioModel } from '../../fakes/lmstudio.js';
import { probeCtx, useFakes } from './helpers.js';

const start = useFakes();

const models: FakeLmStudioModel[] = [
  { id: 'qwen2.5-7b-instruct', maxContextLength: 32768, loaded: true, loadedContextLength: 8192 },
  { id: 'text-embedding-nomic', type: 'embeddings', maxContextLength: 2048 },
];

describe('lmstudio probe', () => {
  it('reads 0.3 (/api/v0/models): state and max_context_length', async () => {
    const fake = await start(new FakeLmStudio({ apis: ['v0'], models }));
    const result = await probe(fake.url, probeCtx());
    expect(result).toMatchObject({ healthy: true, error: null });
    expect(result.models).toEqual([
      {
        id: 'qwen2.5-7b-instruct',
        loaded: true,
        contextLength: 32768,
        maxConcurrency: 4,
        sizeVramBytes: null,
      },
      {
        id: 'text-embedding-nomic',
        loaded: false,
        contextLength: 2048,
        maxConcurrency: 4,
        sizeVramBytes: null,
      },
    ]);
  });

  it('falls back to 0.4 /api/v1/models past the 200-with-error answer, with the loaded context', async () => {
    const fake = await start(new FakeLmStudio({ apis: ['v1'], models }));
    const result = await probe(fake.url, probeCtx());
    expect(fake.requestsTo('/api/v0/models')).toHaveLength(1);
    expect(result.models).toEqual([
      {
        id: 'qwen2.5-7b-instruct',
        loaded: true,
        contextLength: 8192,
        maxConcurrency: 4,
        sizeVramBytes: null,
      },
      {
        id: 'text-embedding-nomic',
        loaded: false,
        contextLength: 2048,
        maxConcurrency: 4,
        sizeVramBytes: null,
      },
    ]);
  });

  it('falls back to /v1/models when no native list is served', async () => {
    const fake = await start(new FakeLmStudio({ apis: [], models }));
    const result = await probe(fake.url, probeCtx());
    expect(result.healthy).toBe(true);
    expect(result.models.map((m) => m.id)).toEqual(['qwen2.5-7b-instruct', 'text-embedding-nomic']);
  });

  it('tracks a model being loaded', async () => {
    const fake = await start(new FakeLmStudio({ models: [{ id: 'a', loaded: false }] }));
    expect((await probe(fake.url, probeCtx())).models[0]?.loaded).toBe(false);
    fake.setState({ models: [{ id: 'a', loaded: true }] });
    expect((await probe(fake.url, probeCtx())).models[0]?.loaded).toBe(true);
  });

  it('reports a stopped server as unhealthy', async () => {
    const fake = await start(new FakeLmStudio({ models }));
    await fake.stop();
    expect((await probe(fake.url, probeCtx())).healthy).toBe(false);
  });
});
