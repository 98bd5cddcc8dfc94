import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BudgetGuard, type BudgetState } from '../../../src/usage/budget.js';
import { UsageLedger } from '../../../src/usage/ledger.js';
import { cloudRow, usageRow } from '../../unit/usage/fixtures.js';

// Local-time instants, so the test holds in any time zone.
const local = (y: number, m: number, d: number, h = 0, min = 0) => new Date(y, m - 1, d, h, min).getTime();

let dir: string;
let ledger: UsageLedger;
let guard: BudgetGuard;
let now: number;
const changes: BudgetState[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'swarmd-budget-'));
  now = local(2025, 3, 10, 22, 0);
  ledger = UsageLedger.open(join(dir, 'usage.sqlite'), { now: () => now });
  guard = new BudgetGuard(
    { ledger, now: () => now },
    {
      budgets: { daily: { warnUsd: 4, stopUsd: 5 }, monthly: { warnUsd: null, stopUsd: 100 } },
      onChange: (state) => changes.push(state),
    },
  );
});
afterEach(() => {
  guard.stop();
  ledger.close();
  changes.length = 0;
  rmSync(dir, { recursive: true, force: true });
});

describe('BudgetGuard on a real ledger', () => {
  it('warns, then stops once recorded cloud spend crosses the daily limit, and is ok again the next day', () => {
    expect(guard.state().level).toBe('ok');
    ledger.record(usageRow({ ts: now, costUsd: 0 }));
    ledger.record(cloudRow(2.5, { ts: now }));
    expect(guard.state().level).toBe('ok');
    ledger.record(cloudRow(1.6, { ts: now }));
    expect(guard.state()).toEqual({
      level: 'warn',
      reason: 'daily cloud budget warning $4.00 reached ($4.10 spent, stop at $5.00)',
    });
    ledger.record(cloudRow(1.02, { ts: now }));
    expect(guard.state()).toEqual({
      level: 'stop',
      reason: 'daily cloud budget $5.00 reached ($5.12 spent)',
    });
    expect(changes.map((c) => c.level)).toEqual(['warn', 'stop']);

    now = local(2025, 3, 11, 0, 0);
    expect(guard.state()).toEqual({ level: 'ok', reason: null });
    expect(guard.spend().spentMonthUsd).toBeCloseTo(5.12, 9);
  });

  it('starts from the spend already in the ledger after a restart', () => {
    ledger.record(cloudRow(5.5, { ts: now - 60_000 }));
    ledger.record(cloudRow(99, { ts: local(2025, 3, 9, 12) }));
    const path = ledger.path;
    guard.stop();
    ledger.close();
    ledger = UsageLedger.open(path, { now: () => now });
    guard = new BudgetGuard(
      { ledger, now: () => now },
      { budgets: { daily: { warnUsd: 4, stopUsd: 5 }, monthly: { warnUsd: null, stopUsd: 100 } } },
    );
    expect(guard.state().reason).toBe('monthly cloud budget $100.00 reached ($104.50 spent)');
    expect(guard.spend().spentTodayUsd).toBeCloseTo(5.5, 9);
  });
});
