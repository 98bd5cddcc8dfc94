import { describe, expect, it } from 'vitest';
import { parseLmStudioV0, parseLmStudioV1 } from '../../../src/backends/parse/lmstudio.js';

const UNKNOWN_ROUTE = { error: 'Unexpected endpoint or method. (GET /api/v1/models). Returning 200 anyway' };

describe('parseLmStudioV0', () => {
  it('reads state and max_context_length', () => {
    expect(
      parseLmStudioV0({
        object: 'list',
        data: [
          { id: 'a', type: 'llm', state: 'loaded', max_context_length: 131072 },
          { id: 'b', type: 'embeddings', state: 'not-loaded', max_context_length: 2048 },
        ],
      }),
    ).toEqual([
      { id: 'a', loaded: true, contextLength: 131072 },
      { id: 'b', loaded: false, contextLength: 2048 },
    ]);
  });

  it('reads the 200-with-error answer to an unknown route as "not served"', () => {
    expect(parseLmStudioV0(UNKNOWN_ROUTE)).toBeNull();
  });
});

describe('parseLmStudioV1', () => {
  it('prefers the loaded instance context over the maximum', () => {
    expect(
      parseLmStudioV1({
        models: [
          {
            key: 'gemma',
            loaded_instances: [{ id: 'gemma', config: { context_length: 4096 } }],
            max_context_length: 32768,
          },
          { key: 'embed', type: 'embedding', loaded_instances: [], max_context_length: 2048 },
        ],
      }),
    ).toEqual([
      { id: 'gemma', loaded: true, contextLength: 4096 },
      { id: 'embed', loaded: false, contextLength: 2048 },
    ]);
  });

  it('reads the 200-with-error answer to an unknown route as "not served"', () => {
    expect(parseLmStudioV1(UNKNOWN_ROUTE)).toBeNull();
  });
});
