import { describe, expect, it } from 'vitest';
import { ActivityController } from '../../../src/activity/controller.js';
import type { WireActivity } from '../../../src/rpc/wire.js';
import { createLogger } from '../../../src/util/logger.js';
import { sleep } from '../../helpers/wait.js';

/** A controller over fake work: `running` requests that end when handed back. */
function setup(running = 0) {
  const state = { running, coordinating: 0, heartbeats: 0, handBacks: 0, exits: 0, unloads: 0 };
  const self = {
    activity: 'ACTIVITY_ACTIVE' as WireActivity,
    activityReason: '',
    setActivity(activity: WireActivity, reason = '') {
      self.activity = activity;
      self.activityReason = reason;
    },
  };
  const controller = new ActivityController(
    {
      logger: createLogger('silent'),
      self,
      heartbeatNow: async () => {
        state.heartbeats++;
      },
      work: {
        inflight: () => state.running,
        coordinating: () => state.coordinating,
        handBack: () => {
          state.handBacks++;
          const n = state.running;
          state.running = 0;
          return n;
        },
      },
      unload: async () => {
        state.unloads++;
        return [];
      },
      exit: () => {
        state.exits++;
      },
    },
    { defaultGraceMs: 10_000 },
  );
  return { controller, state, self };
}

describe('ActivityController', () => {
  it('tells peers at once and answers at once; an idle node is drained already', async () => {
    const { controller, state, self } = setup();
    const report = await controller.pause({ source: 'manual', reason: 'manual', graceMs: 10_000 });
    expect(self.activity).toBe('ACTIVITY_PAUSED');
    expect(state.heartbeats).toBe(1);
    expect(report).toMatchObject({
      activity: 'ACTIVITY_PAUSED',
      reason: 'manual',
      inflight: 0,
      drained: true,
    });
  });

  it('hands running work back when the grace runs out, and only then unloads', async () => {
    const { controller, state } = setup(2);
    const started = Date.now();
    const report = await controller.pause({ source: 'manual', reason: 'manual', graceMs: 200, unload: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(report).toMatchObject({ drained: true, handedBack: 2, inflight: 0 });
    expect(state.unloads).toBe(1);
  });

  it('does not hand back work that finished within the grace', async () => {
    const { controller, state } = setup(1);
    setTimeout(() => {
      state.running = 0;
    }, 100);
    const report = await controller.pause({ source: 'manual', reason: 'manual', graceMs: 5_000, wait: true });
    expect(report).toMatchObject({ drained: true, handedBack: 0 });
    expect(state.handBacks).toBe(0);
  });

  it('resume within the grace cancels the hand-back', async () => {
    const { controller, state, self } = setup(1);
    await controller.pause({ source: 'manual', reason: 'manual', graceMs: 150 });
    await controller.resume();
    expect(self.activity).toBe('ACTIVITY_ACTIVE');
    await sleep(300);
    expect(state.handBacks).toBe(0);
  });

  it('a manual pause outlasts gaming, and resume leaves a gaming pause in place', async () => {
    const { controller, self } = setup();
    await controller.pause({ source: 'manual', reason: 'manual' });
    await controller.setGaming('gaming: steam');
    expect(self.activityReason).toBe('manual');
    await controller.setGaming(null);
    expect(self.activity).toBe('ACTIVITY_PAUSED');
    await controller.setGaming('gaming: steam');
    const report = await controller.resume();
    expect(report).toMatchObject({ activity: 'ACTIVITY_PAUSED', reason: 'gaming: steam' });
    await controller.setGaming(null);
    expect(self.activity).toBe('ACTIVITY_ACTIVE');
  });

  it('shutdownDrain does not wait on an idle node and waits for our requests on peers', async () => {
    const idle = setup();
    const t0 = Date.now();
    await idle.controller.shutdownDrain(10_000);
    expect(Date.now() - t0).toBeLessThan(2_000); // not the 10 s grace
    expect(idle.self.activity).toBe('ACTIVITY_DRAINING');

    const busy = setup();
    busy.state.coordinating = 1;
    setTimeout(() => {
      busy.state.coordinating = 0;
    }, 150);
    const t1 = Date.now();
    const report = await busy.controller.shutdownDrain(10_000);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(140);
    expect(report.handedBack).toBe(0);
  });

  it('drain stops the daemon once drained', async () => {
    const { controller, state } = setup(1);
    const report = await controller.drain(100);
    expect(report).toMatchObject({ activity: 'ACTIVITY_DRAINING', handedBack: 1 });
    await sleep(200);
    expect(state.exits).toBe(1);
  });
});
