// Membership heals by itself: peers that died or left, static or learned, are dialled again
// with backoff and found when they come back as a new process at the same address; removed
// and forgotten ones are not. Real gRPC on loopback (peer-node.ts: 200 ms heartbeats, dead
// after 1.2 s).
import { afterEach, describe, expect, it } from 'vitest';
import { redialDelayMs } from '../../../src/membership/membership.js';
import { type PeerNode, type PeerNodeOptions, startPeerNode, stateOf } from '../../helpers/peer-node.js';
import { waitUntil } from '../../helpers/wait.js';

const nodes: PeerNode[] = [];
async function node(options: PeerNodeOptions = {}): Promise<PeerNode> {
  const started = await startPeerNode(options);
  nodes.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.crash()));
});

const usable = (observer: PeerNode, peer: PeerNode) =>
  observer.membership.workers().some((worker) => worker.id === peer.id);
const portOf = (peer: PeerNode) => Number(peer.endpoint.split(':').pop());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** a (hub), and b and c that each list only a: c learns b from a's RegisterNode reply. */
async function hubAndTwo(cOptions: PeerNodeOptions = {}) {
  const a = await node();
  const b = await node({ staticPeers: [a.endpoint] });
  const c = await node({ staticPeers: [a.endpoint], ...cOptions });
  await waitUntil(() => usable(c, b) && usable(b, c), 'c and b meet', 5000);
  return { a, b, c };
}

describe('membership redials peers that died or left', () => {
  it('finds a static peer listed on one side only again after it left and restarted', async () => {
    const a = await node();
    const b = await node({ staticPeers: [a.endpoint] });
    await waitUntil(() => usable(a, b) && usable(b, a), 'both usable to each other', 5000);
    await a.stop(); // a clean stop: b marks it left at once
    await waitUntil(() => stateOf(b, a.id) === 'left', 'left', 2000);
    // A new process of a, at the same address, that knows nobody: only b can find it.
    const again = await node({ id: a.id, port: portOf(a) });
    await waitUntil(
      () => stateOf(b, a.id) === 'alive' && stateOf(again, b.id) === 'alive',
      'alive on both sides',
      5000,
    );
    expect(b.membership.peer(a.id)?.live.incarnation).toBe(again.self.incarnation);
    await waitUntil(() => usable(b, again), 'a usable by b', 3000);
  });

  it('finds a peer learned from another one again after it died and restarted', async () => {
    const { a, b, c } = await hubAndTwo();
    await Promise.all([a.crash(), b.crash()]); // a, which could introduce them again, is gone too
    await waitUntil(() => stateOf(c, b.id) === 'dead', 'b dead', 5000);
    const again = await node({ id: b.id, port: portOf(b) });
    await waitUntil(() => stateOf(c, b.id) === 'alive' && stateOf(again, c.id) === 'alive', 'b back', 5000);
  });

  it('does not dial a node removed from the swarm', async () => {
    const { a, b, c } = await hubAndTwo();
    await Promise.all([a.crash(), b.crash()]);
    await waitUntil(() => stateOf(c, b.id) === 'dead', 'b dead', 5000);
    c.membership.notePeer(b.id, 'removed from the swarm');
    await node({ id: b.id, port: portOf(b) });
    await sleep(2500); // several redial delays
    expect(stateOf(c, b.id)).toBe('dead');
  });

  it('stops dialling once the peer is forgotten (membership.forgetAfter)', async () => {
    const { a, b, c } = await hubAndTwo({ forgetAfterMs: 2000 });
    await Promise.all([a.crash(), b.crash()]);
    await waitUntil(() => c.membership.peer(b.id) === undefined, 'b forgotten', 6000);
    await node({ id: b.id, port: portOf(b) });
    await sleep(2500);
    expect(stateOf(c, b.id)).toBeUndefined();
  });

  it('waits longer between dials the longer a peer has been gone, from 0.5 s to 10 s', () => {
    expect(redialDelayMs(0)).toBe(500);
    expect(redialDelayMs(4000)).toBe(1000);
    expect(redialDelayMs(60_000)).toBe(10_000);
    expect(redialDelayMs(3_600_000)).toBe(10_000);
  });
});
