import { describe, expect, it } from 'vitest';
import {
  contextLengthFromShow,
  parseOllamaPs,
  parseOllamaTags,
  parseOllamaVersion,
} from '../../../src/backends/parse/ollama.js';
import { ErrorCodes } from '../../../src/errors.js';

const SRC = 'http://h:11434/api/x';

describe('contextLengthFromShow', () => {
  it('reads model_info[<general.architecture>.context_length]', () => {
    const show = {
      model_info: {
        'general.architecture': 'qwen2',
        'qwen2.context_length': 32768,
        'llama.context_length': 1,
      },
    };
    expect(contextLengthFromShow(show)).toBe(32768);
  });

  it('falls back to the single *.context_length key when the arch key is absent', () => {
    const show = { model_info: { 'general.architecture': 'gemma3n', 'gemma3.context_length': 8192 } };
    expect(contextLengthFromShow(show)).toBe(8192);
  });

  it('is null when ambiguous, missing, or model_info is null (remote models)', () => {
    expect(
      contextLengthFromShow({ model_info: { 'a.context_length': 1, 'b.context_length': 2 } }),
    ).toBeNull();
    expect(contextLengthFromShow({ model_info: null })).toBeNull();
    expect(contextLengthFromShow({})).toBeNull();
    expect(contextLengthFromShow({ model_info: { 'general.architecture': 'llama' } })).toBeNull();
  });
});

describe('parseOllamaTags', () => {
  it('reads names and digests, with families null (old servers)', () => {
    const tags = parseOllamaTags(
      {
        models: [
          { name: 'llama3.2:latest', model: 'llama3.2:latest', digest: 'abc', details: { families: null } },
          { model: 'only-model-field:7b' },
        ],
      },
      SRC,
    );
    expect(tags).toEqual([
      { name: 'llama3.2:latest', digest: 'abc' },
      { name: 'only-model-field:7b', digest: null },
    ]);
  });

  it('reads "models": null as no models', () => {
    expect(parseOllamaTags({ models: null }, SRC)).toEqual([]);
  });

  it('rejects a body that is not a model list with BACKEND_BAD_RESPONSE', () => {
    expect(() => parseOllamaTags({ models: 'x' }, SRC)).toThrow(
      expect.objectContaining({ code: ErrorCodes.BACKEND_BAD_RESPONSE }),
    );
    expect(() => parseOllamaTags([], SRC)).toThrow(
      expect.objectContaining({ code: ErrorCodes.BACKEND_BAD_RESPONSE }),
    );
  });
});

describe('parseOllamaPs', () => {
  it('reads context_length (≥v0.9.7) and size_vram', () => {
    const ps = parseOllamaPs(
      { models: [{ name: 'mistral:latest', size: 10, size_vram: 0, context_length: 4096 }] },
      SRC,
    );
    expect(ps.get('mistral:latest')).toEqual({
      name: 'mistral:latest',
      sizeVramBytes: 0,
      contextLength: 4096,
    });
  });

  it('reads a missing context_length (before v0.9.7) as null', () => {
    const ps = parseOllamaPs({ models: [{ name: 'm:1', size_vram: 5 }] }, SRC);
    expect(ps.get('m:1')?.contextLength).toBeNull();
  });
});

describe('parseOllamaVersion', () => {
  it('reads the version and rejects a body without one', () => {
    expect(parseOllamaVersion({ version: '0.33.0-rc2' }, SRC)).toBe('0.33.0-rc2');
    expect(() => parseOllamaVersion({}, SRC)).toThrow(
      expect.objectContaining({ code: ErrorCodes.BACKEND_BAD_RESPONSE }),
    );
  });
});
