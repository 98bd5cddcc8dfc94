// Helpers for tests that run several real swarmd processes on loopback: where a daemon's
// gateway and peer server listen (from its log), a config file written into its sandbox,
// waiting until one daemon sees another as a usable worker, and bounded polling.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadOrCreateNodeId } from '../../../src/node/identity.js';
import { initSwarm, joinSwarm } from '../../../src/security/store.js';
import { FakeOllama } from '../../fakes/ollama.js';
import {
  createSandbox,
  ensureBuilt,
  killAll,
  loopbackFlags,
  type Sandbox,
  SwarmdProcess,
  sleep,
  swarmctl,
} from './swarmd-process.js';

/** The gateway base URL (`http://127.0.0.1:<port>/v1`) from the `swarmd ready` log line. */
export function gatewayUrl(daemon: SwarmdProcess): string {
  const ready = daemon.logs().find((line) => line.msg === 'swarmd ready') as { gateway?: string } | undefined;
  if (!ready?.gateway) throw new Error(`no gateway in the ready line:\n${daemon.stdout}`);
  return ready.gateway;
}

/** The peer gRPC port from the `peer gRPC listening` log line. */
export function peerPort(daemon: SwarmdProcess): number {
  const line = daemon.logs().find((entry) => entry.msg === 'peer gRPC listening') as
    | { port?: number }
    | undefined;
  if (!line?.port) throw new Error(`no peer port in the log:\n${daemon.stdout}`);
  return line.port;
}

/** Write a config file (JSON is YAML) into the sandbox; returns its path for `--config`. */
export async function writeConfig(sandbox: Sandbox, config: Record<string, unknown>): Promise<string> {
  const path = join(sandbox.dir, 'swarmd.yaml');
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

/** The control socket of a sandbox's daemon. */
export function controlSocket(sandbox: Sandbox): string {
  return join(sandbox.dataDir, 'control.sock');
}

/** Poll until `check` returns true (bounded); throws with `what` and the last detail. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 15_000,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface NodeRow {
  name: string;
  state: string;
  reachability?: { outbound: boolean; inbound: boolean };
  models?: { id: string }[];
}

/**
 * Wait until the daemon of `sandbox` sees the node `peerName` alive, reachable both ways,
 * with every model of `models` (so the scheduler may hand it work).
 */
export async function waitForPeer(
  sandbox: Sandbox,
  peerName: string,
  models: readonly string[] = [],
  timeoutMs = 20_000,
): Promise<void> {
  let last = '';
  await waitUntil(
    async () => {
      const out = await swarmctl(controlSocket(sandbox), ['nodes', '--json']);
      last = out.stdout || out.stderr;
      if (out.code !== 0) return false;
      const nodes = (JSON.parse(out.stdout) as { nodes: NodeRow[] }).nodes;
      const peer = nodes.find((node) => node.name === peerName);
      if (peer?.state !== 'alive') return false;
      if (!peer.reachability?.outbound || !peer.reachability.inbound) return false;
      const have = new Set((peer.models ?? []).map((model) => model.id));
      return models.every((model) => have.has(model));
    },
    `${peerName} to be a usable worker with ${models.join(', ')}`,
    timeoutMs,
    200,
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; last swarmctl output: ${last.slice(0, 2000)}`);
  });
}

/** Run `count` jobs with at most `parallel` at once; settles every job (bounded load). */
export async function runBounded<T>(
  count: number,
  parallel: number,
  job: (index: number) => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await job(index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
  return results;
}

/** Two paired daemons on loopback, A and B, each with a fake Ollama holding one loaded model. */
export interface TwoNodeSwarm {
  a: Sandbox;
  b: Sandbox;
  nodeA: SwarmdProcess;
  nodeB: SwarmdProcess;
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
  ensureBuilt();
  const [a, b] = [await createSandbox(), await createSandbox()];
  const { token } = await initSwarm(a.dataDir, await loadOrCreateNodeId(a.dataDir));
  await joinSwarm(b.dataDir, await loadOrCreateNodeId(b.dataDir), token);
  const fakeA = new FakeOllama({ models: [{ name: 'local-only:1b' }], loaded: [{ name: 'local-only:1b' }] });
  const fakeB = new FakeOllama({ models: [{ name: 'peer-only:8b' }], loaded: [{ name: 'peer-only:8b' }] });
  const [urlA, urlB] = [(await fakeA.start()).url, (await fakeB.start()).url];
  fakeA.behave({ reply: 'hello from A' });
  fakeB.behave({ reply: 'hello from B' });
  const stop = async () => {
    await killAll();
    await Promise.all([fakeA.stop(), fakeB.stop()]);
    await Promise.all([a.remove(), b.remove()]);
  };
  try {
    const nodeA = new SwarmdProcess([...loopbackFlags(a), '--name', 'alpha', '--backend', urlA], a.env);
    await nodeA.ready();
    const nodeB = new SwarmdProcess(
      [...loopbackFlags(b), '--name', 'bravo', '--backend', urlB, '--peer', `127.0.0.1:${peerPort(nodeA)}`],
      b.env,
    );
    await nodeB.ready();
    await waitForPeer(a, 'bravo', ['peer-only:8b']);
    await waitForPeer(b, 'alpha', ['local-only:1b']);
    return { a, b, nodeA, nodeB, fakeA, fakeB, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
