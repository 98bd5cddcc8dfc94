// The usage RPC handlers (src/control/usage.ts) over a real ledger file, with members faked at
// the PeerClientPool boundary: who is asked, who is left out and why, and what a peer may ask.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageService } from '../../../src/control/usage.js';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import type { PeerRecord } from '../../../src/membership/peer-record.js';
import type { UsageSummaryRequest, UsageSummaryResponse } from '../../../src/rpc/wire.js';
import { UsageLedger } from '../../../src/usage/ledger.js';
import { usageJson } from '../../../src/usage/render.js';
import { summarize, type UsageSummary } from '../../../src/usage/summary.js';
import { parseUsageJson } from '../../../src/usage/summary-json.js';
import { createLogger } from '../../../src/util/logger.js';
import { usageRow } from '../../unit/usage/fixtures.js';

const NOW = Date.UTC(2025, 0, 15, 13);
const SINCE = NOW - 3_600_000;
const rows = [usageRow({ model: 'a:1b' }), usageRow({ model: 'b:8b' })];

let dir: string;
let ledger: UsageLedger;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'swarmd-usage-rpc-'));
  ledger = UsageLedger.open(join(dir, 'usage.sqlite'), { now: () => NOW });
  for (const row of rows) ledger.record(row);
});
afterEach(() => {
  ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

function peer(id: string, name: string, liveness: 'alive' | 'dead' = 'alive'): PeerRecord {
  return {
    id,
    info: { name } as PeerRecord['info'],
    address: liveness === 'alive' ? `127.0.0.1:${id.length}` : null,
    live: { liveness } as PeerRecord['live'],
  } as PeerRecord;
}

type Ask = (request: UsageSummaryRequest, expectedId: string) => Promise<UsageSummaryResponse>;

function service(options: { reachable?: PeerRecord[]; known?: PeerRecord[]; ask?: Ask; off?: boolean } = {}) {
  const asked: UsageSummaryRequest[] = [];
  const usage = new UsageService(
    {
      logger: createLogger('silent'),
      ledger: () => (options.off ? null : ledger),
      self: { id: 'node-a', name: 'alpha' },
      membership: {
        reachableMembers: () => options.reachable ?? [],
        knownMembers: () => options.known ?? options.reachable ?? [],
      },
      pool: {
        usageSummary: (_endpoint, request, _timeoutMs, expectedId) => {
          asked.push(request);
          return options.ask ? options.ask(request, expectedId) : Promise.reject(new Error('no peers'));
        },
      },
      authorize: (_call, claimedId) => {
        if (claimedId !== 'node-b') {
          throw new SwarmError(ErrorCodes.SECURITY_PEER_REFUSED, `the caller is not ${claimedId}`);
        }
      },
      now: () => NOW,
    },
    { enabled: !options.off, peerTimeoutMs: 200 },
  );
  return { usage, asked };
}

const call = {} as grpc.ServerUnaryCall<unknown, unknown>;

async function summaryOf(usage: UsageService, by: string, swarm: boolean): Promise<UsageSummary> {
  return parseUsageJson((await usage.summary({ sinceMs: SINCE, by, swarm })).json);
}

describe('UsageService', () => {
  it("answers Usage from this node's ledger over [since, now)", async () => {
    const summary = await summaryOf(service().usage, 'model', false);
    expect(summary).toMatchObject({ since: SINCE, until: NOW, by: 'model' });
    expect(summary.totals.requests).toBe(2);
    expect(summary.groups.map((g) => g.key).sort()).toEqual(['a:1b', 'b:8b']);
  });

  it('streams every row as one JSON line', () => {
    const lines = [...service().usage.rows({ sinceMs: SINCE })].map((m) => JSON.parse(m.jsonl));
    expect(lines.map((row) => row.requestId)).toEqual(rows.map((row) => row.requestId));
  });

  it('refuses a bad grouping or window, and says when usage is off', async () => {
    const { usage } = service();
    await expect(usage.summary({ sinceMs: SINCE, by: 'colour', swarm: false })).rejects.toMatchObject({
      code: ErrorCodes.ARGS_INVALID,
    });
    await expect(usage.summary({ sinceMs: Number.NaN, by: '', swarm: false })).rejects.toMatchObject({
      code: ErrorCodes.ARGS_INVALID,
    });
    const off = service({ off: true }).usage;
    await expect(off.summary({ sinceMs: SINCE, by: '', swarm: false })).rejects.toThrow(
      /usage\.enabled is false/,
    );
    expect(() => [...off.rows({ sinceMs: SINCE })]).toThrow(/usage\.enabled is false/);
  });

  it('adds up every member that answers and lists those that do not, with why', async () => {
    const bravo = summarize([usageRow({ model: 'a:1b', nodeId: 'node-b', nodeName: 'bravo' })], {
      since: SINCE,
      until: NOW,
      by: 'model',
    });
    const { usage, asked } = service({
      reachable: [peer('node-b', 'bravo'), peer('node-c', 'charlie')],
      known: [peer('node-b', 'bravo'), peer('node-c', 'charlie'), peer('node-d', 'delta', 'dead')],
      ask: async (_request, expectedId) => {
        if (expectedId === 'node-b') return { json: JSON.stringify(usageJson(bravo)) };
        throw Object.assign(new Error('deadline'), { code: 4, details: 'Deadline exceeded' });
      },
    });
    const summary = await summaryOf(usage, 'model', true);
    expect(asked).toEqual([
      { sinceMs: SINCE, untilMs: NOW, by: 'model', fromNodeId: 'node-a' },
      { sinceMs: SINCE, untilMs: NOW, by: 'model', fromNodeId: 'node-a' },
    ]);
    expect(summary.totals.requests).toBe(3);
    expect(summary.groups.map((g) => [g.key, g.requests])).toEqual([
      ['a:1b', 2],
      ['b:8b', 1],
    ]);
    expect(summary.nodes!.map((n) => [n.nodeName, n.ok, n.error])).toEqual([
      ['alpha', true, null],
      ['bravo', true, null],
      ['charlie', false, 'Deadline exceeded'],
      ['delta', false, 'not asked: dead'],
    ]);
  });

  it('leaves out a member whose answer is not a usage summary, or for another window', async () => {
    let answer = '{"since": 1}';
    const { usage } = service({ reachable: [peer('node-b', 'bravo')], ask: async () => ({ json: answer }) });
    let summary = await summaryOf(usage, '', true);
    expect(summary.nodes![1]).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^sent an invalid summary: until/),
    });
    answer = JSON.stringify(usageJson(summarize([], { since: SINCE - 1, until: NOW, by: null })));
    summary = await summaryOf(usage, '', true);
    expect(summary.nodes![1]).toMatchObject({ ok: false, error: 'answered for another time window' });
    expect(summary.totals.requests).toBe(2);
  });

  it('answers a member for exactly its window, and nobody who is not the member it claims', () => {
    const { usage } = service();
    const reply = usage.answerPeer({ sinceMs: SINCE, untilMs: NOW, by: 'model', fromNodeId: 'node-b' }, call);
    expect(parseUsageJson(reply.json)).toMatchObject({ since: SINCE, until: NOW, by: 'model' });
    expect(() =>
      usage.answerPeer({ sinceMs: SINCE, untilMs: NOW, by: '', fromNodeId: 'node-x' }, call),
    ).toThrow(/not node-x/);
    expect(() =>
      usage.answerPeer({ sinceMs: SINCE, untilMs: SINCE - 1, by: '', fromNodeId: 'node-b' }, call),
    ).toThrow(/until_ms/);
  });
});
