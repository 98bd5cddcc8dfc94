// The arguments of `swarmctl usage` read into a window and a grouping. Pure; errors are
// SwarmError ARGS_INVALID naming the flag, the value received and what is accepted.
import { ErrorCodes, SwarmError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import { USAGE_GROUP_BY, type UsageGroupBy } from './summary.js';

/** The window `swarmctl usage` shows when --since is not given. */
export const DEFAULT_SINCE = '24h';

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

/**
 * The start of a window, ms epoch: a duration back from `nowMs` ("24h", "7d", "30m") or a local
 * date or date-time ("2025-01-31" is local midnight, "2025-01-31T08:00", or ISO with a zone).
 */
export function parseSince(text: string, nowMs: number, flag = '--since'): number {
  const trimmed = text.trim();
  const duration = parseDuration(trimmed);
  if (duration !== null) return nowMs - duration;
  const date = DATE_ONLY.exec(trimmed);
  if (date) return new Date(Number(date[1]), Number(date[2]) - 1, Number(date[3])).getTime();
  if (DATE_TIME.test(trimmed)) {
    const ms = Date.parse(trimmed.replace(' ', 'T'));
    if (!Number.isNaN(ms)) return ms;
  }
  throw new SwarmError(
    ErrorCodes.ARGS_INVALID,
    `${flag}: got ${JSON.stringify(text)}; expected a duration back from now (30m, 24h, 7d) or a local date (2025-01-31, 2025-01-31T08:00)`,
  );
}

/** The grouping named by --by; throws ARGS_INVALID listing the accepted keys. */
export function parseGroupBy(text: string, flag = '--by'): UsageGroupBy {
  const key = text.trim().toLowerCase();
  if ((USAGE_GROUP_BY as readonly string[]).includes(key)) return key as UsageGroupBy;
  throw new SwarmError(
    ErrorCodes.ARGS_INVALID,
    `${flag}: got ${JSON.stringify(text)}; expected one of ${USAGE_GROUP_BY.join(', ')}`,
  );
}
