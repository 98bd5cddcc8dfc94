import { describe, expect, it } from 'vitest';
import { type ProbeContext, resolveMaxConcurrency } from '../../../src/backends/adapter.js';

const base: ProbeContext = { timeoutMs: 1000, defaultMaxConcurrency: 4, modelOverrides: {} };

describe('resolveMaxConcurrency', () => {
  it('uses the default when neither config nor server says', () => {
    expect(resolveMaxConcurrency('m', null, base)).toBe(4);
  });

  it('prefers what the server reveals over the default', () => {
    expect(resolveMaxConcurrency('m', 8, base)).toBe(8);
  });

  it('prefers server-wide config over the server', () => {
    expect(resolveMaxConcurrency('m', 8, { ...base, maxConcurrency: 2 })).toBe(2);
  });

  it('prefers the per-model config over everything, for that model only', () => {
    const ctx = { ...base, maxConcurrency: 2, modelOverrides: { m: { maxConcurrency: 1 } } };
    expect(resolveMaxConcurrency('m', 8, ctx)).toBe(1);
    expect(resolveMaxConcurrency('other', 8, ctx)).toBe(2);
  });
});
