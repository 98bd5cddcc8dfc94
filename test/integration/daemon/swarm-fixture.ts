// Helpers for tests that run several real swarmd processes on loopback: where a daemon's
// gateway and peer server listen (from its log), a config file written into its sandbox,
// waiting until one daemon sees another as a usable worker, and bounded polling.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sandbox, SwarmdProcess } from './swarmd-process.js';
import { sleep, swarmctl } from './swarmd-process.js';

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
