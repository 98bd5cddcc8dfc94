import { describe, expect, it } from 'vitest';
import { envNameFor } from '../../../src/config/options.js';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { thrown } from '../../helpers/expect-error.js';
import { useConfigHome } from './config-home.js';

const configHome = useConfigHome('swarmd-usage-config-');
const { loadFile } = configHome;
const loadError = (text: string, env: Record<string, string> = {}) =>
  thrown(() => loadFile(text, env), SwarmError);

describe('usage config', () => {
  it('defaults to a ledger kept 90 days, in the data dir, with no budgets', () => {
    const config = configHome.load();
    expect(config.usage).toEqual({
      enabled: true,
      path: null,
      retention: 90 * 86_400_000,
      budgets: {
        daily: { warnUsd: null, stopUsd: null },
        monthly: { warnUsd: null, stopUsd: null },
      },
    });
  });

  it('reads budgets in dollars from the file, the environment and flags', () => {
    const config = loadFile(
      'usage:\n  retention: 120d\n  budgets:\n    daily: { warnUsd: 4, stopUsd: 5.5 }\n',
      { [envNameFor('usage.budgets.monthly.stopUsd')]: '50.25' },
      ['--usage.budgets.monthly.warnUsd', '40'],
    );
    expect(config.usage.retention).toBe(120 * 86_400_000);
    expect(config.usage.budgets).toEqual({
      daily: { warnUsd: 4, stopUsd: 5.5 },
      monthly: { warnUsd: 40, stopUsd: 50.25 },
    });
    expect(envNameFor('usage.budgets.daily.stopUsd')).toBe('SWARMD_USAGE__BUDGETS__DAILY__STOP_USD');
  });

  it('treats `stopUsd: null` in the file as no limit', () => {
    expect(
      loadFile('usage:\n  budgets:\n    daily:\n      stopUsd: null\n').usage.budgets.daily.stopUsd,
    ).toBeNull();
  });

  it('rejects a stop level below the warn level, naming the option', () => {
    const err = loadError('usage:\n  budgets:\n    monthly: { warnUsd: 40, stopUsd: 30 }\n');
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain('usage.budgets.monthly.stopUsd');
  });

  it('rejects a negative amount and text that is not a number', () => {
    expect(loadError('usage:\n  budgets:\n    daily: { stopUsd: -1 }\n').message).toContain(
      'usage.budgets.daily.stopUsd',
    );
    const err = loadError('', { SWARMD_USAGE__BUDGETS__DAILY__WARN_USD: 'five' });
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain('usage.budgets.daily.warnUsd');
  });

  it('rejects a retention too short for the monthly budget, but allows 0 (forever)', () => {
    const err = loadError('usage:\n  retention: 7d\n');
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain('usage.retention');
    expect(loadFile('usage:\n  retention: 0\n').usage.retention).toBe(0);
  });

  it('rejects budgets when the ledger they are counted from is off', () => {
    const err = loadError('usage:\n  enabled: false\n  budgets:\n    daily: { stopUsd: 5 }\n');
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain('usage.budgets');
    expect(loadFile('usage:\n  enabled: false\n').usage.enabled).toBe(false);
  });
});
