import { describe, expect, it } from 'vitest';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { parseGroupBy, parseSince } from '../../../src/usage/args.js';
import { thrown } from '../../helpers/expect-error.js';

const now = new Date(2025, 5, 15, 12, 0).getTime();

describe('parseSince', () => {
  it('reads a duration back from now', () => {
    expect(parseSince('24h', now)).toBe(now - 86_400_000);
    expect(parseSince('7d', now)).toBe(now - 7 * 86_400_000);
    expect(parseSince('30m', now)).toBe(now - 1_800_000);
  });

  it('reads a date as local midnight and a date-time as local time', () => {
    expect(parseSince('2025-06-01', now)).toBe(new Date(2025, 5, 1).getTime());
    expect(parseSince('2025-06-01T08:30', now)).toBe(new Date(2025, 5, 1, 8, 30).getTime());
    expect(parseSince('2025-06-01 08:30', now)).toBe(new Date(2025, 5, 1, 8, 30).getTime());
    expect(parseSince('2025-06-01T08:30:00Z', now)).toBe(Date.UTC(2025, 5, 1, 8, 30));
  });

  it('rejects anything else with ARGS_INVALID naming the flag and value', () => {
    const err = thrown(() => parseSince('yesterday', now), SwarmError);
    expect(err.code).toBe(ErrorCodes.ARGS_INVALID);
    expect(err.message).toContain('--since');
    expect(err.message).toContain('"yesterday"');
  });
});

describe('parseGroupBy', () => {
  it('accepts every grouping key', () => {
    for (const key of ['model', 'node', 'tier', 'client', 'backend']) expect(parseGroupBy(key)).toBe(key);
    expect(parseGroupBy('Model')).toBe('model');
  });

  it('rejects an unknown key with ARGS_INVALID', () => {
    expect(thrown(() => parseGroupBy('gpu'), SwarmError).code).toBe(ErrorCodes.ARGS_INVALID);
  });
});
