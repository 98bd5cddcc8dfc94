import { describe, expect, it } from 'vitest';
import { CooldownTracker, cooldownKeys } from '../../../src/scheduling/cooldown.js';

const tracker = () => new CooldownTracker({ after: 3, baseMs: 30_000, maxMs: 120_000 });

describe('CooldownTracker', () => {
  it('cools a key down after the configured number of consecutive failures', () => {
    const t = tracker();
    expect(t.recordFailure('k', 0)).toBeNull();
    expect(t.recordFailure('k', 10)).toBeNull();
    expect(t.isCooling('k', 10)).toBe(false);
    expect(t.recordFailure('k', 20)).toBe(30_020);
    expect(t.isCooling('k', 20)).toBe(true);
    expect(t.coolingUntil('k', 20)).toBe(30_020);
    expect(t.isCooling('other', 20)).toBe(false);
  });

  it('lets the cooldown expire so the key is tried again', () => {
    const t = tracker();
    for (const now of [0, 1, 2]) t.recordFailure('k', now);
    expect(t.isCooling('k', 30_001)).toBe(true);
    expect(t.isCooling('k', 30_002)).toBe(false);
    expect(t.coolingUntil('k', 30_002)).toBeNull();
  });

  it('doubles the cooldown on each further failure, up to the cap', () => {
    const t = tracker();
    for (const now of [0, 0, 0]) t.recordFailure('k', now);
    expect(t.recordFailure('k', 40_000)).toBe(40_000 + 60_000);
    expect(t.recordFailure('k', 100_000)).toBe(100_000 + 120_000);
    expect(t.recordFailure('k', 220_000)).toBe(220_000 + 120_000);
  });

  it('clears everything on a success', () => {
    const t = tracker();
    for (const now of [0, 0, 0]) t.recordFailure('k', now);
    t.recordSuccess('k');
    expect(t.isCooling('k', 1)).toBe(false);
    expect(t.failures('k')).toBe(0);
    expect(t.recordFailure('k', 2)).toBeNull();
  });

  it('forgets a node and its backends, and only that node', () => {
    const t = tracker();
    const a = { nodeId: 'aaaa', backendId: 'ollama@x' };
    const b = { nodeId: 'bbbb', backendId: 'ollama@x' };
    for (const now of [0, 0, 0])
      for (const key of [cooldownKeys.node(a), cooldownKeys.backend(a), cooldownKeys.node(b)])
        t.recordFailure(key, now);
    t.forgetNode('aaaa');
    expect(t.isCooling(cooldownKeys.node(a), 1)).toBe(false);
    expect(t.isCooling(cooldownKeys.backend(a), 1)).toBe(false);
    expect(t.isCooling(cooldownKeys.node(b), 1)).toBe(true);
  });

  it('does not count failures far apart as consecutive', () => {
    const t = tracker();
    t.recordFailure('k', 0);
    t.recordFailure('k', 1);
    expect(t.recordFailure('k', 1 + 240_001)).toBeNull();
    expect(t.failures('k')).toBe(1);
  });

  it('names node and backend keys apart', () => {
    expect(cooldownKeys.node({ nodeId: 'n' })).toBe('node:n');
    expect(cooldownKeys.backend({ nodeId: 'n', backendId: 'ollama@h:1' })).toBe('backend:n|ollama@h:1');
  });
});
