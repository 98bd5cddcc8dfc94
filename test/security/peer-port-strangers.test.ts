// The real swarmd's peer port against strangers who hold no credentials: 1,000 half-open TLS
// handshakes are closed within the handshake deadline while a member keeps being served, and a
// daemon whose file handles run out (a lowered `ulimit -n`) logs what failed, stays up and
// serves again once the strangers are gone. (The listener's caps and deadline in detail, with
// small limits: test/integration/security/peer-port.test.ts.)
import { readdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StatusJson } from '../../src/cli/json.js';
import { PEER_PORT_LIMITS } from '../../src/rpc/connection-caps.js';
import { REFUSAL_LOG_LINES } from '../../src/rpc/peer-server.js';
import { ensureBuilt } from '../helpers/build.js';
import {
  type HalfOpen,
  halfOpen,
  loopbackSources,
  member,
  memberClient,
  pair,
  registerNode,
  STALLED_HELLO,
} from '../helpers/member-client.js';
import { createSandbox, loopbackFlags, type Sandbox } from '../helpers/sandbox.js';
import { killAllSwarmd, type Swarmd, startSwarmd } from '../helpers/swarmd.js';
import { sleep } from '../helpers/wait.js';

const sandboxes: Sandbox[] = [];
const strangers: HalfOpen[] = [];

beforeAll(() => ensureBuilt(), 300_000);

afterEach(async () => {
  for (const stranger of strangers.splice(0)) stranger.destroy();
  await killAllSwarmd();
  await Promise.all(sandboxes.splice(0).map((box) => box.remove()));
});

async function sandbox(): Promise<Sandbox> {
  const box = await createSandbox();
  sandboxes.push(box);
  return box;
}

