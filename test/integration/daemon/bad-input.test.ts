// The real swarmd binary fed bad input: broken config, a corrupt node id, a second daemon
// on the same data dir, an unreachable static peer, a peer on another protocol version,
// garbage on the peer port, and shell metacharacters in an executable name. It must fail
// fast with a stable code where it cannot run, and keep running (logging once) where it can.
// Daemons run on loopback with mDNS off. Where a test needs peer traffic, the data dir is
// put in a swarm before start (as `swarmctl init` does) and the test dials as another
// member with its own certificate, so its calls get past mTLS to the checks under test.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { DoctorJson, NodesJson, StatusJson } from '../../../src/cli/json.js';
import { loadOrCreateNodeId } from '../../../src/node/identity.js';
import { REFUSAL_LOG_LINES } from '../../../src/rpc/peer-server.js';
import { coordinationClient } from '../../../src/rpc/proto.js';
import type { Credentials } from '../../../src/security/credentials.js';
import { clientCredentials, peerChannelOptions } from '../../../src/security/grpc-credentials.js';
import { initSwarm } from '../../../src/security/store.js';
import { startInBox } from '../../helpers/loopback-swarm.js';
import { member, pair } from '../../helpers/member-client.js';
import { createSandbox, loopbackFlags, type Sandbox } from '../../helpers/sandbox.js';
import { killAllSwarmd, type Swarmd, spawnSwarmd, WARN } from '../../helpers/swarmd.js';
import { sleep, waitUntil } from '../../helpers/wait.js';
import { wireHeartbeat, wireNodeInfo } from '../../helpers/wire.js';

const sandboxes: Sandbox[] = [];

/** A uid nobody on a test machine runs as: the "other user" of the data dir tests. */
const OTHER_UID = 54_321;

async function sandbox(): Promise<Sandbox> {
  const box = await createSandbox();
  sandboxes.push(box);
  return box;
}

afterEach(async () => {
  await killAllSwarmd();
  await Promise.all(sandboxes.splice(0).map((box) => box.remove()));
});

async function status(box: Sandbox): Promise<StatusJson> {
  const result = await box.swarmctl(['status', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as StatusJson;
}

/** A fatal start-up error: exit 2 within a few seconds, the code on stderr, no stack trace. */
async function expectFatal(daemon: Swarmd, code: string): Promise<string> {
  const exit = await daemon.exit();
  expect(exit.code, daemon.stderr).toBe(2);
  expect(exit.ms).toBeLessThan(5_000);
  expect(daemon.stderr).toContain(`[${code}]`);
  expect(daemon.stderr).not.toMatch(/^\s+at /m);
  expect(daemon.logs().some((line) => line.msg === 'swarmd ready')).toBe(false);
  return daemon.stderr;
}

type Unary = (
  request: unknown,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: unknown) => void,
) => void;

/**
 * A daemon in a new swarm (started with `flags`), and another member of that swarm with an
 * mTLS client of its peer port, so calls get past mTLS to the checks under test.
 */
async function daemonAndMember(flags: string[] = []) {
  const box = await sandbox();
  const { id: serverId, token } = await pair(box);
  const peer = await member(box, token);
  const daemon = await startInBox(box, flags);
  const { peerPort } = await status(box);
  return { box, daemon, peer, peerPort, client: peerClient(peerPort, peer, serverId) };
}

/** A gRPC client of the peer service: mTLS as `creds` (a member), or plaintext (a stranger). */
function peerClient(port: number, creds: Credentials | null, serverId?: string): grpc.Client {
  const Client = coordinationClient();
  return creds
    ? new Client(`127.0.0.1:${port}`, clientCredentials(creds, serverId), peerChannelOptions(serverId))
    : new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function registerNode(client: grpc.Client, request: unknown): Promise<grpc.ServiceError | null> {
  const method = (client as unknown as Record<string, Unary>).registerNode!;
  return new Promise((resolve) =>
    method.call(client, request, { deadline: Date.now() + 5_000 }, (error) => resolve(error)),
  );
}

/** A NodeInfo that is valid in every field, speaking protocol `major.minor`. */
function nodeInfo(id: string, major: number, minor: number) {
  return wireNodeInfo({
    id,
    name: 'from-the-future',
    endpoints: ['127.0.0.1:1'],
    protocol: { major, minor },
    incarnation: Date.now(),
    softwareVersion: '9.0.0',
  });
}

/** A TCP port on loopback that nothing listens on (bound once by us, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Write `payload` to a raw TCP connection, read what comes back for a moment, close. */
function rawExchange(port: number, payload: Buffer | string, localAddress?: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port, ...(localAddress && { localAddress }) });
    let received = '';
    const done = () => {
      socket.destroy();
      resolve(received);
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.once('connect', () => socket.write(payload));
    socket.once('error', done);
    socket.once('close', done);
    setTimeout(done, 1_000);
  });
}

