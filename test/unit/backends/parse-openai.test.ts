import { describe, expect, it } from 'vitest';
import { cardContextLength, isModelList, parseModelList } from '../../../src/backends/parse/openai.js';
import { parseVllmModels } from '../../../src/backends/parse/vllm.js';
import { ErrorCodes } from '../../../src/errors.js';

describe('parseModelList', () => {
  it('reads "data": null as no models and skips cards without an id', () => {
    expect(parseModelList({ object: 'list', data: null }, 'src')).toEqual([]);
    expect(parseModelList({ data: [{ id: 'a' }, { object: 'model' }] }, 'src')).toEqual([{ id: 'a' }]);
  });

  it('rejects a body without data with BACKEND_BAD_RESPONSE', () => {
    expect(() => parseModelList({ error: 'x' }, 'src')).toThrow(
      expect.objectContaining({ code: ErrorCodes.BACKEND_BAD_RESPONSE }),
    );
    expect(isModelList({ error: 'x' })).toBe(false);
  });
});

describe('cardContextLength', () => {
  it('reads context_length, max_model_len or context_window', () => {
    expect(cardContextLength({ context_length: 1 })).toBe(1);
    expect(cardContextLength({ max_model_len: 2 })).toBe(2);
    expect(cardContextLength({ context_window: 3 })).toBe(3);
    expect(cardContextLength({ context_length: 'big' })).toBeNull();
  });
});

describe('parseVllmModels', () => {
  it('gives LoRA cards (max_model_len null) their parent model length', () => {
    const cards = parseVllmModels(
      {
        data: [
          { id: 'base', owned_by: 'vllm', parent: null, max_model_len: 32768 },
          { id: 'lora', owned_by: 'vllm', parent: 'base', max_model_len: null },
        ],
      },
      'src',
    );
    expect(cards).toEqual([
      { id: 'base', contextLength: 32768 },
      { id: 'lora', contextLength: 32768 },
    ]);
  });
});
