import { describe, expect, it } from 'vitest';
import {
  decideActivity,
  GAMING_IDLE,
  type GamingRules,
  gamingEnabled,
  gamingStep,
  judgeGaming,
} from '../../../src/activity/decide.js';
import type { GpuUsage } from '../../../src/node/nvidia-smi-xml.js';

const rules: GamingRules = {
  processes: ['steam', 'wine64-preloader'],
  vramThresholdMib: 4096,
  gpuUtilThresholdPct: 0,
  ignore: ['ollama', 'llama-server'],
};

const gpu = (processes: GpuUsage['processes'], utilPct: number | null = null): GpuUsage[] => [
  { index: 0, utilPct, processes },
];

describe('decideActivity', () => {
  it('draining beats a manual pause, which beats gaming', () => {
    expect(decideActivity({ draining: null, manual: null, gaming: null })).toEqual({
      activity: 'ACTIVITY_ACTIVE',
      reason: '',
    });
    expect(decideActivity({ draining: null, manual: null, gaming: 'gaming: steam' })).toEqual({
      activity: 'ACTIVITY_PAUSED',
      reason: 'gaming: steam',
    });
    expect(decideActivity({ draining: null, manual: 'manual', gaming: 'gaming: steam' }).reason).toBe(
      'manual',
    );
    expect(decideActivity({ draining: 'shutting down', manual: 'manual', gaming: null })).toEqual({
      activity: 'ACTIVITY_DRAINING',
      reason: 'shutting down',
    });
  });
});

describe('judgeGaming', () => {
  const none = { processes: [], gpus: null, ownWork: 0 };

  it('is off with no rules, and finds nothing on an idle box', () => {
    expect(gamingEnabled({ ...rules, processes: [], vramThresholdMib: 0 })).toBe(false);
    expect(gamingEnabled(rules)).toBe(true);
    expect(judgeGaming(none, rules)).toBeNull();
  });

  it('matches a listed process by comm, by argv[0], and by comm cut to 15 characters', () => {
    const proc = (comm: string, argv0 = '') => ({ ...none, processes: [{ pid: 1, comm, argv0 }] });
    expect(judgeGaming(proc('steam'), rules)).toBe('gaming: steam');
    expect(judgeGaming(proc('reaper', 'steam'), rules)).toBe('gaming: steam');
    expect(judgeGaming(proc('wine64-preloade'), rules)).toBe('gaming: wine64-preloader');
    expect(judgeGaming(proc('steamwebhelper'), rules)).toBeNull();
  });

  it('sums graphics VRAM of processes that are not backends and names the biggest', () => {
    const busy = gpu([
      { pid: 1, type: 'G', name: '/usr/lib/xorg/Xorg', usedMib: 400 },
      { pid: 2, type: 'G', name: '/games/game.x86_64', usedMib: 5744 },
      { pid: 3, type: 'C', name: '/usr/lib/ollama/llama-server', usedMib: 9000 },
    ]);
    expect(judgeGaming({ ...none, gpus: busy }, rules)).toBe(
      'gaming: 6.0 GiB VRAM used by game.x86_64 and 1 more',
    );
  });

  it('does not count compute processes, ignored names, N/A, or a desktop below the threshold', () => {
    const quiet = gpu([
      { pid: 1, type: 'G', name: '/usr/lib/xorg/Xorg', usedMib: 600 },
      { pid: 2, type: 'C', name: 'python3', usedMib: 20000 },
      { pid: 3, type: 'C+G', name: 'ollama', usedMib: 9000 },
      { pid: 4, type: 'G', name: 'game.exe', usedMib: null },
    ]);
    expect(judgeGaming({ ...none, gpus: quiet }, rules)).toBeNull();
    // ...but Xorg alone above the threshold counts.
    const heavy = gpu([{ pid: 1, type: 'G', name: '/usr/lib/xorg/Xorg', usedMib: 5000 }]);
    expect(judgeGaming({ ...none, gpus: heavy }, rules)).toBe('gaming: 4.9 GiB VRAM used by Xorg');
  });

  it('judges GPU use only while this node runs no work of its own', () => {
    const utilRules = { ...rules, vramThresholdMib: 0, gpuUtilThresholdPct: 80 };
    const hot = gpu([], 93);
    expect(judgeGaming({ ...none, gpus: hot }, utilRules)).toBe('gaming: GPU 93% busy');
    expect(judgeGaming({ ...none, gpus: hot, ownWork: 1 }, utilRules)).toBeNull();
    expect(judgeGaming({ ...none, gpus: gpu([], 50) }, utilRules)).toBeNull();
  });
});

describe('gamingStep (quiet period)', () => {
  const quiet = 120_000;

  it('pauses at once, stays paused through the quiet period, then resumes', () => {
    let state = gamingStep(GAMING_IDLE, 'gaming: steam', 1_000, quiet);
    expect(state.reason).toBe('gaming: steam');
    state = gamingStep(state, null, 1_000 + quiet - 1, quiet);
    expect(state.reason).toBe('gaming: steam');
    state = gamingStep(state, null, 1_000 + quiet, quiet);
    expect(state.reason).toBeNull();
  });

  it('restarts the quiet period whenever the game shows again, and updates the reason', () => {
    let state = gamingStep(GAMING_IDLE, 'gaming: steam', 0, quiet);
    state = gamingStep(state, null, 100_000, quiet);
    state = gamingStep(state, 'gaming: 6.0 GiB VRAM used by game.x86_64', 110_000, quiet);
    expect(state.reason).toBe('gaming: 6.0 GiB VRAM used by game.x86_64');
    expect(gamingStep(state, null, 110_000 + quiet - 1, quiet).reason).not.toBeNull();
    expect(gamingStep(state, null, 110_000 + quiet, quiet).reason).toBeNull();
  });

  it('stays idle while idle', () => {
    expect(gamingStep(GAMING_IDLE, null, 5, quiet)).toBe(GAMING_IDLE);
  });
});
