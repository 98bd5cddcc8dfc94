// `swarmctl usage` and `swarmctl chat` through runCli with a fake control client: the requests
// they make, how they print, and their argument errors.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ControlClient } from '../../../src/cli/control-client.js';
import { runCli } from '../../../src/cli/program.js';
import type { UsageRequest, UsageRowsRequest } from '../../../src/rpc/wire.js';
import { usageJson, usageRowJsonl } from '../../../src/usage/render.js';
import { summarize } from '../../../src/usage/summary.js';
import { noJobs } from '../../helpers/no-jobs.js';
import { usageRow } from '../usage/fixtures.js';
import { statusReply } from './fixtures.js';

const home = mkdtempSync(join(tmpdir(), 'swarmctl-usage-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const env = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state') };

const rows = [usageRow({ model: 'a:1b' }), usageRow({ model: 'b:8b' }), usageRow({ model: 'a:1b' })];
const window = { since: rows[0]!.ts - 1000, until: rows[0]!.ts + 1000 };

async function* lines(items: string[]): AsyncGenerator<string> {
  yield* items;
}

function fakeClient(
  seen: { usage: UsageRequest[]; rows: UsageRowsRequest[] },
  gatewayUrl = '',
): ControlClient {
  const unused = async (): Promise<never> => {
    throw new Error('not used');
  };
  return {
    socketPath: '/fake.sock',
    ...noJobs,
    status: async () => ({ ...statusReply, gatewayUrl }),
    listNodes: unused,
    listModels: unused,
    doctor: unused,
    removeNode: unused,
    rotate: unused,
    usage: async (request) => {
      seen.usage.push(request);
      const by = request.by === '' ? null : (request.by as 'model');
      return { json: JSON.stringify(usageJson(summarize(rows, { ...window, by }))) };
    },
    usageRows: (request) => {
      seen.rows.push(request);
      return lines(rows.map(usageRowJsonl));
    },
    pause: notUsed,
    resume: notUsed,
    drain: notUsed,
    close: () => {},
  };
}

async function run(argv: string[], gatewayUrl = '') {
  const seen = { usage: [] as UsageRequest[], rows: [] as UsageRowsRequest[] };
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    ['--socket', '/fake.sock', ...argv],
    { out: (s) => out.push(s), err: (s) => err.push(s) },
    { env, connect: () => fakeClient(seen, gatewayUrl) },
  );
  return { code, out: out.join('\n'), err: err.join('\n'), seen };
}

describe('swarmctl usage', () => {
  it('asks for the last 24 hours, ungrouped, of this node by default and prints the totals', async () => {
    const before = Date.now();
    const result = await run(['usage']);
    expect(result.code).toBe(0);
    const [request] = result.seen.usage;
    expect(request!.by).toBe('');
    expect(request!.swarm).toBe(false);
    expect(before - 24 * 3_600_000 - request!.sinceMs).toBeLessThanOrEqual(0);
    expect(Date.now() - 24 * 3_600_000 - request!.sinceMs).toBeGreaterThanOrEqual(0);
    expect(result.out).toMatch(/^requests\s+3 \(0 failed\)$/m);
  });

  it('passes --since, --by and --swarm and prints the documented JSON', async () => {
    const result = await run(['usage', '--since', '7d', '--by', 'model', '--swarm', '--json']);
    expect(result.code).toBe(0);
    expect(result.seen.usage[0]).toMatchObject({ by: 'model', swarm: true });
    expect(Date.now() - result.seen.usage[0]!.sinceMs).toBeGreaterThanOrEqual(7 * 86_400_000);
    const json = JSON.parse(result.out);
    expect(json.totals.requests).toBe(3);
    expect(json.groups.map((g: { key: string; requests: number }) => [g.key, g.requests])).toEqual([
      ['a:1b', 2],
      ['b:8b', 1],
    ]);
  });

  it('prints each row as one JSON line with --jsonl', async () => {
    const result = await run(['usage', '--jsonl', '--since', '2025-01-01']);
    expect(result.code).toBe(0);
    expect(result.seen.rows).toHaveLength(1);
    expect(result.seen.rows[0]!.sinceMs).toBe(new Date(2025, 0, 1).getTime());
    const printed = result.out.split('\n');
    expect(printed).toHaveLength(3);
    expect(printed.map((line) => JSON.parse(line).requestId)).toEqual(rows.map((row) => row.requestId));
  });

  it('refuses a bad --since, a bad --by and --jsonl with --swarm, exit 2', async () => {
    for (const argv of [
      ['usage', '--since', 'last tuesday'],
      ['usage', '--by', 'colour'],
      ['usage', '--jsonl', '--swarm'],
    ]) {
      const result = await run(argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.err).toMatch(/^swarmctl: (--since|--by|--jsonl)/);
      expect(result.seen.usage).toEqual([]);
    }
  });

  it('says so when the daemon sends a summary it cannot read', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const client = fakeClient({ usage: [], rows: [] });
    client.usage = async () => ({ json: '{"since": "yesterday"}' });
    const code = await runCli(
      ['--socket', '/fake.sock', 'usage'],
      { out: (s) => out.push(s), err: (s) => err.push(s) },
      { env, connect: () => client },
    );
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('since: expected a number');
  });
});

describe('swarmctl chat (without a gateway)', () => {
  it('refuses an empty prompt and an unknown privacy level, exit 2', async () => {
    expect((await run(['chat', '  '], 'http://127.0.0.1:1/v1')).code).toBe(2);
    const result = await run(['chat', 'hi', '--privacy', 'secret'], 'http://127.0.0.1:1/v1');
    expect(result.code).toBe(2);
    expect(result.err).toBe('swarmctl: --privacy: got "secret"; expected one of local, lan, cloud');
  });

  it('exits 3 when the daemon names no gateway', async () => {
    const result = await run(['chat', 'hi']);
    expect(result.code).toBe(3);
    expect(result.err).toMatch(/does not say where its gateway listens/);
  });

  it('exits 3 naming the URL when nothing listens there', async () => {
    // A port that was free a moment ago: connection refused.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const url = `http://127.0.0.1:${port}/v1`;
    const result = await run(['--json', 'chat', 'hi'], url);
    expect(result.code).toBe(3);
    expect(result.err).toContain(`cannot reach swarmd's gateway at ${url}`);
    expect(JSON.parse(result.out).error.code).toBe('SWARM_ERR_GATEWAY_UNREACHABLE');
  });
});

function notUsed(): never {
  throw new Error('not used');
}
