import { describe, expect, it } from 'vitest';
import {
  BudgetGuard,
  type Budgets,
  budgetState,
  NO_BUDGETS,
  periodBounds,
  type SpendSource,
} from '../../../src/usage/budget.js';
import type { UsageRow } from '../../../src/usage/row.js';
import { cloudRow, usageRow } from './fixtures.js';

// Local-time instants, so the tests hold in any time zone.
const local = (y: number, m: number, d: number, h = 0, min = 0) => new Date(y, m - 1, d, h, min).getTime();

const budgets: Budgets = {
  daily: { warnUsd: 4, stopUsd: 5 },
  monthly: { warnUsd: 40, stopUsd: 50 },
};

describe('budgetState', () => {
  it('is ok below every level, with no reason', () => {
    expect(budgetState({ spentTodayUsd: 3.99, spentMonthUsd: 39 }, budgets)).toEqual({
      level: 'ok',
      reason: null,
    });
  });

  it('warns once a warn level is reached, naming it and the stop level', () => {
    const state = budgetState({ spentTodayUsd: 4.1, spentMonthUsd: 10 }, budgets);
    expect(state.level).toBe('warn');
    expect(state.reason).toBe('daily cloud budget warning $4.00 reached ($4.10 spent, stop at $5.00)');
  });

  it('stops at the stop level with a reason fit for a response header', () => {
    const state = budgetState({ spentTodayUsd: 5.12, spentMonthUsd: 10 }, budgets);
    expect(state).toEqual({ level: 'stop', reason: 'daily cloud budget $5.00 reached ($5.12 spent)' });
    expect(state.reason).toMatch(/^[\x20-\x7e]+$/);
    expect(budgetState({ spentTodayUsd: 5, spentMonthUsd: 10 }, budgets).level).toBe('stop');
  });

  it('names the monthly budget when both are reached, and prefers stop over warn', () => {
    expect(budgetState({ spentTodayUsd: 6, spentMonthUsd: 55 }, budgets).reason).toBe(
      'monthly cloud budget $50.00 reached ($55.00 spent)',
    );
    expect(budgetState({ spentTodayUsd: 6, spentMonthUsd: 45 }, budgets).reason).toMatch(
      /^daily cloud budget \$5\.00/,
    );
  });

  it('treats null levels as no limit and a stop of 0 as no cloud at all', () => {
    expect(budgetState({ spentTodayUsd: 1e6, spentMonthUsd: 1e6 }, NO_BUDGETS).level).toBe('ok');
    const noCloud: Budgets = {
      daily: { warnUsd: null, stopUsd: 0 },
      monthly: { warnUsd: null, stopUsd: null },
    };
    expect(budgetState({ spentTodayUsd: 0, spentMonthUsd: 0 }, noCloud).level).toBe('stop');
  });
});

describe('periodBounds', () => {
  it('spans the local day and month around an instant', () => {
    const b = periodBounds(local(2025, 1, 31, 23, 59));
    expect(b.dayStartMs).toBe(local(2025, 1, 31));
    expect(b.dayEndMs).toBe(local(2025, 2, 1));
    expect(b.monthStartMs).toBe(local(2025, 1, 1));
    expect(b.monthEndMs).toBe(local(2025, 2, 1));
  });

  it('rolls over the year and handles leap February', () => {
    const b = periodBounds(local(2024, 12, 31, 12));
    expect(b.monthEndMs).toBe(local(2025, 1, 1));
    const feb = periodBounds(local(2024, 2, 29, 8));
    expect(feb.dayStartMs).toBe(local(2024, 2, 29));
    expect(feb.monthEndMs).toBe(local(2024, 3, 1));
  });
});

/** A ledger stand-in: rows in memory, counts how often spend is read. */
class FakeLedger implements SpendSource {
  rows: UsageRow[] = [];
  reads = 0;
  private listeners = new Set<(row: UsageRow) => void>();

  cloudSpend(window: { sinceMs: number; untilMs?: number }): number {
    this.reads++;
    const until = window.untilMs ?? Number.MAX_SAFE_INTEGER;
    return this.rows
      .filter((r) => r.cloud && r.ts >= window.sinceMs && r.ts < until)
      .reduce((sum, r) => sum + r.costUsd, 0);
  }

