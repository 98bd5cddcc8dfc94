import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SYSTEMD_STOP_TIMEOUT_MS } from '../../../src/config/schema.js';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { thrown } from '../../helpers/expect-error.js';
import { useConfigHome } from './config-home.js';

const { load } = useConfigHome('swarmd-activity-config-');
const loadError = (env: Record<string, string>, argv: string[] = []) =>
  thrown(() => load(env, argv), SwarmError);

describe('shutdown and gaming config', () => {
  it('defaults: a 20 s drain grace, gaming mode off, 2 min quiet period, 5 s checks', () => {
    const config = load();
    expect(config.shutdown.drainGrace).toBe(20_000);
    expect(config.gaming.autoPause).toMatchObject({
      processes: [],
      vramThresholdMib: 0,
      gpuUtilThresholdPct: 0,
      quietPeriod: 120_000,
      checkInterval: 5_000,
    });
    expect(config.gaming.autoPause.ignore).toContain('ollama');
  });

  it('knows the TimeoutStopSec the systemd unit really has', () => {
    const unit = readFileSync(join(import.meta.dirname, '../../../systemd/swarmd.service'), 'utf8');
    expect(unit).toContain(`TimeoutStopSec=${SYSTEMD_STOP_TIMEOUT_MS / 1000}\n`);
  });

  it('rejects a drain grace systemd would cut short, naming the option and the limit', () => {
    const err = loadError({ SWARMD_SHUTDOWN__DRAIN_GRACE: '45s' });
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain('shutdown.drainGrace');
    expect(err.message).toContain('TimeoutStopSec');
    expect(load({ SWARMD_SHUTDOWN__DRAIN_GRACE: '30s' }).shutdown.drainGrace).toBe(30_000);
    expect(loadError({ SWARMD_SHUTDOWN__DRAIN_GRACE: 'soon' }).message).toContain('"soon"');
  });

  it('takes the gaming rules from flags and the environment', () => {
    const config = load({ SWARMD_GAMING__AUTO_PAUSE__VRAM_THRESHOLD_MIB: '2048' }, [
      '--gaming.autoPause.processes',
      'steam,gamescope',
      '--gaming.autoPause.quietPeriod',
      '30s',
    ]);
    expect(config.gaming.autoPause).toMatchObject({
      processes: ['steam', 'gamescope'],
      vramThresholdMib: 2048,
      quietPeriod: 30_000,
    });
    expect(loadError({ SWARMD_GAMING__AUTO_PAUSE__GPU_UTIL_THRESHOLD_PCT: '140' }).message).toContain(
      'gpuUtilThresholdPct',
    );
  });
});
