import { describe, expect, it } from 'vitest';
import {
  applySilence,
  initialLiveness,
  onHeard,
  onLeft,
  shouldForget,
} from '../../../src/membership/peer-state.js';

const timings = { suspectAfterMs: 1500, deadAfterMs: 3000 };

describe('peer liveness state machine', () => {
  it('goes alive → suspect → dead as silence grows, stamping stateSince at each change', () => {
    let state = initialLiveness(100, 0, 1_000);
    state = applySilence(state, timings, 1_000, 2_000);
    expect(state.liveness).toBe('alive');
    state = applySilence(state, timings, 1_600, 2_600);
    expect(state).toMatchObject({ liveness: 'suspect', stateSinceWall: 2_600 });
    state = applySilence(state, timings, 3_100, 4_100);
    expect(state).toMatchObject({ liveness: 'dead', stateSinceWall: 4_100 });
  });

  it('revives a dead peer that is heard again with the same incarnation', () => {
    const dead = applySilence(initialLiveness(100, 0, 0), timings, 5_000, 5_000);
    const { state, event } = onHeard(dead, 100, 6_000, 6_000);
    expect(event).toBe('revived');
    expect(state).toMatchObject({ liveness: 'alive', lastHeardMono: 6_000, stateSinceWall: 6_000 });
  });

  it('treats a higher incarnation as a restart and a lower one as stale', () => {
    const state = initialLiveness(100, 0, 0);
    expect(onHeard(state, 200, 10, 10)).toMatchObject({
      event: 'restarted',
      state: { incarnation: 200, liveness: 'alive' },
    });
    const stale = onHeard(state, 50, 10, 10);
    expect(stale.event).toBe('stale');
    expect(stale.state).toBe(state);
  });

  it('keeps a left peer left until a new incarnation appears', () => {
    const left = onLeft(initialLiveness(100, 0, 0), 100, 500);
    expect(left).toMatchObject({ liveness: 'left', stateSinceWall: 500 });
    expect(onHeard(left, 100, 600, 600).event).toBe('ignored-left');
    expect(applySilence(left, timings, 100_000, 100_000).liveness).toBe('left');
    expect(onHeard(left, 101, 700, 700).state.liveness).toBe('alive');
  });

  it('ignores a goodbye from an older incarnation', () => {
    const state = initialLiveness(200, 0, 0);
    expect(onLeft(state, 100, 10)).toBe(state);
  });

  it('grants slack to peers when this node was starved', () => {
    const state = initialLiveness(1, 0, 0);
    expect(applySilence(state, timings, 3_600, 0, 2_000).liveness).toBe('suspect');
    expect(applySilence(state, timings, 3_500, 0, 0).liveness).toBe('dead');
  });

  it('forgets dead or left peers only after the forget delay', () => {
    const dead = applySilence(initialLiveness(1, 0, 0), timings, 4_000, 0);
    expect(shouldForget(dead, 60_000, 30_000)).toBe(false);
    expect(shouldForget(dead, 60_000, 70_000)).toBe(true);
    expect(shouldForget(initialLiveness(1, 0, 0), 60_000, 70_000)).toBe(false);
  });
});
