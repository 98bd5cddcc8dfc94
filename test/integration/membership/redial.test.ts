// Membership heals by itself: peers that died or left, static or learned, are dialled again
// with backoff and found when they come back as a new process at the same address; removed
// and forgotten ones are not. Real gRPC on loopback (peer-node.ts: 200 ms heartbeats, dead
// after 1.2 s).
import { afterEach, describe, expect, it } from 'vitest';
import { redialDelayMs } from '../../../src/membership/membership.js';
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

const usable = (observer: PeerNode, peer: PeerNode) =>
  observer.membership.workers().some((worker) => worker.id === peer.id);
const portOf = (peer: PeerNode) => Number(peer.endpoint.split(':').pop());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** a (hub), and b and c that each list only a: c learns b from a's RegisterNode reply. */
async function hubAndTwo(cOptions: PeerNodeOptions = {}) {
  const a = await node();
  const b = await node({ staticPeers: [a.endpoint] });
  const c = await node({ staticPeers: [a.endpoint], ...cOptions });
  await waitFor(() => usable(c, b) && usable(b, c), 5000, 'c and b meet');
  return { a, b, c };
}

describe('membership redials peers that died or left', () => {
  it('finds a static peer listed on one side only again after it left and restarted', async () => {
    const a = await node();
    const b = await node({ staticPeers: [a.endpoint] });
    await waitFor(() => usable(a, b) && usable(b, a), 5000, 'both usable to each other');
    await a.stop(); // a clean stop: b marks it left at once
    await waitFor(() => stateOf(b, a.id) === 'left', 2000, 'left');
    // A new process of a, at the same address, that knows nobody: only b can find it.
    const again = await node({ id: a.id, port: portOf(a) });
    await waitFor(
      () => stateOf(b, a.id) === 'alive' && stateOf(again, b.id) === 'alive',
      5000,
      'alive on both sides',
    );
    expect(b.membership.peer(a.id)?.live.incarnation).toBe(again.self.incarnation);
    await waitFor(() => usable(b, again), 3000, 'a usable by b');
  });

  it('finds a peer learned from another one again after it died and restarted', async () => {
    const { a, b, c } = await hubAndTwo();
    await Promise.all([a.crash(), b.crash()]); // a, which could introduce them again, is gone too
    await waitFor(() => stateOf(c, b.id) === 'dead', 5000, 'b dead');
    const again = await node({ id: b.id, port: portOf(b) });
    await waitFor(() => stateOf(c, b.id) === 'alive' && stateOf(again, c.id) === 'alive', 5000, 'b back');
  });

  it('does not dial a node removed from the swarm', async () => {
    const { a, b, c } = await hubAndTwo();
    await Promise.all([a.crash(), b.crash()]);
    await waitFor(() => stateOf(c, b.id) === 'dead', 5000, 'b dead');
    c.membership.notePeer(b.id, 'removed from the swarm');
    await node({ id: b.id, port: portOf(b) });
    await sleep(2500); // several redial delays
    expect(stateOf(c, b.id)).toBe('dead');
  });

  it('stops dialling once the peer is forgotten (membership.forgetAfter)', async () => {
    const { a, b, c } = await hubAndTwo({ forgetAfterMs: 2000 });
    await Promise.all([a.crash(), b.crash()]);
    await waitFor(() => c.membership.peer(b.id) === undefined, 6000, 'b forgotten');
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
