import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerClientPool } from '../../../src/rpc/peer-client.js';
import { silentLogger } from '../../../src/util/logger.js';
import { rejected } from '../../helpers/expect-error.js';
import { type PeerNode, type PeerNodeOptions, startPeerNode, stateOf } from '../../helpers/peer-node.js';
import { sleep, waitUntil } from '../../helpers/wait.js';
import { wireHeartbeat } from '../../helpers/wire.js';

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
    await waitUntil(() => stateOf(a, b.id) === 'alive' && stateOf(b, a.id) === 'alive', 'mutual alive', 5000);
    await waitUntil(
      () => {
        const view = b.membership.views().find((v) => v.node?.id === a.id);
        return view?.inboundOk === true && view.outboundOk === true;
      },
      'two-way reachability',
      5000,
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
    await waitUntil(() => stateOf(b, a.id) === 'alive', 'alive', 5000);
    const modelLoad = () =>
      b.membership.views().find((v) => v.node?.id === a.id)?.node?.backends[0]?.models[0]?.inflight;
    expect(modelLoad()).toBe(0);
    running = 2; // no NodeInfo change: only heartbeats can tell
    await waitUntil(() => modelLoad() === 2, 'load seen by the peer', 3000);
    running = 0;
    await waitUntil(() => modelLoad() === 0, 'load back to zero', 3000);
  });

  it('spreads peers through RegisterNode replies (c knows only a, learns b)', async () => {
    const a = await node();
    const b = await node({ staticPeers: [a.endpoint] });
    await waitUntil(() => stateOf(a, b.id) === 'alive', 'a sees b', 5000);
    const c = await node({ staticPeers: [a.endpoint] });
    await waitUntil(() => stateOf(c, b.id) === 'alive' && stateOf(b, c.id) === 'alive', 'c and b meet', 5000);
  });

  it('marks a crashed peer suspect then dead, and alive again after it restarts', async () => {
    const a = await node();
    const b = await node({ staticPeers: [a.endpoint] });
    await waitUntil(() => stateOf(a, b.id) === 'alive', 'alive', 5000);
    await b.crash();
    await waitUntil(() => stateOf(a, b.id) === 'suspect', 'suspect', 3000);
    await waitUntil(() => stateOf(a, b.id) === 'dead', 'dead', 5000);
    const deadView = a.membership.views().find((v) => v.node?.id === b.id)!;
    expect(deadView.stateSinceMs).toBeGreaterThan(Date.now() - 5000);
    expect(a.membership.workers().map((w) => w.id)).not.toContain(b.id);
    // Restart with the same id (a new process is a new incarnation).
    const again = await node({ id: b.id, staticPeers: [a.endpoint] });
    await waitUntil(() => stateOf(a, b.id) === 'alive', 'alive again', 5000);
    expect(a.membership.peer(b.id)?.live.incarnation).toBe(again.self.incarnation);
  });

  it('keeps a restarted peer’s models listed, not usable, until its new process has looked at its backends', async () => {
    const a = await node();
    const b = await node({ staticPeers: [a.endpoint], backends: [ollama] });
    await waitUntil(() => a.membership.workers().some((w) => w.id === b.id), 'b usable', 5000);
    await b.crash();
    // The new process answers at once, before its first backend probe is done.
    const backends: (typeof ollama)[] = [];
    let starting = true;
    const again = await node({ id: b.id, staticPeers: [a.endpoint], backends, starting: () => starting });
    const viewOfB = () => a.membership.views().find((v) => v.node?.id === b.id)!;
    await waitUntil(
      () => a.membership.peer(b.id)?.live.incarnation === again.self.incarnation,
      'restart seen',
      5000,
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
    await waitUntil(() => a.membership.workers().some((w) => w.id === b.id), 'b usable again', 2000);
    expect(viewOfB().settling).toBe(false);
  });

  it('marks a peer that leaves cleanly as left at once, without waiting for the dead timeout', async () => {
    const a = await node({ deadAfterMs: 10_000, suspectAfterMs: 5_000 });
    const b = await node({ staticPeers: [a.endpoint] });
    // b can say goodbye only to a peer it knows: wait until it has a's answer too.
    await waitUntil(() => stateOf(a, b.id) === 'alive' && stateOf(b, a.id) === 'alive', 'alive', 5000);
    const start = Date.now();
    await b.stop();
    await waitUntil(() => stateOf(a, b.id) === 'left', 'left', 2000);
    expect(Date.now() - start).toBeLessThan(5000);
  });

  it('accepts a peer one minor version ahead, and shows a different major as incompatible', async () => {
    const a = await node();
    const ahead = await node({ staticPeers: [a.endpoint], protocol: { major: 1, minor: 1 } });
    await waitUntil(
      () => stateOf(a, ahead.id) === 'alive' && stateOf(ahead, a.id) === 'alive',
      'mixed minor works',
      5000,
    );
    const future = await node({ staticPeers: [a.endpoint], protocol: { major: 2, minor: 0 } });
    await waitUntil(
      () => {
        const view = a.membership.views().find((v) => v.node?.id === future.id);
        return view !== undefined && !view.compatible;
      },
      'incompatible peer shown',
      5000,
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
    await waitUntil(() => stateOf(a, original.id) === 'alive', 'original alive', 5000);
    // The clone started earlier in time? No: it starts now, so it has the higher incarnation;
    // the original keeps heartbeating with the lower one, which a restart can never produce.
    await sleep(5);
    await node({ id: original.id, staticPeers: [a.endpoint] });
    await waitUntil(
      () => {
        const view = a.membership.views().find((v) => v.node?.id === original.id);
        return view?.problem.includes('claim') === true;
      },
      'conflict reported',
      5000,
    );
  });

  it('refuses bad peer input with a gRPC status and keeps serving', async () => {
    const a = await node();
    const pool = new PeerClientPool({ logger: silentLogger }, { maxMessageBytes: 1024 * 1024 });
    try {
      const bad = (await rejected(pool.register(a.endpoint, { node: null }, 1000))) as grpc.ServiceError;
      expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
      // Claims to be a itself.
      const forged = (await rejected(
        pool.heartbeat(a.endpoint, wireHeartbeat({ nodeId: a.id, incarnation: 42 }), 1000),
      )) as grpc.ServiceError;
      expect(forged.code).toBe(grpc.status.ALREADY_EXISTS);
      // Still serving: a well-formed peer joins fine afterwards.
      const b = await node({ staticPeers: [a.endpoint] });
      await waitUntil(() => stateOf(a, b.id) === 'alive', 'b joins after garbage', 5000);
    } finally {
      pool.closeAll();
    }
  });

  it('keeps retrying an unreachable static peer without failing', async () => {
    const a = await node({ staticPeers: ['127.0.0.1:1'] });
    await sleep(600);
    expect(a.membership.unreachableStatics()).toEqual(['127.0.0.1:1']);
    const b = await node({ staticPeers: [a.endpoint] });
    await waitUntil(() => stateOf(a, b.id) === 'alive', 'a still works', 5000);
  });
});
