import { describe, expect, it } from 'vitest';
import { probe } from '../../../src/backends/vllm.js';
import { FakeVllm } from '../../fakes/vllm.js';
import { probeCtx, useFakes } from './helpers.js';

const start = useFakes();

describe('vllm probe', () => {
  it('lists served models as loaded with max_model_len, LoRA adapters inheriting it', async () => {
    const fake = await start(
      new FakeVllm({
        version: '0.10.2',
        models: [
          { id: 'Qwen/Qwen2.5-7B-Instruct', maxModelLen: 16384 },
          { id: 'sql-lora', parent: 'Qwen/Qwen2.5-7B-Instruct' },
        ],
      }),
    );
    const result = await probe(fake.url, probeCtx({ maxConcurrency: 16 }));
    expect(result).toMatchObject({ healthy: true, version: '0.10.2', error: null });
    expect(result.models).toEqual([
      {
        id: 'Qwen/Qwen2.5-7B-Instruct',
        loaded: true,
        contextLength: 16384,
        maxConcurrency: 16,
        sizeVramBytes: null,
      },
      { id: 'sql-lora', loaded: true, contextLength: 16384, maxConcurrency: 16, sizeVramBytes: null },
    ]);
  });

  it('reports a dead engine (503 /health) as unhealthy with the version still known', async () => {
    const fake = await start(new FakeVllm({ engineDead: true, models: [{ id: 'm' }] }));
    const result = await probe(fake.url, probeCtx());
    expect(result).toMatchObject({ healthy: false, version: '0.11.0', models: [] });
    expect(result.error).toEqual(expect.any(String));
  });

  it('reports a server that is not up yet as unhealthy', async () => {
    const fake = await start(new FakeVllm());
    await fake.stop();
    expect((await probe(fake.url, probeCtx())).healthy).toBe(false);
  });
});
