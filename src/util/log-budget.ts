// A global budget for log lines a stranger can cause (refused TLS handshakes): at most
// `lines` per `windowMs`, whatever the number of source addresses, so a flood from
// thousands of addresses cannot fill the journal. What is dropped is counted and reported
// on the next line that is written. Pure apart from the clock it is given.
import { monotonicMs } from './clock.js';

/** How many lines a window allows, and the window. */
export interface LogBudgetOptions {
  lines: number;
  windowMs: number;
  now?: () => number;
}

/** Take a line from the budget; `suppressed` is how many were dropped before this one. */
export class LogBudget {
  private readonly now: () => number;
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;
  private dropped = 0;

  constructor(private readonly options: LogBudgetOptions) {
    this.now = options.now ?? monotonicMs;
  }

  /** `{ suppressed }` when a line may be written now, null when it must be dropped. */
  take(): { suppressed: number } | null {
    const now = this.now();
    if (now - this.windowStart >= this.options.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used >= this.options.lines) {
      this.dropped += 1;
      return null;
    }
    this.used += 1;
    const suppressed = this.dropped;
    this.dropped = 0;
    return { suppressed };
  }
}
