import { describe, expect, it } from 'vitest';
import { parseSwapModels, parseSwapRunning, readyModels } from '../../../src/backends/parse/llama-swap.js';
import { ErrorCodes } from '../../../src/errors.js';

const SRC = 'http://h:8080/running';

describe('parseSwapRunning', () => {
  it('reads the v170 shape (model and state only)', () => {
    const running = parseSwapRunning({ running: [{ model: 'a', state: 'ready' }] }, SRC);
    expect(running).toEqual([{ model: 'a', state: 'ready' }]);
  });

  it('reads the current shape and keeps starting/stopping processes apart from ready ones', () => {
    const running = parseSwapRunning(
      {
        running: [
          {
            model: 'a',
            state: 'ready',
            cmd: 'x',
            proxy: 'http://127.0.0.1:1',
            ttl: 0,
            name: '',
            description: '',
          },
          { model: 'b', state: 'starting', cmd: 'y', proxy: 'http://127.0.0.1:2', ttl: 300 },
          { model: 'c', state: 'stopping' },
        ],
      },
      SRC,
    );
    expect([...readyModels(running)]).toEqual(['a']);
  });

  it('reads null as nothing running and rejects other shapes with BACKEND_BAD_RESPONSE', () => {
    expect(parseSwapRunning({ running: null }, SRC)).toEqual([]);
    expect(() => parseSwapRunning({ error: 'x' }, SRC)).toThrow(
      expect.objectContaining({ code: ErrorCodes.BACKEND_BAD_RESPONSE }),
    );
  });
});

describe('parseSwapModels', () => {
  it('reads status (≥v236), context_length and meta.n_ctx', () => {
    const models = parseSwapModels(
      {
        object: 'list',
        data: [
          { id: 'a', owned_by: 'llama-swap', status: { value: 'loaded' }, context_length: 32768 },
          { id: 'b', owned_by: 'llama-swap', status: { value: 'unloaded' }, meta: { n_ctx: 4096 } },
          { id: 'c', owned_by: 'llama-swap' },
        ],
      },
      'src',
    );
    expect(models).toEqual([
      { id: 'a', contextLength: 32768, listedLoaded: true },
      { id: 'b', contextLength: 4096, listedLoaded: false },
      { id: 'c', contextLength: null, listedLoaded: null },
    ]);
  });
});
