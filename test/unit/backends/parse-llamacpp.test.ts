import { describe, expect, it } from 'vitest';
import {
  parseLlamaCppHealth,
  parseLlamaCppModels,
  parseLlamaCppProps,
} from '../../../src/backends/parse/llamacpp.js';

describe('parseLlamaCppHealth', () => {
  it('tells ready, loading (new and old bodies) and other failures apart', () => {
    expect(parseLlamaCppHealth(200, { status: 'ok' })).toBe('ok');
    expect(parseLlamaCppHealth(200, { status: 'ok', slots_idle: 1, slots_processing: 0 })).toBe('ok');
    expect(
      parseLlamaCppHealth(503, { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } }),
    ).toBe('loading');
    expect(parseLlamaCppHealth(503, { status: 'loading model' })).toBe('loading');
    expect(parseLlamaCppHealth(503, { status: 'no slot available' })).toBe('ok');
    expect(parseLlamaCppHealth(503, null)).toBe('failed');
    expect(parseLlamaCppHealth(500, { error: {} })).toBe('failed');
    // llama-swap's plain "OK" (not JSON) on the same port is not a llama-server.
    expect(parseLlamaCppHealth(200, null)).toBe('failed');
  });
});

describe('parseLlamaCppProps', () => {
  it('reads the per-slot n_ctx, total_slots and build', () => {
    expect(
      parseLlamaCppProps({
        default_generation_settings: { n_ctx: 8192 },
        total_slots: 4,
        build_info: 'b1-x',
      }),
    ).toEqual({ nCtx: 8192, totalSlots: 4, build: 'b1-x' });
  });

  it('falls back to a top-level n_ctx and reads missing fields as null', () => {
    expect(parseLlamaCppProps({ n_ctx: 2048 })).toEqual({ nCtx: 2048, totalSlots: null, build: null });
  });
});

describe('parseLlamaCppModels', () => {
  it('reads single-model cards, meta null while loading included', () => {
    const models = parseLlamaCppModels(
      {
        object: 'list',
        data: [
          { id: 'x.gguf', owned_by: 'llamacpp', meta: { n_ctx_train: 131072, n_ctx: 65536 } },
          { id: 'y.gguf', owned_by: 'llamacpp', meta: null },
        ],
      },
      'src',
    );
    expect(models).toEqual([
      { id: 'x.gguf', contextLength: 65536, routerLoaded: null },
      { id: 'y.gguf', contextLength: null, routerLoaded: null },
    ]);
  });

  it('reads router-mode status values', () => {
    const models = parseLlamaCppModels(
      {
        data: [
          { id: 'a', status: { value: 'loaded', args: [] } },
          { id: 'b', status: { value: 'loading' } },
          { id: 'c', status: { value: 'unloaded', failed: true, exit_code: 1 } },
        ],
      },
      'src',
    );
    expect(models.map((m) => m.routerLoaded)).toEqual([true, false, false]);
  });
});
