// swarmctl init / join / token (on the data dir, no daemon) and remove / rotate (through a fake
// control client), run in-process through runCli.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ControlClient } from '../../../src/cli/control-client.js';
import { exitCodeFor, runCli } from '../../../src/cli/program.js';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { loadOrCreateNodeId } from '../../../src/node/identity.js';
import type { RekeyReport } from '../../../src/rpc/wire.js';
import { loadCredentials } from '../../../src/security/store.js';
import { noJobs } from '../../helpers/no-jobs.js';
import { listNodesReply, removeReport, rotateReport } from './fixtures.js';

const home = mkdtempSync(join(tmpdir(), 'swarmctl-membership-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const env = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state') };
const TOKEN_RE = /^swarmd1_[A-Za-z0-9_-]+$/;
let dirs = 0;
const freshDir = () => join(home, `data-${++dirs}`);

interface Calls {
  removed: string[];
  rotated: number;
  sockets: string[];
}

function fakeClient(calls: Calls, overrides: Partial<ControlClient> = {}): ControlClient {
  const unused = async (): Promise<never> => {
    throw new Error('not used');
  };
  return {
    socketPath: '',
    ...noJobs,
    status: unused,
    listModels: unused,
    doctor: unused,
    listNodes: async () => listNodesReply,
    removeNode: async (node) => {
      calls.removed.push(node);
      return removeReport;
    },
    rotate: async () => {
      calls.rotated++;
      return rotateReport;
    },
    usage: unused,
    usageRows: () => {
      throw new Error('not used');
    },
    pause: unused,
    resume: unused,
    drain: unused,
    close: () => {},
    ...overrides,
  };
}

async function run(
  argv: string[],
  options: { stdin?: string; client?: Partial<ControlClient>; env?: NodeJS.ProcessEnv } = {},
) {
  const out: string[] = [];
  const err: string[] = [];
  const calls: Calls = { removed: [], rotated: 0, sockets: [] };
  const code = await runCli(
    argv,
    { out: (s) => out.push(s), err: (s) => err.push(s) },
    {
      env: options.env ?? env,
      connect: (socket) => {
        calls.sockets.push(socket);
        return fakeClient(calls, options.client);
      },
      readStdin: async () => {
        if (options.stdin === undefined) throw new Error('stdin read unexpectedly');
        return options.stdin;
      },
    },
  );
  return { code, out: out.join('\n'), err: err.join('\n'), calls };
}

