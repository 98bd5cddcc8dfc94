// What a newcomer meets in the first minutes, with the real binaries on loopback (mDNS off):
// swarmctl run while swarmd is still starting, swarmd on a port already taken, swarmctl piped
// into `head`, and the words and numbers swarmctl prints about a fresh node.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorJson, NodesJson, StatusJson } from '../../../src/cli/json.js';
import { ControlServer } from '../../../src/control/server.js';
import { startingMarkerPath } from '../../../src/control/starting.js';
import { createLogger } from '../../../src/util/logger.js';
import { ensureBuilt, ROOT, SWARMCTL } from '../../helpers/build.js';
import { startInBox } from '../../helpers/loopback-swarm.js';
import { createSandbox, loopbackFlags, type Sandbox } from '../../helpers/sandbox.js';
import { swarmctl } from '../../helpers/swarmctl.js';
import { killAllSwarmd, spawnSwarmd } from '../../helpers/swarmd.js';
import { sleep } from '../../helpers/wait.js';

const sandboxes: Sandbox[] = [];

async function sandbox(): Promise<Sandbox> {
  const box = await createSandbox();
  sandboxes.push(box);
  return box;
}

const idle: ChildProcess[] = [];

/** A live process of ours that never opens a socket: to swarmctl, a daemon stuck in its start. */
function idleProcess(): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  idle.push(child);
  return child;
}

beforeAll(() => ensureBuilt(), 120_000);

afterEach(async () => {
  await killAllSwarmd();
  for (const child of idle.splice(0)) child.kill('SIGKILL');
  await Promise.all(sandboxes.splice(0).map((box) => box.remove()));
});

describe('swarmctl right after swarmd starts', () => {
  it('waits for a daemon that is starting, says so on stderr, then answers', async () => {
    const box = await sandbox();
    const socket = box.socket;
    // Catch the daemon between its starting marker and its control socket, and hold it there
    // (SIGSTOP to swarmd itself) while swarmctl asks: no race with either one's start-up time.
    const daemon = await spawnSwarmd(loopbackFlags(box), { env: box.env });
    const marker = startingMarkerPath(socket);
    const deadline = Date.now() + 10_000;
    while (!existsSync(marker) && Date.now() < deadline) await sleep(5);
    daemon.signal('SIGSTOP');
    expect(existsSync(marker), 'swarmd wrote no starting marker').toBe(true);
    const asked = box.swarmctl(['nodes', '--json']);
    await sleep(1_000);
    daemon.signal('SIGCONT');
    const result = await asked;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe(`waiting for swarmd to start (${socket})…\n`);
    const nodes = JSON.parse(result.stdout) as NodesJson;
    expect(nodes.nodes.find((node) => node.self)?.id).toBe(nodes.self);
    await daemon.ready();
  }, 30_000);

  it('fails at once, without waiting, when no daemon is starting (none, or one that died starting)', async () => {
    const box = await sandbox();
    const socket = box.socket;
    const none = await box.swarmctl(['nodes']);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain(`no control socket at ${socket}`);
    expect(none.stderr).not.toContain('waiting');

    // A marker left by a daemon killed while starting names a process that is gone.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    await mkdir(box.dataDir, { recursive: true, mode: 0o700 });
    await writeFile(startingMarkerPath(socket), `${gone}\n`);
    const stale = await box.swarmctl(['status']);
    expect(stale.code).toBe(3);
    expect(stale.stderr).not.toContain('waiting');
  });

  it('gives up on a daemon that never opens its socket, naming what to look at', async () => {
    const box = await sandbox();
    const socket = box.socket;
    await mkdir(box.dataDir, { recursive: true, mode: 0o700 });
    await writeFile(startingMarkerPath(socket), `${idleProcess().pid}\n`);
    const result = await box.swarmctl(['status', '--json']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`waiting for swarmd to start (${socket})…`);
    const error = JSON.parse(result.stdout) as { error: { code: string; message: string } };
    expect(error.error.code).toBe('SWARM_ERR_CONTROL_UNREACHABLE');
    expect(error.error.message).toContain('systemctl --user status swarmd');
    expect(error.error.message).toContain('swarmctl doctor');
  }, 20_000);

  it('never waits in init, join or token, which need no daemon', async () => {
    const box = await sandbox();
    await mkdir(box.dataDir, { recursive: true, mode: 0o700 });
    await writeFile(startingMarkerPath(box.socket), `${idleProcess().pid}\n`);
    const init = await box.swarmctl(['init']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).not.toContain('waiting');
    const token = await box.swarmctl(['token']);
    expect(token).toMatchObject({ code: 0, stdout: init.stdout, stderr: '' });
    // Another data dir, but the same socket, whose starting marker names a live process.
    const joined = await swarmctl(
      ['--socket', box.socket, '--data-dir', join(box.dir, 'second'), 'join', init.stdout.trim()],
      { env: box.env },
    );
    expect(joined.code, joined.stderr).toBe(0);
    expect(joined.stderr).toBe('');
  });
});

