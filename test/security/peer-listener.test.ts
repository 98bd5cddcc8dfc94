// The peer port's own listener (rpc/peer-listener.ts) in front of grpc-js, with real mTLS on
// loopback: members are served over the injected connections with their certificate visible to
// handlers and live credential swaps; strangers' unfinished TLS handshakes are closed at the
// deadline and capped per source address and in total. Small limits keep this quick; the
// daemon's own limits are exercised in test/integration/daemon/peer-port.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionLimits } from '../../src/rpc/connection-caps.js';
import { PeerServer } from '../../src/rpc/peer-server.js';
import { coordinationClient } from '../../src/rpc/proto.js';
import type { HeartbeatResponse } from '../../src/rpc/wire.js';
import type { Credentials } from '../../src/security/credentials.js';
import {
  clientCredentials,
  peerChannelOptions,
  peerNodeIdFromCall,
} from '../../src/security/grpc-credentials.js';
import { liveServerCredentials } from '../../src/security/grpc-live-credentials.js';
import { initSwarm, joinSwarm } from '../../src/security/store.js';
import { createLogger } from '../../src/util/logger.js';

const SERVER = '5e5e5e5e5e5e5e5e';
const CLIENT = 'c1c1c1c1c1c1c1c1';

const LIMITS: ConnectionLimits = {
  handshakeTimeoutMs: 600,
  handshakes: 6,
  handshakesPerSource: 2,
  connections: 20,
  connectionsPerSource: 10,
};

/** The first bytes of a TLS ClientHello whose record promises more: the server waits for the rest. */
const STALLED_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);

interface Stranger {
  /** Resolves with ms from connect to the server closing the connection. */
  closedAfter: Promise<number>;
  destroy(): void;
}

const strangers: Stranger[] = [];

