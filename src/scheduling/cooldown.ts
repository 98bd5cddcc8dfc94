// Cooldown of failing nodes and backends: after `after` consecutive failures a key is left
// alone for `baseMs`; each further failure doubles that, up to `maxMs`; one success clears
// it. Failures more than twice `maxMs` apart do not count as consecutive. Pure: time comes
// in as numbers (monotonic ms), so the dispatcher holds one instance and tests need no clock.
import type { Target } from '../inference/types.js';

/** The cooldown settings (routing.cooldownAfter, routing.cooldown, routing.cooldownMax). */
export interface CooldownInit {
  after: number;
  baseMs: number;
  maxMs: number;
}

interface Entry {
  failures: number;
  lastFailureMs: number;
  untilMs: number;
}

/** The keys a target is cooled under: its node, and its backend on that node. */
export const cooldownKeys = {
  /** Key of a whole node (a peer that fails every request, whatever the backend). */
  node: (target: Pick<Target, 'nodeId'>): string => `node:${target.nodeId}`,
  /** Key of one backend on one node (a cloud provider is a backend of its own). */
  backend: (target: Pick<Target, 'nodeId' | 'backendId'>): string =>
    `backend:${target.nodeId}|${target.backendId}`,
};

/** Tracks consecutive failures per key and says which keys are cooling down. */
export class CooldownTracker {
  private readonly entries = new Map<string, Entry>();
  private readonly init: CooldownInit;

  constructor(init: CooldownInit) {
    this.init = {
      after: Math.max(1, init.after),
      baseMs: init.baseMs,
      maxMs: Math.max(init.baseMs, init.maxMs),
    };
  }

  /** Count a failure; returns the time (ms) the key cools down until, or null when it does not. */
  recordFailure(key: string, nowMs: number): number | null {
    const previous = this.entries.get(key);
    const stale = previous !== undefined && nowMs - previous.lastFailureMs > 2 * this.init.maxMs;
    const failures = previous && !stale ? previous.failures + 1 : 1;
    let untilMs = previous && !stale ? previous.untilMs : 0;
    if (failures >= this.init.after) {
      const doublings = Math.min(failures - this.init.after, 30);
      untilMs = nowMs + Math.min(this.init.baseMs * 2 ** doublings, this.init.maxMs);
    }
    this.entries.set(key, { failures, lastFailureMs: nowMs, untilMs });
    return untilMs > nowMs ? untilMs : null;
  }

  /** A success clears the key's failures and cooldown. */
  recordSuccess(key: string): void {
    this.entries.delete(key);
  }

  /** Forget every failure of a node and its backends (it came back as a new process). */
  forgetNode(nodeId: string): void {
    const backendPrefix = `backend:${nodeId}|`;
    for (const key of [...this.entries.keys()])
      if (key === `node:${nodeId}` || key.startsWith(backendPrefix)) this.entries.delete(key);
  }

  /** True while the key cools down. */
  isCooling(key: string, nowMs: number): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.untilMs > nowMs;
  }

  /** When the key's cooldown ends (ms), or null when it is not cooling. */
  coolingUntil(key: string, nowMs: number): number | null {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.untilMs > nowMs ? entry.untilMs : null;
  }

  /** Consecutive failures counted for the key. */
  failures(key: string): number {
    return this.entries.get(key)?.failures ?? 0;
  }
}