describe('swarmd on a peer port already in use', () => {
  let taken: Server;

  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it("prints only swarmd's own error, naming the port and what to do, and exits non-zero", async () => {
    const box = await sandbox();
    const port = (taken.address() as { port: number }).port;
    const daemon = await spawnSwarmd([...loopbackFlags(box, { port: false }), '--port', String(port)], {
      env: box.env,
    });
    const exit = await daemon.exit();
    expect(exit.code, daemon.stderr).toBe(2);
    // One line, swarmd's: the code, the address, and the flag that picks another port.
    const lines = daemon.stderr.trimEnd().split('\n');
    expect(lines, daemon.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^swarmd: /);
    expect(lines[0]).toContain('[SWARM_ERR_PORT_IN_USE]');
    expect(lines[0]).toContain(`127.0.0.1:${port}`);
    expect(lines[0]).toContain('--port');
    // grpc-js's own line ("E No address added out of total 1 resolved") is nowhere.
    expect(`${daemon.stdout}${daemon.stderr}`).not.toContain('No address added');
  });
});

describe('swarmctl piped into a reader that stops early', () => {
  const ROWS = 20_000;
  let dir: Sandbox;
  let server: ControlServer;

  beforeAll(async () => {
    dir = await createSandbox();
    const unused = () => {
      throw new Error('not used');
    };
    // The real control server with a ledger of many rows: far more than a pipe buffers.
    server = new ControlServer(
      {
        logger: createLogger('silent'),
        handlers: {
          status: unused,
          listNodes: unused,
          listModels: unused,
          doctor: unused,
          removeNode: unused,
          rotate: unused,
          usage: unused,
          *usageRows() {
            for (let i = 0; i < ROWS; i++)
              yield { jsonl: `${JSON.stringify({ i, pad: 'x'.repeat(100) })}\n` };
          },
          pause: unused,
          resume: unused,
          drain: unused,
        },
      },
      { socketPath: join(dir.dir, 'control.sock') },
    );
    await server.start();
  });

  afterAll(async () => {
    await server.stop();
    await dir.remove();
  });

  it('`swarmctl usage --jsonl | head -2` ends with status 0 and no stack trace', async () => {
    const result = await pipeIntoHead(['--socket', join(dir.dir, 'control.sock'), 'usage', '--jsonl'], 2);
    expect(result.lines.map((line) => JSON.parse(line).i)).toEqual([0, 1]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  }, 30_000);

  it('ends quietly for commands that print little, when the reader is already gone', async () => {
    const box = await sandbox();
    await startInBox(box);
    for (const args of [
      ['status'],
      ['nodes', '--json'],
      ['doctor'],
      ['--help'],
      ['--data-dir', box.dataDir, 'init', '--json'],
    ]) {
      const result = await pipeIntoHead(['--socket', box.socket, ...args], 0);
      expect({ args, stderr: result.stderr, code: result.code }).toEqual({ args, stderr: '', code: 0 });
    }
  }, 60_000);
});

describe('what swarmctl says about a fresh node', () => {
  it('names the swarm the same way in init and nodes, and prints whole ms in --json', async () => {
    const box = await sandbox();
    const init = await box.swarmctl(['init']);
    expect(init.code, init.stderr).toBe(0);
    await startInBox(box);
    const nodes = await box.swarmctl(['nodes']);
    const data = JSON.parse((await box.swarmctl(['nodes', '--json'])).stdout) as NodesJson;
    // init: "swarm <id> (epoch 1, fingerprint …) created in …"; nodes: "swarm <id> (epoch 1)".
    expect(init.stderr).toMatch(
      new RegExp(`^swarm ${data.swarm} \\(epoch 1, fingerprint [0-9a-f]{8}\\) created in `, 'm'),
    );
    expect(nodes.stdout.split('\n')[0]).toBe(`swarm ${data.swarm} (epoch 1)`);
    const doctor = JSON.parse((await box.swarmctl(['doctor', '--json'])).stdout) as DoctorJson;
    expect(doctor.checks.find((check) => check.name === 'swarm membership')?.detail).toMatch(
      new RegExp(`^member of swarm ${data.swarm} \\(epoch 1, fingerprint [0-9a-f]{8}\\)$`),
    );
    const status = JSON.parse((await box.swarmctl(['status', '--json'])).stdout) as StatusJson;
    expect(Number.isInteger(status.uptimeMs)).toBe(true);
    expect(status.uptimeMs).toBeGreaterThan(0);
  }, 30_000);

  it('doctor does not blame the default ports when auto-detection is off', async () => {
    const box = await sandbox();
    // loopbackFlags turn backends.autoDetect off.
    await startInBox(box);
    const doctor = JSON.parse((await box.swarmctl(['doctor', '--json'])).stdout) as DoctorJson;
    const servers = doctor.checks.find((check) => check.name === 'model servers');
    expect(servers?.status).toBe('warn');
    expect(servers?.detail).not.toContain('default ports');
    expect(servers?.detail).toContain('backends.autoDetect: false');
  }, 30_000);
});

/**
 * Run swarmctl with its stdout on a real pipe whose reader closes after `keep` lines (0: before
 * swarmctl writes anything), as `swarmctl … | head -n keep` does.
 */
function pipeIntoHead(
  args: string[],
  keep: number,
): Promise<{ lines: string[]; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SWARMCTL, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let buffered = '';
    let stderr = '';
    const close = () => child.stdout.destroy();
    if (keep === 0) close();
    else {
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        lines.push(...parts);
        if (lines.length >= keep) {
          lines.length = keep;
          close();
        }
      });
    }
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ lines, stderr, code });
    });
  });
}
