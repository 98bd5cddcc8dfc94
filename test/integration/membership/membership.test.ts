import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerClientPool } from '../../../src/rpc/peer-client.js';
import { silentLogger } from '../../../src/util/logger.js';
import {
  type PeerNode,
  type PeerNodeOptions,
  startPeerNode,
  stateOf,
  waitFor,
} from '../../helpers/peer-node.js';

const nodes: PeerNode[] = [];
async function node(options: PeerNodeOptions = {}): Promise<PeerNode> {
  const started = await startPeerNode(options);
  nodes.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.crash()));
});

const ollama = {
  id: 'ollama@127.0.0.1:11434',
  kind: 'ollama' as const,
  url: 'http://127.0.0.1:11434',
  healthy: true,
  version: '0.33.0',
  error: null,
  probedAt: 0,
  models: [{ id: 'qwen3:8b', loaded: true, contextLength: 8192, maxConcurrency: 4, sizeVramBytes: 5e9 }],
};

describe('membership over real gRPC on loopback', () => {
  it('two nodes joined by a static peer see each other alive, both ways, with backends and models', async () => {
    const a = await node({ backends: [ollama] });
    const b = await node({ staticPeers: [a.endpoint] });
    await waitFor(() => stateOf(a, b.id) === 'alive' && stateOf(b, a.id) === 'alive', 5000, 'mutual alive');
    await waitFor(
      () => {
        const view = b.membership.views().find((v) => v.node?.id === a.id);
        return view?.inboundOk === true && view.outboundOk === true;
      },
      5000,
      'two-way reachability',
    );
    const seen = b.membership.views().find((v) => v.node?.id === a.id)!;
    expect(seen.node?.backends[0]?.models[0]).toMatchObject({
      id: 'qwen3:8b',
      loaded: true,
      contextLength: 8192,
    });
    expect(seen.problem).toBe('');
    expect(b.membership.workers().map((w) => w.id)).toContain(a.id);
  });

  it('carries each model’s live in-flight count in heartbeats, not only in NodeInfo', async () => {
    let running = 0;
    const a = await node({
      backends: [ollama],
      inflight: () => ({
        total: running,
        byModel: (b, m) => (b === ollama.id && m === 'qwen3:8b' ? running : 0),
      }),
    });
    const b = await node({ staticPeers: [a.endpoint] });
    await waitFor(() => stateOf(b, a.id) === 'alive', 5000, 'alive');
    const modelLoad = () =>
      b.membership.views().find((v) => v.node?.id === a.id)?.node?.backends[0]?.models[0]?.inflight;
    expect(modelLoad()).toBe(0);
    running = 2; // no NodeInfo change: only heartbeats can tell
    await waitFor(() => modelLoad() === 2, 3000, 'load seen by the peer');
    running = 0;
    await waitFor(() => modelLoad() === 0, 3000, 'load back to zero');
  });

  it('spreads peers through RegisterNode replies (c knows only a, learns b)', async () => {
    const a = await node();
    const b = await node({ staticPeers: [a.endpoint] });
    await waitFor(() => stateOf(a, b.id) === 'alive', 5000, 'a sees b');
    const c = await node({ staticPeers: [a.endpoint] });
    await waitFor(() => stateOf(c, b.id) === 'alive' && stateOf(b, c.id) === 'alive', 5000, 'c and b meet');
  });

  it('marks a crashed peer suspect then dead, and alive again after it restarts', async () => {
    const a = await node();
    const b = await node({ staticPeers: [a.endpoint] });
    await waitFor(() => stateOf(a, b.id) === 'alive', 5000, 'alive');
    await b.crash();
    await waitFor(() => stateOf(a, b.id) === 'suspect', 3000, 'suspect');
    await waitFor(() => stateOf(a, b.id) === 'dead', 5000, 'dead');
    const deadView = a.membership.views().find((v) => v.node?.id === b.id)!;
    expect(deadView.stateSinceMs).toBeGreaterThan(Date.now() - 5000);
    expect(a.membership.workers().map((w) => w.id)).not.toContain(b.id);
    // Restart with the same id (a new process is a new incarnation).
    const again = await node({ id: b.id, staticPeers: [a.endpoint] });
    await waitFor(() => stateOf(a, b.id) === 'alive', 5000, 'alive again');
    expect(a.membership.peer(b.id)?.live.incarnation).toBe(again.self.incarnation);
  });

  it('keeps a restarted peer’s models listed, not usable, until its new process has looked at its backends', async () => {
    const a = await node();
    const b = await node({ staticPeers: [a.endpoint], backends: [ollama] });
    await waitFor(() => a.membership.workers().some((w) => w.id === b.id), 5000, 'b usable');
    await b.crash();
    // The new process answers at once, before its first backend probe is done.
    const backends: (typeof ollama)[] = [];
    let starting = true;
    const again = await node({ id: b.id, staticPeers: [a.endpoint], backends, starting: () => starting });
    const viewOfB = () => a.membership.views().find((v) => v.node?.id === b.id)!;
    await waitFor(
      () => a.membership.peer(b.id)?.live.incarnation === again.self.incarnation,
      5000,
      'restart seen',
    );
    await new Promise((resolve) => setTimeout(resolve, 600)); // several heartbeats and RegisterNodes
    expect(viewOfB().node?.backends[0]?.models[0]?.id).toBe('qwen3:8b');
    expect(viewOfB().settling).toBe(true);
    expect(a.membership.workers().map((w) => w.id)).not.toContain(b.id);
    // Its probe is done: peers hear of it at once, and use what it says now.
    backends.push(ollama);
    starting = false;
    again.self.bump();
    await again.membership.heartbeatNow();
    await waitFor(() => a.membership.workers().some((w) => w.id === b.id), 2000, 'b usable again');
    expect(viewOfB().settling).toBe(false);
  });

  it('marks a peer that leaves cleanly as left at once, without waiting for the dead timeout', async () => {
    const a = await node({ deadAfterMs: 10_000, suspectAfterMs: 5_000 });
    const b = await node({ staticPeers: [a.endpoint] });
    // b can say goodbye only to a peer it knows: wait until it has a's answer too.
    await waitFor(() => stateOf(a, b.id) === 'alive' && stateOf(b, a.id) === 'alive', 5000, 'alive');
    const start = Date.now();
    await b.stop();
    await waitFor(() => stateOf(a, b.id) === 'left', 2000, 'left');
    expect(Date.now() - start).toBeLessThan(5000);
  });

  it('accepts a peer one minor version ahead, and shows a different major as incompatible', async () => {
    const a = await node();
    const ahead = await node({ staticPeers: [a.endpoint], protocol: { major: 1, minor: 1 } });
    await waitFor(
      () => stateOf(a, ahead.id) === 'alive' && stateOf(ahead, a.id) === 'alive',
      5000,
      'mixed minor works',
    );
    const future = await node({ staticPeers: [a.endpoint], protocol: { major: 2, minor: 0 } });
    await waitFor(
      () => {
        const view = a.membership.views().find((v) => v.node?.id === future.id);
        return view !== undefined && !view.compatible;
      },
      5000,
      'incompatible peer shown',
    );
    const view = a.membership.views().find((v) => v.node?.id === future.id)!;
    expect(view.problem).toContain('2.0');
    expect(a.membership.workers().map((w) => w.id)).not.toContain(future.id);
    // a keeps working with the compatible peer
    expect(stateOf(a, ahead.id)).toBe('alive');
  });

  it('reports two processes claiming one id (cloned disk) instead of merging them', async () => {
    const a = await node();
    const original = await node({ staticPeers: [a.endpoint] });
    await waitFor(() => stateOf(a, original.id) === 'alive', 5000, 'original alive');
    // The clone started earlier in time? No: it starts now, so it has the higher incarnation;
    // the original keeps heartbeating with the lower one, which a restart can never produce.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await node({ id: original.id, staticPeers: [a.endpoint] });
    await waitFor(
      () => {
        const view = a.membership.views().find((v) => v.node?.id === original.id);
        return view?.problem.includes('claim') === true;
      },
      5000,
      'conflict reported',
    );
  });

  it('refuses bad peer input with a gRPC status and keeps serving', async () => {
    const a = await node();
    const pool = new PeerClientPool({ logger: silentLogger }, { maxMessageBytes: 1024 * 1024 });
    try {
      const bad = await pool
        .register(a.endpoint, { node: null }, 1000)
        .catch((err: grpc.ServiceError) => err);
      expect((bad as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
      const forged = await pool
        .heartbeat(
          a.endpoint,
          {
            nodeId: a.id, // claims to be a itself
            incarnation: 42,
            seq: 1,
            activity: 'ACTIVITY_ACTIVE',
            inflight: 0,
            generation: 1,
            gpus: [],
            activityReason: '',
            protocol: { major: 1, minor: 0 },
            modelInflight: {},
          },
          1000,
        )
        .catch((err: grpc.ServiceError) => err);
      expect((forged as grpc.ServiceError).code).toBe(grpc.status.ALREADY_EXISTS);
      // Still serving: a well-formed peer joins fine afterwards.
      const b = await node({ staticPeers: [a.endpoint] });
      await waitFor(() => stateOf(a, b.id) === 'alive', 5000, 'b joins after garbage');
    } finally {
      pool.closeAll();
    }
  });

  it('keeps retrying an unreachable static peer without failing', async () => {
    const a = await node({ staticPeers: ['127.0.0.1:1'] });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(a.membership.unreachableStatics()).toEqual(['127.0.0.1:1']);
    const b = await node({ staticPeers: [a.endpoint] });
    await waitFor(() => stateOf(a, b.id) === 'alive', 5000, 'a still works');
  });
});
