import { describe, expect, it } from 'vitest';
import { LogBudget } from '../../../src/util/log-budget.js';

describe('LogBudget', () => {
  it('allows `lines` per window, drops the rest and reports how many on the next line', () => {
    let now = 0;
    const budget = new LogBudget({ lines: 2, windowMs: 1000, now: () => now });
    expect(budget.take()).toEqual({ suppressed: 0 });
    expect(budget.take()).toEqual({ suppressed: 0 });
    for (let i = 0; i < 5; i++) expect(budget.take()).toBeNull();
    now = 999;
    expect(budget.take()).toBeNull();
    now = 1000;
    expect(budget.take()).toEqual({ suppressed: 6 });
    expect(budget.take()).toEqual({ suppressed: 0 });
    expect(budget.take()).toBeNull();
  });
});