describe('swarmctl init / join / token without a daemon', () => {
  it('init prints the token alone on stdout, a hint on stderr, and writes 0600 credentials', async () => {
    const dir = freshDir();
    const result = await run(['--data-dir', dir, 'init']);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(TOKEN_RE);
    const creds = await loadCredentials(dir, await loadOrCreateNodeId(dir));
    // Named by its swarm id first, as `swarmctl nodes` and doctor name it.
    expect(result.err).toMatch(
      new RegExp(
        `^swarm ${creds?.swarmId} \\(epoch 1, fingerprint ${creds?.fingerprint}\\) created in `,
        'm',
      ),
    );
    expect(result.err).toContain('swarmctl join <token>');
    expect(result.err).not.toContain(result.out);
    expect(statSync(join(dir, 'swarm', 'credentials.json')).mode & 0o777).toBe(0o600);
    const token = await run(['--data-dir', dir, 'token']);
    expect(token).toMatchObject({ code: 0, out: result.out, err: '' });
  });

  it('defaults the data dir to node.dataDir from the config (XDG_STATE_HOME here)', async () => {
    const result = await run(['init', '--json']);
    expect(result.code, result.err).toBe(0);
    const dataDir = join(home, 'state', 'swarmd');
    const nodeId = await loadOrCreateNodeId(dataDir);
    const creds = await loadCredentials(dataDir, nodeId);
    expect(JSON.parse(result.out)).toStrictEqual({
      token: expect.stringMatching(TOKEN_RE),
      swarm: creds?.swarmId,
      fingerprint: creds?.fingerprint,
      epoch: 1,
    });
    // SWARMD_NODE__DATA_DIR moves it, like it moves swarmd's.
    const elsewhere = freshDir();
    const moved = await run(['token'], { env: { ...env, SWARMD_NODE__DATA_DIR: elsewhere } });
    expect(moved.code).toBe(2);
    expect(moved.err).toContain(elsewhere);
  });

  it('join makes a second data dir a member of the same swarm; the token may come from stdin', async () => {
    const first = freshDir();
    const token = (await run(['--data-dir', first, 'init'])).out;
    const second = freshDir();
    const joined = await run(['--data-dir', second, 'join', token]);
    expect(joined.code, joined.err).toBe(0);
    expect(joined.out).toMatch(/^joined swarm [0-9a-f]{16} \(epoch 1, fingerprint [0-9a-f]{8}\)$/m);
    expect(joined.out).toContain('picks this up by itself');
    const a = await loadCredentials(first, await loadOrCreateNodeId(first));
    const b = await loadCredentials(second, await loadOrCreateNodeId(second));
    expect(b?.swarmId).toBe(a?.swarmId);
    expect(b?.nodeId).not.toBe(a?.nodeId);

    const third = freshDir();
    const piped = await run(['--data-dir', third, 'join', '-', '--json'], { stdin: `${token}\n` });
    expect(piped.code, piped.err).toBe(0);
    expect(JSON.parse(piped.out)).toStrictEqual({ swarm: a?.swarmId, fingerprint: a?.fingerprint, epoch: 1 });

    const again = await run(['--data-dir', third, 'join', token]);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/^already a member of swarm .*: nothing to change$/);
  });

  it('join refuses garbage with exit 2 and writes nothing', async () => {
    const dir = freshDir();
    const result = await run(['--data-dir', dir, '--json', 'join', 'garbage']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^swarmctl: join token does not start with "swarmd1_"/);
    expect(JSON.parse(result.out).error.code).toBe('SWARM_ERR_SECURITY_TOKEN_INVALID');
    expect(() => statSync(dir)).toThrow();
    const empty = await run(['--data-dir', dir, 'join', '-'], { stdin: '\n' });
    expect(empty.code).toBe(2);
    expect(empty.err).toContain('join token is empty');
  });

  it('init twice is refused (exit 2, already a member) unless --force, which starts another swarm', async () => {
    const dir = freshDir();
    const first = await run(['--data-dir', dir, 'init', '--json']);
    const twice = await run(['--data-dir', dir, 'init', '--json']);
    expect(twice.code).toBe(2);
    expect(JSON.parse(twice.out).error.code).toBe('SWARM_ERR_SECURITY_ALREADY_MEMBER');
    expect((await run(['--data-dir', dir, 'token'])).out).toBe(JSON.parse(first.out).token);

    const forced = await run(['--data-dir', dir, 'init', '--force']);
    expect(forced.code, forced.err).toBe(0);
    expect(forced.err).toMatch(/^left swarm /m);
    expect(forced.out).not.toBe(JSON.parse(first.out).token);
  });

  it('join of another swarm needs --force', async () => {
    const a = freshDir();
    const b = freshDir();
    await run(['--data-dir', a, 'init']);
    const tokenB = (await run(['--data-dir', b, 'init'])).out;
    const refused = await run(['--data-dir', a, 'join', tokenB]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('already in swarm');
    const forced = await run(['--data-dir', a, 'join', '--force', tokenB]);
    expect(forced.code, forced.err).toBe(0);
    expect(forced.out).toMatch(/^left swarm .*\njoined swarm /);
    expect((await run(['--data-dir', a, 'token'])).out).toBe(tokenB);
  });

  it('token on an unpaired box exits 2 and says how to pair', async () => {
    const result = await run(['--data-dir', freshDir(), 'token']);
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err).toContain('swarmctl init');
  });

  it('join without a token is a usage error', async () => {
    const result = await run(['--data-dir', freshDir(), 'join']);
    expect(result.code).toBe(2);
    expect(result.err).toContain("missing required argument 'token'");
  });

  it('never dials the daemon', async () => {
    const dir = freshDir();
    const results = [
      await run(['--data-dir', dir, 'init']),
      await run(['--data-dir', dir, 'token']),
      await run(['--data-dir', freshDir(), 'join', '-'], {
        stdin: (await run(['--data-dir', dir, 'token'])).out,
      }),
    ];
    for (const result of results) {
      expect(result.code).toBe(0);
      expect(result.calls.sockets).toEqual([]);
    }
  });
});

