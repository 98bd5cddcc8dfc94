import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/util/duration.js';

describe('parseDuration', () => {
  it('reads ms, s, m, h and d', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('90d')).toBe(90 * 86_400_000);
    expect(parseDuration('0.5d')).toBe(43_200_000);
  });

  it('reads a bare number as milliseconds and rejects anything else', () => {
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration(42)).toBe(42);
    expect(parseDuration('3 weeks')).toBeNull();
    expect(parseDuration('d')).toBeNull();
    expect(parseDuration(-1)).toBeNull();
  });
});

describe('formatDuration', () => {
  it('writes whole days as days and everything else as before', () => {
    expect(formatDuration(90 * 86_400_000)).toBe('90d');
    expect(formatDuration(86_400_000)).toBe('1d');
    expect(formatDuration(25 * 3_600_000)).toBe('25h');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(120_000)).toBe('2m');
  });

  it('writes what parseDuration reads back', () => {
    for (const ms of [500, 1500, 120_000, 3_600_000, 86_400_000, 31 * 86_400_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