async function status(box: Sandbox): Promise<StatusJson> {
  const result = await box.swarmctl(['status', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as StatusJson;
}

/** Poll `check`; fails at once, with its stderr, if the daemon exits meanwhile. */
async function waitFor(
  daemon: Swarmd,
  check: () => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (!daemon.running) throw new Error(`swarmd exited while waiting for ${what}:\n${daemon.stderr}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Open `count` strangers' connections from `sources` in turn, 100 at a time; half send a stalled ClientHello. */
async function flood(port: number, sources: string[], count: number): Promise<HalfOpen[]> {
  const opened: HalfOpen[] = [];
  for (let i = 0; i < count; i++) {
    const stranger = halfOpen(port, sources[i % sources.length]!, i % 2 === 0 ? STALLED_HELLO : undefined);
    opened.push(stranger);
    strangers.push(stranger);
    if (i % 100 === 99) await sleep(20);
  }
  return opened;
}

/** File handles a process holds now (-1 once it is gone). */
function openFiles(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

/** An HTTP request on `agent`; resolves with the status, or the error code when none came back. */
function http(agent: Agent, url: string, method = 'GET', body?: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url, { method, agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

describe('the peer port under strangers', () => {
  it('closes 1,000 half-open TLS handshakes within the deadline, holds at most the cap, and keeps serving a member', async () => {
    const box = await sandbox();
    const { id: serverId, token } = await pair(box);
    const peer = await member(box, token);
    const daemon = await startSwarmd(loopbackFlags(box), { env: box.env });
    const { peerPort } = await status(box);
    const client = memberClient(peerPort, peer, serverId);
    try {
      expect(await registerNode(client, peer.nodeId)).toBeNull();

      // 1,000 connections from 250 addresses, 4 each: silent, or stalled in the ClientHello.
      const held = await flood(peerPort, loopbackSources(3, 250), 1_000);
      // The member's open connection is served while they wait.
      expect(await registerNode(client, peer.nodeId)).toBeNull();
      const { handshakeTimeoutMs, handshakes } = PEER_PORT_LIMITS;
      // Every one closed by the server, none past the deadline (plus slack for a busy machine).
      const bound = sleep(handshakeTimeoutMs + 4_000).then(() => Number.POSITIVE_INFINITY);
      const openMs = await Promise.all(held.map((stranger) => Promise.race([stranger.closedAfter, bound])));
      expect(openMs.filter((ms) => ms === Number.POSITIVE_INFINITY)).toHaveLength(0);
      expect(Math.max(...openMs)).toBeLessThan(handshakeTimeoutMs + 3_000);
      // Those held to the deadline are at most the cap on handshakes; the others were refused at once.
      const toDeadline = openMs.filter((ms) => ms >= handshakeTimeoutMs - 200).length;
      expect(toDeadline).toBeGreaterThan(0);
      expect(toDeadline).toBeLessThanOrEqual(handshakes);

      expect(daemon.running).toBe(true);
      expect(await registerNode(client, peer.nodeId)).toBeNull();
      const fresh = memberClient(peerPort, peer, serverId);
      try {
        expect(await registerNode(fresh, peer.nodeId)).toBeNull();
      } finally {
        fresh.close();
      }
      // What the strangers caused fits the log budget.
      const lines = daemon.logs().filter((line) => line['component'] === 'rpc' && line.level >= 40);
      expect(lines.length).toBeLessThanOrEqual(REFUSAL_LOG_LINES);
    } finally {
      client.close();
    }
  }, 90_000);

  it('runs out of file handles under `ulimit -n 128`, logs the failed spawns, keeps answering, and serves again afterwards', async () => {
    const limit = 128;
    const box = await sandbox();
    const { id: serverId, token } = await pair(box);
    const peer = await member(box, token);
    // facts.refreshInterval 200ms: nvidia-smi is started again and again while no handle is free.
    // ulimit -n (soft and hard, so Node cannot raise it), then exec: the pid stays swarmd's.
    const daemon = await startSwarmd([...loopbackFlags(box), '--facts.refreshInterval', '200ms'], {
      env: box.env,
      wrapper: ['bash', '-c', 'ulimit -n "$0" && exec "$@"', String(limit)],
    });
    const pid = daemon.pid!;
    const { peerPort, gatewayUrl } = await status(box);
    const client = memberClient(peerPort, peer, serverId);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await registerNode(client, peer.nodeId)).toBeNull();
      // A gateway client whose keep-alive connection is open before the handles run out.
      expect(await http(agent, `${gatewayUrl}/models`)).toBe(200);
      const baseline = openFiles(pid);
      expect(baseline).toBeLessThan(limit - 40);

      // More strangers than there are handles left (the handshake cap is above them).
      await flood(peerPort, loopbackSources(4, 150), 300);
      await waitFor(daemon, () => openFiles(pid) >= limit - 4, 'every file handle in use');
      await waitFor(
        daemon,
        () => daemon.logs().some((line) => String(line['err'] ?? '').includes('EMFILE')),
        'a logged spawn without a free file handle',
      );
      expect(daemon.running).toBe(true);
      // With no handle to spare, the open connections are still answered.
      const during = await http(
        agent,
        `${gatewayUrl}/chat/completions`,
        'POST',
        JSON.stringify({ model: 'nobody-serves-this', messages: [{ role: 'user', content: 'hi' }] }),
      );
      expect(typeof during).toBe('number');
      expect(await registerNode(client, peer.nodeId)).toBeNull();

      // The strangers give up; the handles come back.
      for (const stranger of strangers.splice(0)) stranger.destroy();
      await waitFor(daemon, () => openFiles(pid) <= baseline + 10, 'file handles back to the baseline');
      expect(daemon.running).toBe(true);
      expect((await status(box)).peerPort).toBe(peerPort);
      const fresh = memberClient(peerPort, peer, serverId);
      try {
        expect(await registerNode(fresh, peer.nodeId)).toBeNull();
      } finally {
        fresh.close();
      }
      expect(await http(new Agent(), `${gatewayUrl}/models`)).toBe(200);
      expect(daemon.running).toBe(true);
      expect(daemon.stderr).not.toMatch(/Unhandled|EMFILE/);
    } finally {
      client.close();
      agent.destroy();
    }
  }, 90_000);
});
