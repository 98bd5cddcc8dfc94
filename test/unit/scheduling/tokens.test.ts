import { describe, expect, it } from 'vitest';
import {
  estimateTokens,
  maxCompletionTokens,
  neededContext,
  promptTokens,
} from '../../../src/scheduling/tokens.js';

describe('token estimates', () => {
  it('counts about four characters per token, rounding up', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcde')).toBe(2);
    expect(promptTokens({ messages: [{ role: 'user', content: 'x'.repeat(400) }] })).toBe(100);
  });

  it('adds the completion budget the request asks for', () => {
    expect(maxCompletionTokens({ max_tokens: 512 })).toBe(512);
    expect(maxCompletionTokens({ max_completion_tokens: 256, max_tokens: 512 })).toBe(256);
    expect(maxCompletionTokens({ max_tokens: 'lots' })).toBe(0);
    expect(neededContext({ prompt: 'x'.repeat(400), max_tokens: 50 })).toBe(150);
  });
});