describe('swarmctl remove / rotate', () => {
  it('remove passes the node, prints the report with names and exits 1 when a member missed it', async () => {
    const result = await run(['--socket', '/s', 'remove', 'boreas']);
    expect(result.calls.removed).toEqual(['boreas']);
    expect(result.code).toBe(1);
    expect(result.out).toContain('Removed boreas (n-boreas) from the swarm for good');
    expect(result.out).toContain('epoch 4, fingerprint c0ffee12');
    expect(result.out).toContain('Took the new credentials: atlas (n-atlas)');
    expect(result.out).toContain('cronos (n-cronos): on it run `swarmctl join <token>`');
    expect(result.out).toContain('`swarmctl token`');
  });

  it('remove --json prints the RekeyJson', async () => {
    const result = await run(['--socket', '/s', 'remove', 'n-boreas', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.out)).toStrictEqual({
      epoch: 4,
      fingerprint: 'c0ffee12',
      delivered: ['n-atlas'],
      missed: ['n-cronos'],
      removed: 'n-boreas',
    });
  });

  it('rotate exits 0 when every member took the new credentials', async () => {
    const result = await run(['--socket', '/s', 'rotate']);
    expect(result.calls.rotated).toBe(1);
    expect(result.code).toBe(0);
    expect(result.out).toBe(
      'Rotated the swarm credentials: epoch 5, fingerprint abad1dea.\nTook the new credentials: atlas (n-atlas), boreas (n-boreas)',
    );
    const json = await run(['--socket', '/s', 'rotate', '--json']);
    expect(JSON.parse(json.out).removed).toBeNull();
  });

  it('still reports when the names cannot be read', async () => {
    const missed: RekeyReport = { ...rotateReport, missed: ['n-cronos'] };
    const result = await run(['--socket', '/s', 'rotate'], {
      client: {
        listNodes: async () => {
          throw new Error('boom');
        },
        rotate: async () => missed,
      },
    });
    expect(result.code).toBe(1);
    expect(result.out).toContain('n-cronos: on it run `swarmctl join <token>`');
  });

  it('remove needs a node; a blank one is a usage error', async () => {
    expect((await run(['--socket', '/s', 'remove'])).code).toBe(2);
    const blank = await run(['--socket', '/s', 'remove', ' ']);
    expect(blank.code).toBe(2);
    expect(blank.calls.removed).toEqual([]);
  });

  it('--data-dir also picks the default socket', async () => {
    const dir = freshDir();
    const result = await run(['--data-dir', dir, 'rotate']);
    expect(result.calls.sockets).toEqual([join(dir, 'control.sock')]);
  });

  it('a daemon refusal exits 1 with its reason', async () => {
    const result = await run(['--socket', '/s', 'remove', 'nobody'], {
      client: {
        removeNode: async () => {
          throw new SwarmError(ErrorCodes.CONTROL_FAILED, 'swarmd refused RemoveNode: no node nobody');
        },
      },
    });
    expect(result.code).toBe(1);
    expect(result.err).toBe('swarmctl: swarmd refused RemoveNode: no node nobody');
  });
});

describe('exitCodeFor membership errors', () => {
  it('maps token and membership problems to 2', () => {
    for (const code of [
      ErrorCodes.NODE_NOT_FOUND,
      ErrorCodes.SECURITY_TOKEN_INVALID,
      ErrorCodes.SECURITY_TOKEN_STALE,
      ErrorCodes.SECURITY_UNPAIRED,
      ErrorCodes.SECURITY_ALREADY_MEMBER,
      ErrorCodes.SECURITY_CREDENTIALS_CORRUPT,
    ]) {
      expect(exitCodeFor(new SwarmError(code, 'x'))).toBe(2);
    }
    expect(exitCodeFor(new SwarmError(ErrorCodes.CONTROL_FAILED, 'x'))).toBe(1);
  });
});
