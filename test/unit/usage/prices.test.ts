import { describe, expect, it } from 'vitest';
import { costOf, formatUsd, referenceCost } from '../../../src/usage/prices.js';

const price = { inputPerMTok: 2.5, outputPerMTok: 10 };

describe('costOf', () => {
  it('charges prompt and completion tokens at their per-million prices', () => {
    expect(costOf({ promptTokens: 1_000_000, completionTokens: 0 }, price)).toBe(2.5);
    expect(costOf({ promptTokens: 2000, completionTokens: 500 }, price)).toBeCloseTo(0.01, 12);
  });

  it('keeps fractions of a cent (full precision is stored)', () => {
    expect(costOf({ promptTokens: 1, completionTokens: 1 }, price)).toBeCloseTo(0.0000125, 15);
  });

  it('is 0 for a local model (no price) and when no usage was reported', () => {
    expect(costOf({ promptTokens: 5000, completionTokens: 5000 }, null)).toBe(0);
    expect(costOf(null, price)).toBe(0);
  });
});

describe('referenceCost', () => {
  it('prices the same tokens at the reference model', () => {
    const reference = { model: 'gpt-4o', inputPerMTok: 5, outputPerMTok: 15 };
    expect(referenceCost({ promptTokens: 1000, completionTokens: 1000 }, reference)).toBeCloseTo(0.02, 12);
    expect(referenceCost(null, reference)).toBe(0);
  });

  it('is null when no reference model is configured', () => {
    expect(referenceCost({ promptTokens: 1000, completionTokens: 1000 }, null)).toBeNull();
  });
});

describe('formatUsd', () => {
  it('shows whole cents, rounding half away from zero', () => {
    expect(formatUsd(5)).toBe('$5.00');
    expect(formatUsd(5.125)).toBe('$5.13');
    expect(formatUsd(1234.5)).toBe('$1234.50');
    expect(formatUsd(0)).toBe('$0.00');
  });

  it('shows tiny positive amounts as under a cent and negative amounts with a sign', () => {
    expect(formatUsd(0.0031)).toBe('<$0.01');
    expect(formatUsd(-0.4)).toBe('-$0.40');
    expect(formatUsd(-0.001)).toBe('$0.00');
  });
});
