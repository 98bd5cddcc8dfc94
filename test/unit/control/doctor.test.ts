import { describe, expect, it } from 'vitest';
import { type DoctorContext, runDoctor } from '../../../src/control/doctor.js';
import type { WirePeerView } from '../../../src/rpc/wire.js';

const ok = async () => ({ ok: true, detail: 'fine' });

function view(overrides: Partial<WirePeerView> & { id: string; name?: string }): WirePeerView {
  const { id, name, ...rest } = overrides;
  return {
    node: {
      id,
      name: name ?? id,
      endpoints: ['10.0.0.9:8766'],
      protocol: { major: 1, minor: 0 },
      incarnation: 1,
      activity: 'ACTIVITY_ACTIVE',
      gpus: [],
      backends: [],
      system: null,
      softwareVersion: '',
      inflight: 0,
      generation: 1,
      activityReason: '',
    },
    self: false,
    state: 'alive',
    stateSinceMs: 0,
    lastHeartbeatAgeMs: 0,
    address: '',
    outboundOk: true,
    inboundOk: true,
    problem: '',
    compatible: true,
    settling: false,
    ...rest,
  };
}

function context(overrides: Partial<DoctorContext> = {}): DoctorContext {
  return {
    mdnsEnabled: true,
    checkMulticastRoute: ok,
    checkMdnsPort: ok,
    checkOwnEndpoints: ok,
    views: [view({ id: 'aaaaaaaaaaaaaaaa', name: 'self', self: true })],
    unreachableStatics: [],
    backends: [],
    peerPort: 8766,
    swarm: { id: '0123456789abcdef', epoch: 1, fingerprint: '3fa2c1d0' },
    ...overrides,
  };
}

const byName = async (ctx: DoctorContext) =>
  new Map((await runDoctor(ctx)).map((check) => [check.name, check]));

describe('doctor', () => {
  it('fails the multicast route check with a fix that names the route', async () => {
    const checks = await byName(
      context({ checkMulticastRoute: async () => ({ ok: false, detail: 'no route to 224.0.0.251' }) }),
    );
    expect(checks.get('multicast route')).toMatchObject({ status: 'fail' });
    expect(checks.get('multicast route')!.fix).toContain('224.0.0.0/4');
  });

  it('says an unpaired node must init or join, and does not blame static peers for it', async () => {
    const checks = await byName(context({ swarm: null, unreachableStatics: ['10.0.0.5:8766'] }));
    expect(checks.get('swarm membership')).toMatchObject({ status: 'fail' });
    expect(checks.get('swarm membership')!.fix).toContain('swarmctl join');
    expect(checks.has('static peers')).toBe(false);
  });

  it('reports peers seen but never reached, but not incompatible ones', async () => {
    const checks = await byName(
      context({
        views: [
          view({ id: 'aaaaaaaaaaaaaaaa', self: true, name: 'self' }),
          view({ id: 'bbbbbbbbbbbbbbbb', state: 'dead' }),
          view({ id: 'cccccccccccccccc', state: 'dead', compatible: false, problem: 'speaks protocol 2.0' }),
        ],
      }),
    );
    expect(checks.get('peers reachable')).toMatchObject({ status: 'fail' });
    expect(checks.get('peers reachable')!.detail).toContain('bbbbbbbbbbbbbbbb');
    expect(checks.get('peers reachable')!.detail).not.toContain('cccccccccccccccc');
    expect(checks.get('protocol versions')).toMatchObject({ status: 'warn' });
  });

  it('flags duplicate node ids and one-way peers', async () => {
    const checks = await byName(
      context({
        views: [
          view({ id: 'aaaaaaaaaaaaaaaa', self: true, problem: 'another node claims this node id' }),
          view({
            id: 'bbbbbbbbbbbbbbbb',
            name: 'b',
            problem: 'one-way: it reaches us but we cannot dial it',
          }),
        ],
      }),
    );
    expect(checks.get('unique node ids')).toMatchObject({ status: 'fail' });
    expect(checks.get('two-way reachability')).toMatchObject({ status: 'fail' });
  });

  it('turns a probe that throws into a failed check instead of failing the whole run', async () => {
    const checks = await byName(
      context({ checkOwnEndpoints: async () => Promise.reject(new Error('boom')) }),
    );
    expect(checks.get('peer port')).toMatchObject({ status: 'fail' });
  });
});
