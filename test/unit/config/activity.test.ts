import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { SYSTEMD_STOP_TIMEOUT_MS } from '../../../src/config/schema.js';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'swarmd-activity-config-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

const load = (env: Record<string, string> = {}, argv: string[] = []) =>
  loadConfig({ env: { HOME: home, ...env }, argv });

function loadError(env: Record<string, string>, argv: string[] = []): SwarmError {
  try {
    load(env, argv);
  } catch (err) {
    expect(err).toBeInstanceOf(SwarmError);
    return err as SwarmError;
  }
  throw new Error('expected loadConfig to throw');
}

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