describe('a malformed config stops swarmd with exit 2 and names the option', () => {
  const cases = [
    {
      what: 'invalid YAML',
      yaml: 'version: 1\npeer:\n  port: [1, 2\n',
      code: 'SWARM_ERR_CONFIG_PARSE',
      names: null,
    },
    {
      what: 'an unknown key',
      yaml: 'version: 1\npeer:\n  prot: 9000\n',
      code: 'SWARM_ERR_CONFIG_INVALID',
      names: 'peer.prot',
    },
    {
      what: 'peer.port out of range',
      yaml: 'version: 1\npeer:\n  port: 70000\n',
      code: 'SWARM_ERR_CONFIG_INVALID',
      names: 'peer.port',
    },
    {
      what: 'deadAfter shorter than suspectAfter',
      yaml: 'version: 1\nmembership:\n  suspectAfter: 1.5s\n  deadAfter: 1s\n',
      code: 'SWARM_ERR_CONFIG_INVALID',
      names: 'membership.deadAfter',
    },
  ];

  it.each(cases)('$what → $code', async ({ yaml, code, names }) => {
    const box = await sandbox();
    const file = join(box.dir, 'config.yaml');
    await writeFile(file, yaml);
    // No --port flag here: a flag would override the file's peer.port.
    const daemon = await spawnSwarmd(['--config', file, ...loopbackFlags(box, { port: false })], {
      env: box.env,
    });
    const stderr = await expectFatal(daemon, code);
    expect(stderr).toContain(names ?? file);
  });

  it('names the flag when the bad value comes from a flag', async () => {
    const box = await sandbox();
    const daemon = await spawnSwarmd([...loopbackFlags(box), '--port', '70000'], { env: box.env });
    const stderr = await expectFatal(daemon, 'SWARM_ERR_CONFIG_INVALID');
    expect(stderr).toContain('peer.port');
    expect(stderr).toContain('--port');
  });
});

