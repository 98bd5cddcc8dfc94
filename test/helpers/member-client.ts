// Dialling a real swarmd's peer port as a member (a node certificate of its swarm, as
// `swarmctl join` makes one) or as a stranger with raw TCP that never finishes its handshake.
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { loadOrCreateNodeId } from '../../src/node/identity.js';
import { coordinationClient } from '../../src/rpc/proto.js';
import type { Credentials } from '../../src/security/credentials.js';
import { clientCredentials, peerChannelOptions } from '../../src/security/grpc-credentials.js';
import { initSwarm, joinSwarm } from '../../src/security/store.js';
import type { Sandbox } from './sandbox.js';

/** Put the data dir in a new swarm before the daemon starts (what `swarmctl init` does). */
export async function pair(box: Sandbox): Promise<{ id: string; token: string }> {
  const id = await loadOrCreateNodeId(box.dataDir);
  const { token } = await initSwarm(box.dataDir, id);
  return { id, token };
}

/** Another member of the swarm, with its own node id and certificate. */
export async function member(box: Sandbox, token: string): Promise<Credentials> {
  const dir = join(box.dir, 'member');
  return joinSwarm(dir, await loadOrCreateNodeId(dir), token);
}

/** A peer-service client dialling 127.0.0.1:port over mTLS as `creds`. */
export function memberClient(port: number, creds: Credentials, serverId: string): grpc.Client {
  const Client = coordinationClient();
  return new Client(`127.0.0.1:${port}`, clientCredentials(creds, serverId), peerChannelOptions(serverId));
}

/** RegisterNode for `nodeId` on protocol 1.0; resolves with the error, null on success. */
export function registerNode(client: grpc.Client, nodeId: string): Promise<grpc.ServiceError | null> {
  const node = {
    id: nodeId,
    name: 'member',
    endpoints: ['127.0.0.1:1'],
    protocol: { major: 1, minor: 0 },
    incarnation: Date.now(),
    activity: 'ACTIVITY_ACTIVE',
    gpus: [],
    backends: [],
    system: null,
    softwareVersion: '0.1.0',
    inflight: 0,
    generation: 1,
    activityReason: '',
  };
  const method = (client as unknown as Record<string, grpc.MethodDefinition<unknown, unknown>>)
    .registerNode as unknown as (
    request: unknown,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null) => void,
  ) => void;
  return new Promise((resolve) =>
    method.call(client, { node }, { deadline: Date.now() + 5_000 }, (error) => resolve(error)),
  );
}

/** The first bytes of a TLS ClientHello whose record promises more: a server waits for the rest. */
export const STALLED_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);

/** A stranger's connection that never finishes its TLS handshake. */
export interface HalfOpen {
  /** Resolves, once the connection is closed, with the ms it stayed open after connecting (-1: never connected). */
  closedAfter: Promise<number>;
  destroy(): void;
}

/** Connect from `localAddress` (any 127.x.y.z), send `bytes` or nothing, and wait. */
export function halfOpen(port: number, localAddress: string, bytes?: Buffer): HalfOpen {
  const socket = tcpConnect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => {});
  let connectedAt = -1;
  socket.once('connect', () => {
    connectedAt = performance.now();
    if (bytes) socket.write(bytes);
  });
  const closedAfter = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(connectedAt < 0 ? -1 : performance.now() - connectedAt)),
  );
  return { closedAfter, destroy: () => socket.destroy() };
}

/** 127.a.b.c addresses, `count` of them, all different (every 127.x.y.z is this machine). */
export function loopbackSources(second: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.${second}.${Math.floor(i / 250)}.${(i % 250) + 1}`);
}
