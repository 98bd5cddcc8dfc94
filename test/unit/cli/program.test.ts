import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ControlClient } from '../../../src/cli/control-client.js';
import { COMMANDS, exitCodeFor, LOCAL_COMMANDS, runCli } from '../../../src/cli/program.js';
import { ConfigError, ErrorCodes, SwarmError } from '../../../src/errors.js';
import type { ActivityReportMessage, PauseRequest } from '../../../src/rpc/wire.js';
import { noJobs } from '../../helpers/no-jobs.js';
import {
  doctorReply,
  listModelsReply,
  listNodesReply,
  removeReport,
  rotateReport,
  statusReply,
} from './fixtures.js';

const home = mkdtempSync(join(tmpdir(), 'swarmctl-unit-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Environment with no config file and the data dir under the temp home. */
const env = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state') };

async function* lines(...items: string[]): AsyncGenerator<string> {
  yield* items;
}

interface Fake {
  client: ControlClient;
  sockets: string[];
  closed: number;
  pauses: PauseRequest[];
}

const pauseReport: ActivityReportMessage = {
  activity: 'ACTIVITY_PAUSED',
  reason: 'manual',
  inflight: 1,
  drained: false,
  handedBack: 0,
  unload: [
    {
      backendId: 'ollama@127.0.0.1:11434',
      kind: 'ollama',
      outcome: 'unloaded',
      models: ['qwen3:8b'],
      detail: '',
    },
    {
      backendId: 'vllm@127.0.0.1:8000',
      kind: 'vllm',
      outcome: 'unsupported',
      models: [],
      detail: 'vLLM keeps its model loaded',
    },
  ],
};

function fakeClient(overrides: Partial<ControlClient> = {}): Fake {
  const fake: Fake = {
    sockets: [],
    closed: 0,
    pauses: [],
    client: {
      socketPath: '',
      status: async () => statusReply,
      listNodes: async () => listNodesReply,
      listModels: async () => listModelsReply,
      doctor: async () => doctorReply,
      removeNode: async () => removeReport,
      rotate: async () => rotateReport,
      usage: async () => ({ json: '{}' }),
      usageRows: () => lines(),
      pause: async (request) => {
        fake.pauses.push(request);
        return pauseReport;
      },
      resume: async () => ({ ...pauseReport, activity: 'ACTIVITY_ACTIVE', reason: '', unload: [] }),
      drain: async () => ({ ...pauseReport, unload: [] }),
      ...noJobs,
      close: () => {
        fake.closed++;
      },
      ...overrides,
    },
  };
  return fake;
}

async function run(argv: string[], fake = fakeClient(), environment: NodeJS.ProcessEnv = env) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    argv,
    { out: (s) => out.push(s), err: (s) => err.push(s) },
    {
      env: environment,
      connect: (socket) => {
        fake.sockets.push(socket);
        return fake.client;
      },
    },
  );
  return { code, out: out.join('\n'), err: err.join('\n'), fake };
}

