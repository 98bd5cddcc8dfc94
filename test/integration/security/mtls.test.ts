import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Credentials } from '../../../src/security/credentials.js';
import {
  clientCredentials,
  peerChannelOptions,
  peerNodeIdFromCall,
  serverCredentials,
} from '../../../src/security/grpc-credentials.js';
import { liveServerCredentials } from '../../../src/security/grpc-live-credentials.js';
import { nextSecret } from '../../../src/security/rotate.js';
import { initSwarm, joinSwarm, replaceCredentials, tokenOf } from '../../../src/security/store.js';
import { encodeToken } from '../../../src/security/token.js';

const SERVER = '5e5e5e5e5e5e5e5e';
const CLIENT = 'c1c1c1c1c1c1c1c1';
const OTHER = '0707070707070707';

// A one-method service with raw-bytes messages: enough to prove who may talk, with no proto file.
const identity = (b: Buffer): Buffer => b;
const service = {
  whoAmI: {
    path: '/swarmd.test.Probe/WhoAmI',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} satisfies grpc.ServiceDefinition;
const ProbeClient = grpc.makeGenericClientConstructor(service, 'Probe');

type Outcome = { ok: true; peer: string } | { ok: false; code: grpc.status };

interface Harness {
  port: number;
  handled: number;
  server: grpc.Server;
  /** CA the handler checks callers against (null: accept any verified certificate). */
  current: Credentials | null;
}

async function startServer(creds: grpc.ServerCredentials, current: Credentials | null): Promise<Harness> {
  const server = new grpc.Server();
  const harness: Harness = { port: 0, handled: 0, server, current };
  server.addService(service, {
    whoAmI: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      harness.handled++;
      const peer = peerNodeIdFromCall(call, harness.current ?? undefined);
      if (peer === null) callback({ code: grpc.status.PERMISSION_DENIED });
      else callback(null, Buffer.from(peer));
    },
  });
  harness.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (err, port) => (err ? reject(err) : resolve(port))),
  );
  return harness;
}

const clients: grpc.Client[] = [];

function request(client: grpc.Client): Promise<Outcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      service.whoAmI.path,
      identity,
      identity,
      Buffer.alloc(0),
      { deadline: Date.now() + 5000 },
      (err: grpc.ServiceError | null, reply?: Buffer) => {
        resolve(err ? { ok: false, code: err.code } : { ok: true, peer: reply!.toString() });
      },
    );
  });
}

function connect(
  port: number,
  creds: grpc.ChannelCredentials,
  options: grpc.ChannelOptions = {},
): grpc.Client {
  const client = new ProbeClient(`127.0.0.1:${port}`, creds, options);
  clients.push(client);
  return client;
}

function call(
  port: number,
  creds: grpc.ChannelCredentials,
  options: grpc.ChannelOptions = {},
): Promise<Outcome> {
  return request(connect(port, creds, options));
}