describe('the data dir', () => {
  it('a corrupt node-id stops swarmd with SWARM_ERR_NODE_ID_CORRUPT and is left as it was', async () => {
    const box = await sandbox();
    await mkdir(box.dataDir, { recursive: true });
    const idFile = join(box.dataDir, 'node-id');
    await writeFile(idFile, 'this is not a node id\n');
    const daemon = await spawnSwarmd(loopbackFlags(box), { env: box.env });
    await expectFatal(daemon, 'SWARM_ERR_NODE_ID_CORRUPT');
    expect(await readFile(idFile, 'utf8')).toBe('this is not a node id\n');
  });

  it('a data dir another user planted (owned by another uid, or world-writable) is refused at start', async () => {
    const box = await sandbox();
    await mkdir(box.dataDir, { recursive: true, mode: 0o700 });
    await chown(box.dataDir, OTHER_UID, OTHER_UID);
    const planted = await spawnSwarmd(loopbackFlags(box), { env: box.env });
    const stderr = await expectFatal(planted, 'SWARM_ERR_SECURITY_DATA_DIR_UNSAFE');
    expect(stderr).toContain(`belongs to uid ${OTHER_UID}`);
    expect(existsSync(join(box.dataDir, 'node-id'))).toBe(false);

    await chown(box.dataDir, process.getuid!(), process.getgid!());
    await chmod(box.dataDir, 0o777);
    const open = await spawnSwarmd(loopbackFlags(box), { env: box.env });
    expect(await expectFatal(open, 'SWARM_ERR_SECURITY_DATA_DIR_UNSAFE')).toMatch(/writable by other users/);
  });

  it('a credentials file swapped in by another user is refused by the running daemon, which keeps its swarm', async () => {
    const box = await sandbox();
    await initSwarm(box.dataDir, await loadOrCreateNodeId(box.dataDir));
    const daemon = await startInBox(box);
    const swarmOf = async () =>
      (JSON.parse((await box.swarmctl(['nodes', '--json'])).stdout) as NodesJson).swarm;
    const before = await swarmOf();
    expect(before).toBeTruthy();
    // Another swarm's credentials, owned by another uid, renamed over ours (what an attacker
    // with write access to a shared /tmp data dir would do).
    const other = await createSandbox();
    sandboxes.push(other);
    await initSwarm(other.dataDir, await loadOrCreateNodeId(box.dataDir));
    const foreign = join(other.dataDir, 'swarm', 'credentials.json');
    await chown(foreign, OTHER_UID, OTHER_UID);
    await rename(foreign, join(box.dataDir, 'swarm', 'credentials.json'));
    await waitUntil(
      () => daemon.logs().some((line) => /refuses to use it/.test(String(line['err'] ?? ''))),
      'the daemon to refuse the swapped credentials',
      10_000,
      50,
    );
    expect(await swarmOf()).toBe(before);
    expect(daemon.running).toBe(true);
  });

  it('a second daemon on the same data dir exits with SWARM_ERR_CONTROL_SOCKET_BUSY; the first keeps serving', async () => {
    const box = await sandbox();
    const first = await startInBox(box);
    const before = await status(box);

    const second = await spawnSwarmd(loopbackFlags(box), { env: box.env });
    await expectFatal(second, 'SWARM_ERR_CONTROL_SOCKET_BUSY');

    expect(first.running).toBe(true);
    expect(existsSync(box.socket)).toBe(true);
    const after = await status(box);
    expect(after.node.id).toBe(before.node.id);
    expect(after.peerPort).toBe(before.peerPort);
  });
});

