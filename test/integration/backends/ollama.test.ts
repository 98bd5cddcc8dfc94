import { describe, expect, it } from 'vitest';
import { probe } from '../../../src/backends/ollama.js';
import { FakeOllama } from '../../fakes/ollama.js';
import { probeCtx, useFakes } from './helpers.js';

const start = useFakes();

describe('ollama probe', () => {
  it('lists installed models, marks loaded ones with their num_ctx and VRAM (current server)', async () => {
    const fake = await start(
      new FakeOllama({
        models: [
          { name: 'llama3.2:latest', contextLength: 131072, size: 2_000 },
          { name: 'qwen2.5:7b', arch: 'qwen2', contextLength: 32768 },
        ],
        loaded: [{ name: 'llama3.2:latest', contextLength: 8192, sizeVram: 1_500 }],
      }),
    );
    const result = await probe(fake.url, probeCtx());
    expect(result).toMatchObject({ healthy: true, version: '0.33.0', error: null });
    expect(result.models).toEqual([
      { id: 'llama3.2:latest', loaded: true, contextLength: 8192, maxConcurrency: 4, sizeVramBytes: 1_500 },
      { id: 'qwen2.5:7b', loaded: false, contextLength: 32768, maxConcurrency: 4, sizeVramBytes: null },
    ]);
    // The loaded model's context came from /api/ps: only the other one needed /api/show.
    expect(fake.requestsTo('/api/show').map((r) => JSON.parse(r.body).model)).toEqual(['qwen2.5:7b']);
  });

  it('asks /api/show once per model digest, not on every probe', async () => {
    const fake = await start(new FakeOllama({ models: [{ name: 'a:1' }, { name: 'b:1' }] }));
    await probe(fake.url, probeCtx());
    await probe(fake.url, probeCtx());
    expect(fake.requestsTo('/api/show')).toHaveLength(2);
  });

  it('reads an old server (no context_length in /api/ps) from /api/show', async () => {
    const fake = await start(
      new FakeOllama({
        shape: 'legacy',
        version: '0.9.0',
        models: [{ name: 'mistral:latest', contextLength: 32768 }],
        loaded: [{ name: 'mistral:latest', sizeVram: 0 }],
      }),
    );
    const result = await probe(fake.url, probeCtx());
    expect(result.models).toEqual([
      { id: 'mistral:latest', loaded: true, contextLength: 32768, maxConcurrency: 4, sizeVramBytes: 0 },
    ]);
  });

  it('accepts an empty install answering "models": null', async () => {
    const fake = await start(new FakeOllama({ shape: 'legacy' }));
    expect(await probe(fake.url, probeCtx())).toMatchObject({ healthy: true, models: [] });
  });

  it('applies concurrency overrides (OLLAMA_NUM_PARALLEL is not visible)', async () => {
    const fake = await start(new FakeOllama({ models: [{ name: 'a:1' }, { name: 'b:1' }] }));
    const result = await probe(
      fake.url,
      probeCtx({
        defaultMaxConcurrency: 3,
        maxConcurrency: 2,
        modelOverrides: { 'b:1': { maxConcurrency: 1 } },
      }),
    );
    expect(result.models.map((m) => [m.id, m.maxConcurrency])).toEqual([
      ['a:1', 2],
      ['b:1', 1],
    ]);
  });

  it('reports a stopped server as unhealthy instead of throwing', async () => {
    const fake = await start(new FakeOllama());
    await fake.stop();
    const result = await probe(fake.url, probeCtx());
    expect(result.healthy).toBe(false);
    expect(result.error).toEqual(expect.any(String));
    expect(result.models).toEqual([]);
  });
});
