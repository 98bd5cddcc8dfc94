// Cloud budgets: daily and monthly spend limits, each with a warn and a stop level. Budgets are
// per node: each node limits the cloud spend of the requests it records. Days and months are
// local calendar time; the clock is passed in. budgetState() and periodBounds() are pure; the
// BudgetGuard caches spend totals so the request path runs no SQL.

import { formatUsd } from './prices.js';
import type { UsageRow } from './row.js';

/** Warn and stop levels of one period in USD; null: no such level. */
export interface BudgetLevels {
  warnUsd: number | null;
  stopUsd: number | null;
}

/** The budgets of this node (the shape of config `usage.budgets`). */
export interface Budgets {
  daily: BudgetLevels;
  monthly: BudgetLevels;
}

/** ok: cloud allowed; warn: allowed, a warning level is reached; stop: cloud providers are skipped. */
export type BudgetLevel = 'ok' | 'warn' | 'stop';

/** Where spend stands against the budgets; `reason` (ASCII, fit for a response header) is null when ok. */
export interface BudgetState {
  level: BudgetLevel;
  reason: string | null;
}

/** Cloud spend in USD of the current local day and month. */
export interface CloudSpendTotals {
  spentTodayUsd: number;
  spentMonthUsd: number;
}

/** Start and end (exclusive) of the local day and month around an instant, ms epoch. */
export interface PeriodBounds {
  dayStartMs: number;
  dayEndMs: number;
  monthStartMs: number;
  monthEndMs: number;
}

/** Budgets with no level set. */
export const NO_BUDGETS: Budgets = {
  daily: { warnUsd: null, stopUsd: null },
  monthly: { warnUsd: null, stopUsd: null },
};

const OK: BudgetState = { level: 'ok', reason: null };

/** True when any level is set. */
export function hasBudgets(budgets: Budgets): boolean {
  return [budgets.daily, budgets.monthly].some((b) => b.warnUsd !== null || b.stopUsd !== null);
}

/**
 * The level spend has reached: stop when any stop level is reached (spent >= stop), else warn
 * when any warn level is; the monthly budget is named first when both are, as it lasts longer.
 */
export function budgetState(spend: CloudSpendTotals, budgets: Budgets): BudgetState {
  const periods = [
    { name: 'monthly', spent: spend.spentMonthUsd, levels: budgets.monthly },
    { name: 'daily', spent: spend.spentTodayUsd, levels: budgets.daily },
  ];
  for (const { name, spent, levels } of periods) {
    if (levels.stopUsd !== null && spent >= levels.stopUsd) {
      return {
        level: 'stop',
        reason: `${name} cloud budget ${formatUsd(levels.stopUsd)} reached (${formatUsd(spent)} spent)`,
      };
    }
  }
  for (const { name, spent, levels } of periods) {
    if (levels.warnUsd !== null && spent >= levels.warnUsd) {
      const stop = levels.stopUsd === null ? '' : `, stop at ${formatUsd(levels.stopUsd)}`;
      return {
        level: 'warn',
        reason: `${name} cloud budget warning ${formatUsd(levels.warnUsd)} reached (${formatUsd(spent)} spent${stop})`,
      };
    }
  }
  return OK;
}

/** The local day and month `nowMs` falls in (DST-safe: boundaries are local midnights). */
export function periodBounds(nowMs: number): PeriodBounds {
  const now = new Date(nowMs);
  const y = now.getFullYear();
  const m = now.getMonth();
  const d = now.getDate();
  return {
    dayStartMs: new Date(y, m, d).getTime(),
    dayEndMs: new Date(y, m, d + 1).getTime(),
    monthStartMs: new Date(y, m, 1).getTime(),
    monthEndMs: new Date(y, m + 1, 1).getTime(),
  };
}

/** What the guard reads spend from and listens to: the usage ledger. */
export interface SpendSource {
  cloudSpend(window: { sinceMs: number; untilMs?: number }): number;
  onRecord(listener: (row: UsageRow) => void): () => void;
}

/** Dependencies of a BudgetGuard. */
export interface BudgetGuardComponents {
  ledger: SpendSource;
  /** Wall clock, ms epoch. */
  now?: () => number;
}

/** Options of a BudgetGuard. */
export interface BudgetGuardInit {
  budgets: Budgets;
  /** Longest time cached totals are trusted before they are read from the ledger again (ms). */
  refreshMs?: number;
  /** Called when the level changes (to log a warning once, not per request). */
  onChange?: (state: BudgetState, spend: CloudSpendTotals) => void;
}

/** Default refreshMs: the cached totals are re-read from the ledger at most once a minute. */
export const BUDGET_REFRESH_MS = 60_000;

/**
 * Answers "may this request use the cloud?" without SQL on the request path: spend totals are
 * read from the ledger at most every refreshMs and when the local day or month turns, and grow
 * with each recorded cloud row in between. With no budget set it never reads the ledger.
 */
export class BudgetGuard {
  private readonly ledger: SpendSource;
  private readonly now: () => number;
  private readonly budgets: Budgets;
  private readonly refreshMs: number;
  private readonly onChange: BudgetGuardInit['onChange'];
  private readonly active: boolean;
  private unsubscribe: (() => void) | null = null;
  private bounds: PeriodBounds | null = null;
  private readAtMs = 0;
  private totals: CloudSpendTotals = { spentTodayUsd: 0, spentMonthUsd: 0 };
  private last: BudgetState = OK;

  constructor(components: BudgetGuardComponents, init: BudgetGuardInit) {
    this.ledger = components.ledger;
    this.now = components.now ?? Date.now;
    this.budgets = init.budgets;
    this.refreshMs = init.refreshMs ?? BUDGET_REFRESH_MS;
    this.onChange = init.onChange;
    this.active = hasBudgets(init.budgets);
    if (this.active) this.unsubscribe = this.ledger.onRecord((row) => this.add(row));
  }

  /** The budget state now, from cached totals (re-read when stale or a new day or month began). */
  state(): BudgetState {
    if (!this.active) return OK;
    const now = this.now();
    this.refreshIfStale(now);
    const state = budgetState(this.totals, this.budgets);
    if (state.level !== this.last.level) this.onChange?.(state, { ...this.totals });
    this.last = state;
    return state;
  }

  /** Cloud spend of the current local day and month, as the guard counts it. */
  spend(): CloudSpendTotals {
    if (this.active) this.refreshIfStale(this.now());
    return { ...this.totals };
  }

  /** Stop listening to the ledger; safe to call twice. */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private refreshIfStale(now: number): void {
    const b = this.bounds;
    const stale =
      b === null ||
      now < b.dayStartMs ||
      now >= b.dayEndMs ||
      now < this.readAtMs ||
      now - this.readAtMs >= this.refreshMs;
    if (!stale) return;
    const bounds = periodBounds(now);
    this.totals = {
      spentTodayUsd: this.ledger.cloudSpend({ sinceMs: bounds.dayStartMs, untilMs: bounds.dayEndMs }),
      spentMonthUsd: this.ledger.cloudSpend({ sinceMs: bounds.monthStartMs, untilMs: bounds.monthEndMs }),
    };
    this.bounds = bounds;
    this.readAtMs = now;
  }

  private add(row: UsageRow): void {
    const b = this.bounds;
    if (!row.cloud || row.costUsd === 0 || b === null) return;
    if (row.ts >= b.dayStartMs && row.ts < b.dayEndMs) this.totals.spentTodayUsd += row.costUsd;
    if (row.ts >= b.monthStartMs && row.ts < b.monthEndMs) this.totals.spentMonthUsd += row.costUsd;
  }
}