/** A raw TCP connection from `localAddress` that sends `bytes` (or nothing) and never finishes. */
function stranger(port: number, localAddress: string, bytes?: Buffer): Stranger {
  const socket = tcpConnect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => {});
  const started = performance.now();
  socket.once('connect', () => {
    if (bytes) socket.write(bytes);
  });
  const closedAfter = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(performance.now() - started)),
  );
  const handle = { closedAfter, destroy: () => socket.destroy() };
  strangers.push(handle);
  return handle;
}

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the peer port listener', () => {
  const dirs: string[] = [];
  const clients: grpc.Client[] = [];
  const lines: { msg: string; remote?: string }[] = [];
  const live = liveServerCredentials(null);
  let swarm: Credentials;
  let member: Credentials;
  let server: PeerServer;
  /** Node ids the heartbeat handler read from callers' certificates. */
  const seen: (string | null)[] = [];

  async function dataDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'swarmd-peer-port-'));
    dirs.push(dir);
    return dir;
  }

  async function startServer(host: string): Promise<PeerServer> {
    const logger = createLogger('info', {
      write: (line: string) => {
        lines.push(JSON.parse(line) as { msg: string; remote?: string });
      },
    });
    const peerServer = new PeerServer(
      {
        logger,
        handlers: {
          registerNode: () => {
            throw new Error('not used here');
          },
          heartbeat: (_request, call): HeartbeatResponse => {
            seen.push(peerNodeIdFromCall(call, swarm));
            return { nodeId: SERVER, incarnation: 1, wantInfo: false, activity: 'ACTIVITY_ACTIVE' };
          },
        },
      },
      {
        host,
        port: 0,
        maxMessageBytes: 1024 * 1024,
        credentials: () => live.credentials,
        limits: LIMITS,
      },
    );
    await peerServer.start();
    return peerServer;
  }

  function memberClient(target: string): grpc.Client {
    const Client = coordinationClient();
    const client = new Client(target, clientCredentials(member, SERVER), peerChannelOptions(SERVER));
    clients.push(client);
    return client;
  }

  function heartbeat(client: grpc.Client): Promise<grpc.status> {
    const method = (client as unknown as Record<string, grpc.requestCallback<unknown>>)
      .heartbeat as unknown as (
      request: unknown,
      options: grpc.CallOptions,
      callback: (error: grpc.ServiceError | null) => void,
    ) => void;
    return new Promise((resolve) =>
      method.call(client, { nodeId: CLIENT }, { deadline: Date.now() + 3_000 }, (error) =>
        resolve(error ? error.code : grpc.status.OK),
      ),
    );
  }

  beforeAll(async () => {
    const init = await initSwarm(await dataDir(), SERVER);
    swarm = init.credentials;
    member = await joinSwarm(await dataDir(), CLIENT, init.token);
    server = await startServer('127.0.0.1');
  });

  afterEach(async () => {
    for (const handle of strangers.splice(0)) handle.destroy();
    await waitFor(() => server.connections().handshakes === 0);
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await server?.stop(100);
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('serves members over the connections it hands grpc-js: handlers see the certificate, credentials swap without a rebind', async () => {
    const port = server.port;
    // Unpaired: every connection is dropped.
    expect(await heartbeat(memberClient(`127.0.0.1:${port}`))).toBe(grpc.status.UNAVAILABLE);
    live.update(swarm);
    const client = memberClient(`127.0.0.1:${port}`);
    expect(await heartbeat(client)).toBe(grpc.status.OK);
    expect(seen.at(-1)).toBe(CLIENT);
    expect(server.port).toBe(port);
    // The member's connection finished its handshake: it holds no handshake slot.
    expect(server.connections()).toMatchObject({ handshakes: 0 });
    expect(server.connections().connections).toBeGreaterThanOrEqual(1);
  });

  it('closes silent and stalled TLS handshakes at the deadline, and one past the per-address cap at once', async () => {
    live.update(swarm);
    const silent = stranger(server.port, '127.0.0.2');
    const stalled = stranger(server.port, '127.0.0.2', STALLED_HELLO);
    await waitFor(() => server.connections().handshakes === 2);
    const third = stranger(server.port, '127.0.0.2', STALLED_HELLO);
    expect(await third.closedAfter).toBeLessThan(LIMITS.handshakeTimeoutMs / 2);
    for (const held of [await silent.closedAfter, await stalled.closedAfter]) {
      expect(held).toBeGreaterThanOrEqual(LIMITS.handshakeTimeoutMs - 50);
      expect(held).toBeLessThan(LIMITS.handshakeTimeoutMs + 2_000);
    }
    expect(server.connections().handshakes).toBe(0);
    const messages = lines.map((line) => line.msg);
    expect(messages).toContain(
      'connection from 127.0.0.2 refused: 2 TLS handshakes from 127.0.0.2 already pending',
    );
    expect(messages.filter((msg) => /127\.0\.0\.2 not finished within 600 ms/.test(msg))).toHaveLength(2);
    // Closing them was ours: not reported as the caller breaking off.
    const fromThere = lines.filter((line) => line.remote === '127.0.0.2').map((line) => line.msg);
    expect(fromThere.some((msg) => /broken off by the caller/.test(msg))).toBe(false);
  });

  it('keeps serving a connected member while strangers hold every handshake slot, and frees the slots at the deadline', async () => {
    live.update(swarm);
    const client = memberClient(`127.0.0.1:${server.port}`);
    expect(await heartbeat(client)).toBe(grpc.status.OK);
    const held = Array.from({ length: LIMITS.handshakes }, (_, i) =>
      stranger(server.port, `127.0.1.${i + 1}`, STALLED_HELLO),
    );
    await waitFor(() => server.connections().handshakes === LIMITS.handshakes);
    const refused = stranger(server.port, '127.0.2.1', STALLED_HELLO);
    expect(await refused.closedAfter).toBeLessThan(LIMITS.handshakeTimeoutMs / 2);
    // The member's connection is open already: no handshake slot needed.
    expect(await heartbeat(client)).toBe(grpc.status.OK);
    await Promise.all(held.map((handle) => handle.closedAfter));
    expect(server.connections().handshakes).toBe(0);
    // A new member connection gets in again.
    expect(await heartbeat(memberClient(`127.0.0.1:${server.port}`))).toBe(grpc.status.OK);
  });

  it('listens on IPv6 and IPv4 with host "::", counting an IPv4 caller by its IPv4 address', async () => {
    live.update(swarm);
    const dual = await startServer('::');
    try {
      expect(await heartbeat(memberClient(`[::1]:${dual.port}`))).toBe(grpc.status.OK);
      expect(await heartbeat(memberClient(`127.0.0.1:${dual.port}`))).toBe(grpc.status.OK);
      stranger(dual.port, '127.0.0.3');
      stranger(dual.port, '127.0.0.3');
      await waitFor(() => dual.connections().handshakes === 2);
      const third = stranger(dual.port, '127.0.0.3');
      expect(await third.closedAfter).toBeLessThan(LIMITS.handshakeTimeoutMs / 2);
      expect(lines.map((line) => line.msg)).toContain(
        'connection from 127.0.0.3 refused: 2 TLS handshakes from 127.0.0.3 already pending',
      );
    } finally {
      for (const handle of strangers.splice(0)) handle.destroy();
      await dual.stop(100);
    }
  });
});
