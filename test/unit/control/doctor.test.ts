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
    autoDetect: true,
    peerPort: 8766,
    swarm: { swarmId: '0123456789abcdef', epoch: 1, fingerprint: '3fa2c1d0' },
    checkJobSandbox: async () => ({ kind: 'bubblewrap' }),
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

  it('names the swarm of a member as swarmctl does: its id, epoch and fingerprint', async () => {
    const checks = await byName(context());
    expect(checks.get('swarm membership')).toMatchObject({
      status: 'ok',
      detail: 'member of swarm 0123456789abcdef (epoch 1, fingerprint 3fa2c1d0)',
    });
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

  it('says which sandbox coding jobs verify in, and what to do where there is none', async () => {
    expect((await byName(context())).get('job sandbox')).toMatchObject({ status: 'ok' });
    const off = await byName(context({ checkJobSandbox: async () => ({ kind: 'none' }) }));
    expect(off.get('job sandbox')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('jobs.sandbox is off'),
    });
    const missing = await byName(
      context({
        checkJobSandbox: async () => ({ kind: null, reason: 'bubblewrap (bwrap) is not installed' }),
      }),
    );
    expect(missing.get('job sandbox')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('bwrap) is not installed'),
      fix: expect.stringContaining('install bubblewrap'),
    });
  });

  it('turns a probe that throws into a failed check instead of failing the whole run', async () => {
    const checks = await byName(
      context({ checkOwnEndpoints: async () => Promise.reject(new Error('boom')) }),
    );
    expect(checks.get('peer port')).toMatchObject({ status: 'fail' });
  });

  it('blames the default ports for a missing model server only when it probed them', async () => {
    const probed = await byName(context({ autoDetect: true }));
    expect(probed.get('model servers')).toMatchObject({ status: 'warn' });
    expect(probed.get('model servers')!.detail).toContain('default ports');

    const notProbed = await byName(context({ autoDetect: false }));
    expect(notProbed.get('model servers')).toMatchObject({ status: 'warn' });
    expect(notProbed.get('model servers')!.detail).not.toContain('default ports');
    expect(notProbed.get('model servers')!.detail).toContain('backends.autoDetect: false');
    expect(notProbed.get('model servers')!.fix).toContain('backends.servers');
  });
});
