// swarmctl as a real child process against a real grpc-js SwarmControl server on a Unix socket.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodesJson } from '../../../src/cli/json.js';
import { loadServices } from '../../../src/rpc/proto.js';
import type { RekeyReport, RemoveNodeRequest } from '../../../src/rpc/wire.js';
import { ensureBuilt } from '../../helpers/build.js';
import { swarmctl } from '../../helpers/swarmctl.js';
import {
  doctorReply,
  listModelsReply,
  listNodesReply,
  removeReport,
  rotateReport,
  statusReply,
} from '../../unit/cli/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'swarmctl-it-'));
const socket = join(dir, 'control.sock');
/** No config file and the default data dir under the temp dir. */
const env = {
  PATH: process.env.PATH ?? '',
  HOME: dir,
  XDG_CONFIG_HOME: join(dir, 'config'),
  XDG_STATE_HOME: join(dir, 'state'),
};
let server: grpc.Server;
/** The node of every RemoveNode request the fake daemon received. */
const removeRequests: string[] = [];

beforeAll(async () => {
  await ensureBuilt();
  server = new grpc.Server();
  const reply =
    (value: unknown): grpc.handleUnaryCall<unknown, unknown> =>
    (_call, callback) =>
      callback(null, value);
  server.addService(loadServices().control, {
    Status: reply(statusReply),
    ListNodes: reply(listNodesReply),
    ListModels: reply(listModelsReply),
    Doctor: reply(doctorReply),
    RemoveNode: (
      call: grpc.ServerUnaryCall<RemoveNodeRequest, RekeyReport>,
      callback: grpc.sendUnaryData<RekeyReport>,
    ) => {
      removeRequests.push(call.request.node);
      if (call.request.node === 'zulu') {
        // As rpc/serve.ts sends a SwarmError: status, message, and the code in metadata.
        const metadata = new grpc.Metadata();
        metadata.set('swarm-error-code', 'SWARM_ERR_NODE_NOT_FOUND');
        callback({ code: grpc.status.NOT_FOUND, details: 'no node "zulu" in this swarm', metadata });
      } else {
        callback(null, removeReport);
      }
    },
    Rotate: reply(rotateReport),
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('swarmctl against a real control socket', () => {
  it('nodes --json prints the documented shape from the real wire', async () => {
    const result = await swarmctl(['--socket', socket, 'nodes', '--json'], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const data = JSON.parse(result.stdout) as NodesJson;
    expect(data.self).toBe('n-atlas');
    expect(data.nodes.map((n) => n.name)).toEqual([
      'atlas',
      'boreas',
      'cronos',
      'delta',
      'echo',
      'foxtrot',
      'golf',
    ]);
    const atlas = data.nodes[0]!;
    expect(atlas.gpus[0]).toMatchObject({
      name: 'NVIDIA GeForce RTX 4090',
      memoryTotalMiB: 24564,
      memoryUsedMiB: 1229,
    });
    expect(atlas.models).toEqual([
      { id: 'qwen3:8b', backend: 'ollama@127.0.0.1:11434', loaded: true, contextLength: 40960 },
    ]);
    const golf = data.nodes.find((n) => n.name === 'golf')!;
    // Unset proto3 optionals arrive absent and become null; set zero stays 0.
    expect(golf.gpus[0]).toMatchObject({ memoryTotalMiB: null, memoryUsedMiB: null, utilizationPct: 0 });
    expect(data.nodes.find((n) => n.name === 'echo')).toMatchObject({ activity: 'paused' });
    expect(result.stdout).not.toMatch(/"_[a-zA-Z]+"/);
  });

  it('nodes prints a table with every node name', async () => {
    const result = await swarmctl(['--socket', socket, 'nodes'], { env });
    expect(result.code).toBe(0);
    for (const name of ['atlas *', 'boreas', 'cronos', 'delta', 'echo', 'foxtrot', 'golf']) {
      expect(result.stdout).toContain(name);
    }
    expect(result.stdout).toContain('incompatible (v2.0)');
  });

  it('models, status and doctor answer over the socket', async () => {
    const models = await swarmctl(['--socket', socket, 'models', '--json'], { env });
    expect(JSON.parse(models.stdout).models.map((m: { id: string }) => m.id)).toEqual([
      'llama-3.3-70b',
      'qwen3:8b',
    ]);
    const status = await swarmctl(['--socket', socket, 'status'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^name:\s+atlas$/m);
    const doctor = await swarmctl(['--socket', socket, 'doctor'], { env });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain('[FAIL] backends');
  });

  it('exits 3 and names the socket when nothing is there', async () => {
    const missing = join(dir, 'nobody.sock');
    const result = await swarmctl(['--socket', missing, 'nodes'], { env });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(missing);
    expect(result.stderr).toMatch(/^swarmctl: /);
    expect(result.stdout).toBe('');
  });

  it('uses <dataDir>/control.sock when no --socket is given', async () => {
    const result = await swarmctl(['status', '--json'], { env });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(join(dir, 'state', 'swarmd', 'control.sock'));
    expect(JSON.parse(result.stdout).error.code).toBe('SWARM_ERR_CONTROL_UNREACHABLE');
  });

  it('nodes --json carries the swarm fields from the real wire', async () => {
    const result = await swarmctl(['--socket', socket, 'nodes', '--json'], { env });
    const data = JSON.parse(result.stdout) as NodesJson;
    expect(data).toMatchObject({ paired: true, swarm: '3fa2c1d0', epoch: 1, visible: [] });
  });

  it('remove sends the node over the socket, prints the report and exits 1 when a member missed it', async () => {
    const result = await swarmctl(['--socket', socket, 'remove', 'boreas'], { env });
    expect(removeRequests).toContain('boreas');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Removed boreas (n-boreas) from the swarm for good');
    expect(result.stdout).toContain('epoch 4, fingerprint c0ffee12');
    expect(result.stdout).toContain('cronos (n-cronos): on it run `swarmctl join <token>`');
    const json = await swarmctl(['--socket', socket, 'remove', 'n-boreas', '--json'], { env });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toStrictEqual({
      epoch: 4,
      fingerprint: 'c0ffee12',
      delivered: ['n-atlas'],
      missed: ['n-cronos'],
      removed: 'n-boreas',
    });
  });

  it('remove of an unknown node exits 2 with the daemon reason and code', async () => {
    const result = await swarmctl(['--socket', socket, 'remove', 'zulu', '--json'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('swarmctl: no node "zulu" in this swarm\n');
    expect(JSON.parse(result.stdout).error.code).toBe('SWARM_ERR_NODE_NOT_FOUND');
  });

  it('rotate prints the report and exits 0 when nobody missed it', async () => {
    const result = await swarmctl(['--socket', socket, 'rotate'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Rotated the swarm credentials: epoch 5, fingerprint abad1dea.');
    const json = await swarmctl(['--socket', socket, 'rotate', '--json'], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({ epoch: 5, missed: [], removed: null });
  });

  it('exits 2 on an unknown command', async () => {
    const result = await swarmctl(['--socket', socket, 'frobnicate'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });
});