  onRecord(listener: (row: UsageRow) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  record(row: UsageRow) {
    this.rows.push(row);
    for (const listener of this.listeners) listener(row);
  }
}

describe('BudgetGuard', () => {
  function setup(startMs: number, refreshMs = 60_000) {
    const ledger = new FakeLedger();
    let now = startMs;
    const changes: string[] = [];
    const guard = new BudgetGuard(
      { ledger, now: () => now },
      { budgets, refreshMs, onChange: (state) => changes.push(state.level) },
    );
    return { ledger, guard, changes, setNow: (ms: number) => (now = ms), now: () => now };
  }

  it('counts recorded cloud spend without reading the ledger per request', () => {
    const t = setup(local(2025, 3, 10, 9));
    expect(t.guard.state().level).toBe('ok');
    const readsAfterFirst = t.ledger.reads;
    t.ledger.record(cloudRow(3, { ts: t.now() }));
    t.ledger.record(usageRow({ ts: t.now() }));
    expect(t.guard.state().level).toBe('ok');
    t.ledger.record(cloudRow(2.5, { ts: t.now() }));
    for (let i = 0; i < 100; i++) expect(t.guard.state().level).toBe('stop');
    expect(t.guard.spend()).toEqual({ spentTodayUsd: 5.5, spentMonthUsd: 5.5 });
    expect(t.ledger.reads).toBe(readsAfterFirst);
    expect(t.changes).toEqual(['stop']);
  });

  it('flips back to ok when the local day turns, still counting the month', () => {
    const t = setup(local(2025, 3, 10, 23, 50));
    t.ledger.record(cloudRow(6, { ts: t.now() }));
    expect(t.guard.state()).toEqual({
      level: 'stop',
      reason: 'daily cloud budget $5.00 reached ($6.00 spent)',
    });
    t.setNow(local(2025, 3, 11, 0, 1));
    expect(t.guard.state()).toEqual({ level: 'ok', reason: null });
    expect(t.guard.spend()).toEqual({ spentTodayUsd: 0, spentMonthUsd: 6 });
    expect(t.changes).toEqual(['stop', 'ok']);
  });

  it('stops for the rest of the month once the monthly budget is reached, until the 1st', () => {
    const t = setup(local(2025, 3, 1, 10));
    for (let day = 1; day <= 11; day++) t.ledger.rows.push(cloudRow(4.6, { ts: local(2025, 3, day, 10) }));
    t.setNow(local(2025, 3, 11, 12));
    expect(t.guard.state().reason).toBe('monthly cloud budget $50.00 reached ($50.60 spent)');
    t.setNow(local(2025, 3, 31, 23, 59));
    expect(t.guard.state().level).toBe('stop');
    t.setNow(local(2025, 4, 1, 0, 0));
    expect(t.guard.state().level).toBe('ok');
  });

  it('re-reads the ledger at most every refreshMs', () => {
    const t = setup(local(2025, 3, 10, 9), 30_000);
    t.guard.state();
    const reads = t.ledger.reads;
    t.ledger.rows.push(cloudRow(7, { ts: t.now() })); // written behind the guard's back
    t.setNow(t.now() + 29_000);
    expect(t.guard.state().level).toBe('ok');
    expect(t.ledger.reads).toBe(reads);
    t.setNow(t.now() + 1_000);
    expect(t.guard.state().level).toBe('stop');
    expect(t.ledger.reads).toBeGreaterThan(reads);
  });

  it('never reads the ledger when no budget is set, and stops listening on stop()', () => {
    const ledger = new FakeLedger();
    const guard = new BudgetGuard({ ledger, now: () => local(2025, 3, 10) }, { budgets: NO_BUDGETS });
    ledger.record(cloudRow(1000));
    expect(guard.state()).toEqual({ level: 'ok', reason: null });
    expect(ledger.reads).toBe(0);

    const t = setup(local(2025, 3, 10, 9));
    t.guard.state();
    t.guard.stop();
    t.guard.stop();
    t.ledger.record(cloudRow(6, { ts: t.now() }));
    expect(t.guard.spend().spentTodayUsd).toBe(0);
  });
});
