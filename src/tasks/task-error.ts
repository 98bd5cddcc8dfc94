// A task that failed, with what a dispatcher needs to decide whether to try elsewhere.
import { type ErrorCode, SwarmError } from '../errors.js';

/** A failed attempt: `retryable` when another target may succeed and nothing was sent yet. */
export class TaskError extends SwarmError {
  readonly retryable: boolean;
  readonly chunksDelivered: number;
  readonly retryAfterMs: number;
  /**
   * False when the target itself did nothing wrong: its node died, restarted, left or was paused
   * (membership and activity keep such nodes out already). Such failures do not cool it down.
   */
  readonly targetAtFault: boolean;
  /** The model server's own error type and code, when a worker passed them on (for the client). */
  readonly upstream: { type: string | null; code: string | null } | null;

  constructor(
    code: ErrorCode | string,
    message: string,
    details: {
      retryable: boolean;
      chunksDelivered?: number;
      retryAfterMs?: number;
      cause?: unknown;
      targetAtFault?: boolean;
      upstream?: { type: string | null; code: string | null } | null;
    },
  ) {
    super(code as ErrorCode, message, { cause: details.cause });
    this.name = 'TaskError';
    this.retryable = details.retryable;
    this.chunksDelivered = details.chunksDelivered ?? 0;
    this.retryAfterMs = details.retryAfterMs ?? 0;
    this.targetAtFault = details.targetAtFault ?? true;
    this.upstream = details.upstream ?? null;
  }
}
