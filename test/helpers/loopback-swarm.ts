// Several real swarmd processes on loopback (mDNS off, static peers), each in its own sandbox:
// pairing their data dirs as `swarmctl init`/`join` would, starting one, waiting until one
// sees another as a usable worker, and the two-node swarm several test files share.
import type { NodeJson, NodesJson } from '../../src/cli/json.js';
import { loadOrCreateNodeId } from '../../src/node/identity.js';
import { initSwarm, joinSwarm } from '../../src/security/store.js';
import { FakeOllama } from '../fakes/ollama.js';
import { createSandbox, loopbackFlags, type Sandbox } from './sandbox.js';
import { killAllSwarmd, type Swarmd, startSwarmd } from './swarmd.js';
import { waitUntil } from './wait.js';

/** Put the first box's data dir in a new swarm and join the others to it (no daemon needed); returns the token. */
export async function pairBoxes(first: Sandbox, ...others: Sandbox[]): Promise<string> {
  const { token } = await initSwarm(first.dataDir, await loadOrCreateNodeId(first.dataDir));
  for (const box of others) await joinSwarm(box.dataDir, await loadOrCreateNodeId(box.dataDir), token);
  return token;
}

/** Start a daemon in `box` on loopback with these extra flags, and wait until it is ready. */
export function startInBox(box: Sandbox, flags: string[] = []): Promise<Swarmd> {
  return startSwarmd([...loopbackFlags(box), ...flags], { env: box.env });
}

/**
 * How the daemon of `box` sees a node (`swarmctl nodes --json`): the one named `which`, or
 * the first `which` picks; undefined when swarmctl fails or no node matches.
 */
export async function nodeSeenBy(
  box: Sandbox,
  which: string | ((node: NodeJson) => boolean),
): Promise<NodeJson | undefined> {
  const out = await box.swarmctl(['nodes', '--json']);
  if (out.code !== 0) return undefined;
  const match = typeof which === 'string' ? (node: NodeJson) => node.name === which : which;
  return (JSON.parse(out.stdout) as NodesJson).nodes.find(match);
}

/**
 * Wait until the daemon of `box` sees the node `peerName` alive, reachable both ways, with
 * every model of `models` (so the scheduler may hand it work).
 */
export async function waitForPeer(
  box: Sandbox,
  peerName: string,
  models: readonly string[] = [],
  timeoutMs = 20_000,
): Promise<void> {
  let peer: NodeJson | undefined;
  await waitUntil(
    async () => {
      peer = await nodeSeenBy(box, peerName);
      if (peer?.state !== 'alive') return false;
      if (!peer.reachability.outbound || !peer.reachability.inbound) return false;
      const have = new Set(peer.models.map((model) => model.id));
      return models.every((model) => have.has(model));
    },
    () => `${peerName} to be a usable worker with ${models.join(', ')}; last seen: ${JSON.stringify(peer)}`,
    timeoutMs,
    200,
  );
}

/**
 * Start alpha in box `a` (its backend at `urlA`), then bravo in box `b` (its backend at `urlB`,
 * alpha as its static peer); each is ready, neither yet sees the other.
 */
export async function startAlphaBravo(
  a: Sandbox,
  b: Sandbox,
  urlA: string,
  urlB: string,
): Promise<{ nodeA: Swarmd; nodeB: Swarmd }> {
  const nodeA = await startInBox(a, ['--name', 'alpha', '--backend', urlA]);
  const nodeB = await startInBox(b, [
    '--name',
    'bravo',
    '--backend',
    urlB,
    '--peer',
    `127.0.0.1:${nodeA.peerPort()}`,
  ]);
  return { nodeA, nodeB };
}

/** Two paired daemons on loopback, A and B, each with a fake Ollama holding one loaded model. */
export interface TwoNodeSwarm {
  a: Sandbox;
  b: Sandbox;
  nodeA: Swarmd;
  nodeB: Swarmd;
  fakeA: FakeOllama;
  fakeB: FakeOllama;
  /** Kill the daemons, stop the fakes, remove the sandboxes. */
  stop(): Promise<void>;
}

/**
 * Start alpha (model `local-only:1b`, reply "hello from A") and bravo (model `peer-only:8b`,
 * reply "hello from B", static peer alpha), paired as `swarmctl init`/`join` would, and wait
 * until each sees the other's model, so the scheduler may hand either one work.
 */
export async function startTwoNodeSwarm(): Promise<TwoNodeSwarm> {
  const [a, b] = [await createSandbox(), await createSandbox()];
  await pairBoxes(a, b);
  const fakeA = new FakeOllama({ models: [{ name: 'local-only:1b' }], loaded: [{ name: 'local-only:1b' }] });
  const fakeB = new FakeOllama({ models: [{ name: 'peer-only:8b' }], loaded: [{ name: 'peer-only:8b' }] });
  const [urlA, urlB] = [(await fakeA.start()).url, (await fakeB.start()).url];
  fakeA.behave({ reply: 'hello from A' });
  fakeB.behave({ reply: 'hello from B' });
  const stop = async () => {
    await killAllSwarmd();
    await Promise.all([fakeA.stop(), fakeB.stop()]);
    await Promise.all([a.remove(), b.remove()]);
  };
  try {
    const { nodeA, nodeB } = await startAlphaBravo(a, b, urlA, urlB);
    await waitForPeer(a, 'bravo', ['peer-only:8b']);
    await waitForPeer(b, 'alpha', ['local-only:1b']);
    return { a, b, nodeA, nodeB, fakeA, fakeB, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
