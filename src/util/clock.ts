// Time spans use the monotonic clock; only timestamps shown to people use wall time.
import { performance } from 'node:perf_hooks';

/** Monotonic milliseconds, for leases, timeouts and failure detection. */
export function monotonicMs(): number {
  return performance.now();
}

/** Wall-clock milliseconds since the epoch, for display and `stateSince`. */
export function wallMs(): number {
  return Date.now();
}