describe('an unreachable static peer', () => {
  it('keeps the daemon running, warns once naming it, and fails the doctor check', async () => {
    const box = await sandbox();
    await pair(box);
    const endpoint = `127.0.0.1:${await closedPort()}`;
    const daemon = await startInBox(box, ['--peer', endpoint]);
    // Dials back off 0.5 s, 1 s, 2 s: about three attempts in this window.
    await sleep(3_500);
    expect(daemon.running).toBe(true);
    const warnings = daemon
      .logs()
      .filter((line) => line.level === WARN && JSON.stringify(line).includes(endpoint));
    expect(warnings).toHaveLength(1);

    const result = await box.swarmctl(['doctor', '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as DoctorJson;
    const check = report.checks.find((c) => c.name === 'static peers');
    expect(check?.status).toBe('fail');
    expect(check?.detail).toContain(endpoint);
  });
});

describe('the peer port', () => {
  it('refuses a peer on protocol 2.0 with FAILED_PRECONDITION, warns once, and lists it as incompatible', async () => {
    // A member of the swarm (its certificate names the id it claims) on a newer protocol.
    const { box, daemon, peer, client } = await daemonAndMember();
    const id = peer.nodeId;
    try {
      for (let i = 0; i < 5; i++) {
        const error = await registerNode(client, { node: nodeInfo(id, 2, 0) });
        expect(error?.code).toBe(grpc.status.FAILED_PRECONDITION);
        expect(error?.details).toContain('2.0');
      }
    } finally {
      client.close();
    }
    await sleep(200);
    const warnings = daemon
      .logs()
      .filter((line) => line.level === WARN && JSON.stringify(line).includes('2.0'));
    expect(warnings).toHaveLength(1);

    const result = await box.swarmctl(['nodes', '--json']);
    expect(result.code).toBe(0);
    const view = JSON.parse(result.stdout) as NodesJson;
    const stranger = view.nodes.find((node) => node.id === id);
    expect(stranger).toMatchObject({ compatible: false, self: false });
    expect(stranger?.problem).toContain('2.0');
    expect(daemon.running).toBe(true);
  });

  it('logs refused handshakes from 2,000 source addresses in a bounded number of lines', async () => {
    const box = await sandbox();
    await pair(box);
    const daemon = await startInBox(box);
    const { peerPort } = await status(box);
    // Every 127.x.y.z is this machine's loopback: 2,000 distinct strangers, 100 at a time.
    const sources = Array.from({ length: 2_000 }, (_, i) => `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`);
    for (let i = 0; i < sources.length; i += 100) {
      await Promise.all(
        sources.slice(i, i + 100).map((source) => rawExchange(peerPort, 'GET / HTTP/1.1\r\n\r\n', source)),
      );
    }
    await sleep(500);
    const refusals = daemon.logs().filter((line) => /refused/.test(String(line.msg)));
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.length).toBeLessThanOrEqual(REFUSAL_LOG_LINES);
    expect(daemon.running).toBe(true);
    // The next line written says how many were left out (the budget is per minute).
    expect(new Set(refusals.map((line) => String(line['remote']))).size).toBe(refusals.length);
  });

  it('survives raw garbage and HTTP/1.1, and refuses RegisterNode without a node with INVALID_ARGUMENT', async () => {
    const { box, daemon, peerPort, client } = await daemonAndMember();

    await rawExchange(peerPort, randomBytes(64 * 1024));
    // Something that looks like the HTTP/2 preface, then garbage frames.
    await rawExchange(
      peerPort,
      Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), randomBytes(4096)]),
    );
    await rawExchange(peerPort, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${peerPort}\r\nConnection: close\r\n\r\n`);
    // Plaintext gRPC from a stranger is refused at the TLS layer.
    const stranger = peerClient(peerPort, null);
    try {
      const error = await registerNode(stranger, { node: null });
      expect(error?.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      stranger.close();
    }
    expect(daemon.running).toBe(true);

    await sleep(300);
    const warns = () => daemon.logs().filter((line) => line.level === WARN).length;
    const warnsBefore = warns();
    // Malformed messages from a member (authenticated: so they reach validation).
    try {
      for (let i = 0; i < 3; i++) {
        const error = await registerNode(client, { node: null });
        expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
      }
      await sleep(200);
      // Refused and logged once per reason, not once per call.
      expect(warns() - warnsBefore).toBe(1);
      // A node id that is not 16 hex characters is refused the same way (another reason).
      const error = await registerNode(client, { node: nodeInfo('../../etc/passwd', 1, 0) });
      expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    } finally {
      client.close();
    }
    await sleep(200);
    expect(warns() - warnsBefore).toBe(2);

    expect(daemon.running).toBe(true);
    const after = await status(box);
    expect(after.peerPort).toBe(peerPort);
    const nodes = JSON.parse((await box.swarmctl(['nodes', '--json'])).stdout) as NodesJson;
    expect(nodes.nodes).toHaveLength(1);
  });
});

describe('shell metacharacters in facts.nvidiaSmi', () => {
  it.each([
    ['a command list', (dir: string) => `nvidia-smi; touch ${join(dir, 'canary')} #`],
    ['a command substitution', (dir: string) => `$(touch ${join(dir, 'canary')})`],
  ])('%s is never run by a shell', async (_what, binary) => {
    const box = await sandbox();
    const canary = join(box.dir, 'canary');
    const daemon = await startInBox(box, [
      '--facts.nvidiaSmi',
      binary(box.dir),
      '--facts.refreshInterval',
      '200ms',
    ]);
    // Several refreshes, each of which runs the "executable".
    await sleep(1_000);
    expect(daemon.running).toBe(true);
    const { node } = await status(box);
    expect(node.gpus.filter((gpu) => gpu.vendor === 'nvidia')).toEqual([]);
    expect(existsSync(canary)).toBe(false);
  });
});

function heartbeat(client: grpc.Client, request: unknown): Promise<grpc.ServiceError | null> {
  const method = (client as unknown as Record<string, Unary>).heartbeat!;
  return new Promise((resolve) =>
    method.call(client, request, { deadline: Date.now() + 5_000 }, (error) => resolve(error)),
  );
}