describe('runCli', () => {
  it('prints JSON for each command and closes the client', async () => {
    for (const [command, key] of [
      ['status', 'node'],
      ['nodes', 'nodes'],
      ['models', 'models'],
      ['doctor', 'checks'],
    ] as const) {
      const result = await run(['--socket', '/tmp/x.sock', command, '--json']);
      expect(Object.keys(JSON.parse(result.out))).toContain(key);
      expect(result.fake.closed).toBe(1);
      expect(result.fake.sockets).toEqual(['/tmp/x.sock']);
    }
  });

  it('defaults the socket to <dataDir>/control.sock from the config', async () => {
    const result = await run(['nodes']);
    expect(result.code).toBe(0);
    expect(result.fake.sockets).toEqual([join(home, 'state', 'swarmd', 'control.sock')]);
    expect(result.out).toContain('atlas *');
  });

  it('honours SWARMD_CONTROL__SOCKET from the environment', async () => {
    const result = await run(['status'], fakeClient(), { ...env, SWARMD_CONTROL__SOCKET: '/run/other.sock' });
    expect(result.fake.sockets).toEqual(['/run/other.sock']);
  });

  it('exits 1 when a doctor check fails, 0 when none does', async () => {
    expect((await run(['doctor'])).code).toBe(1);
    const clean = fakeClient({ doctor: async () => ({ checks: doctorReply.checks.slice(0, 2) }) });
    expect((await run(['doctor'], clean)).code).toBe(0);
  });

  it('exits 3 with the message on stderr and an error object with --json when unreachable', async () => {
    const down = fakeClient({
      listNodes: async () => {
        throw new SwarmError(ErrorCodes.CONTROL_UNREACHABLE, 'cannot reach swarmd: no control socket at /x');
      },
    });
    const result = await run(['--json', 'nodes'], down);
    expect(result.code).toBe(3);
    expect(result.err).toBe('swarmctl: cannot reach swarmd: no control socket at /x');
    expect(JSON.parse(result.out)).toEqual({
      error: {
        code: 'SWARM_ERR_CONTROL_UNREACHABLE',
        message: 'cannot reach swarmd: no control socket at /x',
      },
    });
    expect(down.closed).toBe(1);
  });

  it('exits 2 with the config message when the config cannot be loaded', async () => {
    const bad = join(home, 'bad.yaml');
    writeFileSync(bad, 'peer:\n  port: "not a port"\n');
    const fake = fakeClient();
    const result = await run(['nodes', '--json'], fake, { ...env, SWARMD_CONFIG: bad });
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^swarmctl: .*peer\.port/);
    expect(JSON.parse(result.out).error.code).toBe('SWARM_ERR_CONFIG_INVALID');
    expect(fake.sockets).toEqual([]);
  });

  it('does not need the config when --socket is given', async () => {
    const bad = join(home, 'bad2.yaml');
    writeFileSync(bad, 'nonsense: [');
    const result = await run(['--socket', '/s', 'nodes'], fakeClient(), { ...env, SWARMD_CONFIG: bad });
    expect(result.code).toBe(0);
  });

  it('exits 2 on an unknown command, naming it', async () => {
    const result = await run(['nodse']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^swarmctl: unknown command 'nodse'/);
    expect(result.err).toContain('Did you mean nodes?');
    expect(result.fake.sockets).toEqual([]);
  });

  it('prints an ARGS_INVALID error object for usage errors with --json', async () => {
    const result = await run(['--json', 'nodes', 'extra']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.out).error.code).toBe('SWARM_ERR_ARGS_INVALID');
  });

  it('lists every command with its description in --help and exits 0', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    for (const spec of [...COMMANDS, ...LOCAL_COMMANDS])
      expect(result.out).toMatch(new RegExp(`^  ${spec.name}\\b.*\\s${spec.summary.slice(0, 20)}`, 'm'));
    expect(result.out).toContain('--socket <path>');
    expect(result.out).toContain('--data-dir <dir>');
    expect(result.out).toContain('--json');
  });

  it('shows usage on stderr and exits 2 with no command', async () => {
    const result = await run([]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('Usage: swarmctl');
  });

  it('reports an unexpected failure with exit 1 and a null code', async () => {
    const broken = fakeClient({
      status: async () => {
        throw new TypeError('boom');
      },
    });
    const result = await run(['status', '--json'], broken);
    expect(result.code).toBe(1);
    expect(result.err).toBe('swarmctl: unexpected error: boom');
    expect(JSON.parse(result.out)).toEqual({ error: { code: null, message: 'unexpected error: boom' } });
  });
});

describe('exitCodeFor', () => {
  it('maps error codes to exit codes', () => {
    expect(exitCodeFor(new SwarmError(ErrorCodes.CONTROL_UNREACHABLE, 'x'))).toBe(3);
    expect(exitCodeFor(new SwarmError(ErrorCodes.GATEWAY_UNREACHABLE, 'x'))).toBe(3);
    expect(exitCodeFor(new ConfigError('x'))).toBe(2);
    expect(exitCodeFor(new SwarmError(ErrorCodes.NOT_IMPLEMENTED, 'x'))).toBe(1);
    expect(exitCodeFor(new Error('x'))).toBe(1);
  });
});

describe('swarmctl pause, resume and drain', () => {
  it('sends the grace in ms and --unload, and prints the stable --json shape', async () => {
    const fake = fakeClient();
    const result = await run(['--json', 'pause', '--grace', '1.5s', '--unload'], fake);
    expect(result.code).toBe(0);
    expect(fake.pauses).toEqual([{ graceMs: 1500, defaultGrace: false, wait: false, unload: true }]);
    expect(JSON.parse(result.out)).toEqual({
      activity: 'paused',
      reason: 'manual',
      inflight: 1,
      drained: false,
      handedBack: 0,
      unload: [
        {
          backend: 'ollama@127.0.0.1:11434',
          kind: 'ollama',
          outcome: 'unloaded',
          models: ['qwen3:8b'],
          detail: null,
        },
        {
          backend: 'vllm@127.0.0.1:8000',
          kind: 'vllm',
          outcome: 'unsupported',
          models: [],
          detail: 'vLLM keeps its model loaded',
        },
      ],
    });
  });

  it('leaves the grace to the daemon without --grace, and says which backend could not unload', async () => {
    const fake = fakeClient();
    const result = await run(['pause', '--unload'], fake);
    expect(fake.pauses[0]).toMatchObject({ defaultGrace: true, unload: true });
    expect(result.out).toContain('paused (manual)');
    expect(result.out).toContain('unloaded qwen3:8b');
    expect(result.out).toMatch(/vllm@127\.0\.0\.1:8000: cannot unload: vLLM keeps its model loaded/);
  });

  it('refuses a --grace that is not a duration with exit 2 and ARGS_INVALID, asking nothing', async () => {
    const fake = fakeClient();
    const result = await run(['--json', 'pause', '--grace', 'soon'], fake);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.out).error.code).toBe(ErrorCodes.ARGS_INVALID);
    expect(result.err).toContain('"soon"');
    expect(fake.pauses).toEqual([]);
    expect((await run(['drain', '--grace', '-1s'], fake)).code).toBe(2);
  });

  it('resume says the node takes work again', async () => {
    const result = await run(['resume']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('resumed');
  });
});
