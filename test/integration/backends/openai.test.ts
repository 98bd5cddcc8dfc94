import { describe, expect, it } from 'vitest';
import { probe } from '../../../src/backends/openai-compatible.js';
import { FakeOpenAi } from '../../fakes/openai.js';
import { probeCtx, useFakes } from './helpers.js';

const start = useFakes();

describe('openai-compatible probe', () => {
  it('lists models, with context length when the card has one', async () => {
    const fake = await start(new FakeOpenAi({ models: [{ id: 'a', contextLength: 128000 }, { id: 'b' }] }));
    const result = await probe(fake.url, probeCtx());
    expect(result).toMatchObject({ healthy: true, error: null });
    expect(result.models).toEqual([
      { id: 'a', loaded: true, contextLength: 128000, maxConcurrency: 4, sizeVramBytes: null },
      { id: 'b', loaded: true, contextLength: null, maxConcurrency: 4, sizeVramBytes: null },
    ]);
  });

  it('accepts "data": null as no models', async () => {
    const fake = await start(new FakeOpenAi({ nullWhenEmpty: true }));
    expect(await probe(fake.url, probeCtx())).toMatchObject({ healthy: true, models: [] });
  });

  it('sends the API key, and is unhealthy without the right one', async () => {
    const fake = await start(new FakeOpenAi({ apiKey: 'sekrit', models: [{ id: 'a' }] }));
    expect((await probe(fake.url, probeCtx({ apiKey: 'sekrit' }))).healthy).toBe(true);
    expect((await probe(fake.url, probeCtx({ apiKey: 'wrong' }))).healthy).toBe(false);
    expect((await probe(fake.url, probeCtx())).healthy).toBe(false);
  });
});