describe('hostile input from an authenticated member', () => {
  it('refuses a message over peer.maxMessageBytes with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const { daemon, peer, client } = await daemonAndMember(['--peer.maxMessageBytes', '65536']);
    try {
      const huge = nodeInfo(peer.nodeId, 1, 0);
      const models = Array.from({ length: 2000 }, (_, i) => ({
        id: `model-${i}-${'x'.repeat(40)}`,
        loaded: false,
      }));
      const big = {
        ...huge,
        backends: [
          {
            id: 'ollama@127.0.0.1:11434',
            kind: 'ollama',
            url: 'http://127.0.0.1:11434',
            healthy: true,
            models,
          },
        ],
      };
      const error = await registerNode(client, { node: big });
      expect(error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      // A normal-sized registration from the same member still works afterwards.
      expect(await registerNode(client, { node: nodeInfo(peer.nodeId, 1, 0) })).toBeNull();
    } finally {
      client.close();
    }
    expect(daemon.running).toBe(true);
  });

  it('refuses a member message listing 20k backends before decoding it, and keeps serving', async () => {
    const box = await sandbox();
    const { id: serverId, token } = await pair(box);
    const peer = await member(box, token);
    const daemon = await startInBox(box);
    const { peerPort } = await status(box);
    const client = peerClient(peerPort, peer, serverId);
    try {
      const backends = Array.from({ length: 20_000 }, (_, i) => ({
        id: `b${i}`,
        kind: 'ollama',
        url: `http://127.0.0.1:${i}`,
        healthy: true,
        models: [{ id: 'm', loaded: false }],
      }));
      const error = await registerNode(client, { node: { ...nodeInfo(peer.nodeId, 1, 0), backends } });
      expect(error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(error?.details).toMatch(
        /RegisterNode request of \d+ bytes refused: member messages are at most 524288 bytes/,
      );
      expect(await registerNode(client, { node: nodeInfo(peer.nodeId, 1, 0) })).toBeNull();
    } finally {
      client.close();
    }
    expect(daemon.running).toBe(true);
  });

  it('answers malformed protobuf with an error status and keeps serving', async () => {
    const { daemon, peer, client } = await daemonAndMember();
    try {
      // A field header promising more bytes than follow: not a valid protobuf message.
      const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);
      const error = await new Promise<grpc.ServiceError | null>((resolve) =>
        client.makeUnaryRequest(
          '/swarm.v1.SwarmCoordination/RegisterNode',
          (value: Buffer) => value,
          (value: Buffer) => value,
          garbage,
          { deadline: Date.now() + 5_000 },
          (err) => resolve(err),
        ),
      );
      expect(error).not.toBeNull();
      expect(error?.code).not.toBe(grpc.status.OK);
      expect(await registerNode(client, { node: nodeInfo(peer.nodeId, 1, 0) })).toBeNull();
    } finally {
      client.close();
    }
    expect(daemon.running).toBe(true);
  });

  it('ignores a replayed heartbeat: it does not count as a sign of life', async () => {
    const { box, peer, client } = await daemonAndMember();
    const info = nodeInfo(peer.nodeId, 1, 0);
    const beat = (seq: number) => wireHeartbeat({ nodeId: peer.nodeId, incarnation: info.incarnation, seq });
    const age = async () => {
      const view = JSON.parse((await box.swarmctl(['nodes', '--json'])).stdout) as NodesJson;
      return view.nodes.find((node) => node.id === peer.nodeId)?.lastHeartbeatAgeMs ?? null;
    };
    try {
      expect(await registerNode(client, { node: info })).toBeNull();
      expect(await heartbeat(client, beat(5))).toBeNull();
      const firstBeat = Date.now();
      await sleep(1_000);
      expect(await heartbeat(client, beat(5))).toBeNull(); // the same message again
      expect(await heartbeat(client, beat(4))).toBeNull(); // an older one
      // The daemon's clock still runs from the first beat: the replays were not news.
      expect(await age()).toBeGreaterThanOrEqual(900);
      const beforeFresh = Date.now();
      expect(await heartbeat(client, beat(6))).toBeNull(); // a fresh one
      const sinceFresh = await age();
      expect(sinceFresh).toBeLessThanOrEqual(Date.now() - beforeFresh + 20);
      expect(sinceFresh).toBeLessThan(Date.now() - firstBeat - 900);
    } finally {
      client.close();
    }
  });
});