describe('peer mTLS', () => {
  const dirs: string[] = [];
  let server: Credentials;
  let client: Credentials;
  let stranger: Credentials;
  let harness: Harness;

  async function dataDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'swarmd-mtls-'));
    dirs.push(dir);
    return dir;
  }

  beforeAll(async () => {
    const init = await initSwarm(await dataDir(), SERVER);
    server = init.credentials;
    client = await joinSwarm(await dataDir(), CLIENT, init.token);
    stranger = (await initSwarm(await dataDir(), OTHER)).credentials;
    harness = await startServer(serverCredentials(server), server);
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    harness?.server.forceShutdown();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('lets a member in, and the server sees its node id', async () => {
    const outcome = await call(harness.port, clientCredentials(client, SERVER), peerChannelOptions(SERVER));
    expect(outcome).toEqual({ ok: true, peer: CLIENT });
  });

  it('lets a member in when it dials without knowing the node id yet', async () => {
    const outcome = await call(harness.port, clientCredentials(client), peerChannelOptions());
    expect(outcome).toEqual({ ok: true, peer: CLIENT });
  });

  it("refuses another swarm's credentials before any handler runs", async () => {
    const before = harness.handled;
    const outcome = await call(harness.port, clientCredentials(stranger), peerChannelOptions());
    expect(outcome).toEqual({ ok: false, code: grpc.status.UNAVAILABLE });
    expect(harness.handled).toBe(before);
  });

  it('refuses a plaintext client', async () => {
    const before = harness.handled;
    const outcome = await call(harness.port, grpc.credentials.createInsecure());
    expect(outcome).toEqual({ ok: false, code: grpc.status.UNAVAILABLE });
    expect(harness.handled).toBe(before);
  });

  it('refuses a TLS client that presents no certificate', async () => {
    const before = harness.handled;
    const noCert = grpc.credentials.createSsl(Buffer.from(server.caCertPem), null, null, {
      checkServerIdentity: () => undefined,
    });
    const outcome = await call(harness.port, noCert, peerChannelOptions());
    expect(outcome).toEqual({ ok: false, code: grpc.status.UNAVAILABLE });
    expect(harness.handled).toBe(before);
  });

  it('refuses a server whose certificate names another node than the one dialled', async () => {
    const before = harness.handled;
    const outcome = await call(harness.port, clientCredentials(client, OTHER), peerChannelOptions(OTHER));
    expect(outcome).toEqual({ ok: false, code: grpc.status.UNAVAILABLE });
    expect(harness.handled).toBe(before);
  });

  it('refuses a server of another swarm', async () => {
    const foreign = await startServer(serverCredentials(stranger), stranger);
    try {
      const outcome = await call(foreign.port, clientCredentials(client), peerChannelOptions());
      expect(outcome).toEqual({ ok: false, code: grpc.status.UNAVAILABLE });
      expect(foreign.handled).toBe(0);
    } finally {
      foreign.server.forceShutdown();
    }
  });
});

describe('live server credentials', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('drops everyone while unpaired, lets members in once paired, and follows a rotation', async () => {
    const serverDir = await mkdtemp(join(tmpdir(), 'swarmd-live-'));
    const clientDir = await mkdtemp(join(tmpdir(), 'swarmd-live-'));
    dirs.push(serverDir, clientDir);
    const live = liveServerCredentials(null);
    const harness = await startServer(live.credentials, null);
    try {
      const init = await initSwarm(serverDir, SERVER);
      const member = await joinSwarm(clientDir, CLIENT, init.token);
      const before = await call(harness.port, clientCredentials(member), peerChannelOptions());
      expect(before).toEqual({ ok: false, code: grpc.status.UNAVAILABLE });

      live.update(init.credentials);
      harness.current = init.credentials;
      const opened = connect(harness.port, clientCredentials(member), peerChannelOptions());
      const viaOld = (): Promise<Outcome> => request(opened);
      expect(await viaOld()).toEqual({ ok: true, peer: CLIENT });

      // Rotate: the server takes epoch 2; the member has not received it yet.
      const rotatedServer = await replaceCredentials(
        serverDir,
        SERVER,
        encodeToken(await nextSecret(init.credentials)),
      );
      live.update(rotatedServer);
      harness.current = rotatedServer;
      // New connections with the old CA fail the handshake.
      const fresh = await call(harness.port, clientCredentials(member), peerChannelOptions());
      expect(fresh).toEqual({ ok: false, code: grpc.status.UNAVAILABLE });
      // The connection opened before the rotation stays up; checking against the current CA refuses it.
      expect(await viaOld()).toEqual({ ok: false, code: grpc.status.PERMISSION_DENIED });
      // Once the member installs epoch 2 it is back in.
      const rotatedMember = await replaceCredentials(clientDir, CLIENT, tokenOf(rotatedServer));
      const after = await call(harness.port, clientCredentials(rotatedMember), peerChannelOptions());
      expect(after).toEqual({ ok: true, peer: CLIENT });
    } finally {
      harness.server.forceShutdown();
    }
  });
});
