import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { ledgerPath, ROWS_PAGE_SIZE, UsageLedger, WRITE_DELAY_MS } from '../../../src/usage/ledger.js';
import { LEDGER_SCHEMA_VERSION, MIGRATIONS, SCHEMA_VERSION_SQL } from '../../../src/usage/migrations.js';
import type { UsageRow } from '../../../src/usage/row.js';
import { summarize, type UsageCounts } from '../../../src/usage/summary.js';
import { thrown } from '../../helpers/expect-error.js';
import { cloudRow, usageRow } from '../../unit/usage/fixtures.js';

const T0 = Date.UTC(2025, 0, 15, 12);
const HOUR = 3_600_000;

let dir: string;
let path: string;
const open: UsageLedger[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'swarmd-usage-'));
  path = join(dir, 'state', 'usage.sqlite');
});
afterEach(() => {
  for (const ledger of open.splice(0)) ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

function openLedger(options: Parameters<typeof UsageLedger.open>[1] = {}): UsageLedger {
  const ledger = UsageLedger.open(path, { now: () => T0 + HOUR, ...options });
  open.push(ledger);
  return ledger;
}

const openError = (file: string) => thrown(() => open.push(UsageLedger.open(file)), SwarmError);

const sample: UsageRow[] = [
  usageRow({ ts: T0 - 2 * HOUR, nodeId: 'n1', nodeName: 'gamer', model: 'qwen2.5-coder:7b', tier: 'fast' }),
  usageRow({
    ts: T0 - HOUR,
    nodeId: 'n1',
    nodeName: 'gamer',
    model: 'qwen2.5-coder:32b',
    tier: 'deep',
    firstTokenMs: null,
  }),
  usageRow({
    ts: T0,
    nodeId: 'n2',
    nodeName: 'homelab',
    model: 'qwen2.5-coder:7b',
    tier: null,
    referenceCostUsd: null,
  }),
  cloudRow(0.75, { ts: T0, nodeId: 'n1', nodeName: 'gamer', client: 'laptop' }),
  usageRow({
    ts: T0,
    nodeId: 'n2',
    nodeName: 'homelab',
    outcome: 'error',
    errorCode: 'SWARM_ERR_PEER_UNREACHABLE',
  }),
];

const COUNT_FIELDS: (keyof UsageCounts)[] = [
  'requests',
  'errors',
  'cancelled',
  'localRequests',
  'cloudRequests',
  'promptTokens',
  'completionTokens',
  'localTokens',
  'firstTokenSamples',
];

/** The SQL summary must match the in-memory one (money and sums to float precision). */
function expectSameCounts(actual: UsageCounts, expected: UsageCounts) {
  for (const field of COUNT_FIELDS) expect(actual[field], field).toBe(expected[field]);
  for (const field of ['costUsd', 'latencyMsSum', 'firstTokenMsSum'] as const) {
    expect(actual[field], field).toBeCloseTo(expected[field], 9);
  }
  for (const field of ['referenceCostUsd', 'savingsUsd'] as const) {
    if (expected[field] === null) expect(actual[field], field).toBeNull();
    else expect(actual[field], field).toBeCloseTo(expected[field]!, 9);
  }
}

describe('UsageLedger', () => {
  it('creates its directory 0700 and file 0600 in WAL mode at the latest schema', () => {
    openLedger();
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM schema_version').pluck().get()).toBe(LEDGER_SCHEMA_VERSION);
    db.close();
  });

  it('writes recorded rows together, WRITE_DELAY_MS after the first', async () => {
    const ledger = openLedger();
    ledger.record(usageRow({ ts: T0 }));
    const db = new Database(path, { readonly: true });
    const count = db.prepare('SELECT count(*) FROM usage').pluck();
    expect(count.get()).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    ledger.record(usageRow({ ts: T0 + 1 }));
    expect(count.get()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, WRITE_DELAY_MS + 20));
    expect(count.get()).toBe(2);
    db.close();
  });

  it('answers totals and groups by model, node and tier that match its rows', () => {
    const ledger = openLedger();
    for (const row of sample) ledger.record(row);
    const since = T0 - 3 * HOUR;
    const total = ledger.query({ sinceMs: since });
    expect(total.by).toBeNull();
    expect(total.until).toBe(T0 + HOUR);
    expect(total.groups).toEqual([]);
    expectSameCounts(total.totals, summarize(sample, { since, until: T0 + HOUR, by: null }).totals);
    expect(total.totals).toMatchObject({
      requests: 5,
      errors: 1,
      cloudRequests: 1,
      localShareByRequests: 0.8,
    });

    const byModel = ledger.query({ sinceMs: since, by: 'model' });
    expect(byModel.groups.map((g) => [g.key, g.requests])).toEqual([
      ['qwen2.5-coder:7b', 3],
      ['gpt-4o-mini', 1],
      ['qwen2.5-coder:32b', 1],
    ]);

    const byNode = ledger.query({ sinceMs: since, by: 'node' });
    expect(byNode.groups.map((g) => [g.key, g.label, g.requests])).toEqual([
      ['n1', 'gamer', 3],
      ['n2', 'homelab', 2],
    ]);
    const gamer = byNode.groups[0]!;
    expectSameCounts(
      gamer,
      summarize(
        sample.filter((r) => r.nodeId === 'n1'),
        { since, until: T0 + HOUR, by: null },
      ).totals,
    );

    const byTier = ledger.query({ sinceMs: since, by: 'tier' });
    expect(byTier.groups.find((g) => g.key === null)?.label).toBe('-');
    expect(byTier.groups.map((g) => g.key).sort()).toEqual(['cloud', 'deep', 'fast', null].sort());
    expect(ledger.query({ sinceMs: since, by: 'client' }).groups.map((g) => g.key)).toEqual([
      'local',
      'laptop',
    ]);
  });

  it('counts failed and cancelled requests apart, and groups by error code', () => {
    const ledger = openLedger();
    const rows = [
      ...sample,
      usageRow({ ts: T0, outcome: 'error', errorCode: 'SWARM_ERR_QUEUE_FULL' }),
      usageRow({ ts: T0, outcome: 'cancelled', errorCode: 'SWARM_ERR_REQUEST_CANCELLED' }),
    ];
    for (const row of rows) ledger.record(row);
    const since = T0 - 3 * HOUR;
    const window = { since, until: T0 + HOUR };
    const total = ledger.query({ sinceMs: since });
    expect(total.totals).toMatchObject({ requests: 7, errors: 2, cancelled: 1 });
    expectSameCounts(total.totals, summarize(rows, { ...window, by: null }).totals);
    const byError = ledger.query({ sinceMs: since, by: 'error' });
    expect(byError.groups.map((g) => [g.key, g.label, g.requests, g.errors, g.cancelled])).toEqual([
      [null, '-', 4, 0, 0],
      ['SWARM_ERR_PEER_UNREACHABLE', 'SWARM_ERR_PEER_UNREACHABLE', 1, 1, 0],
      ['SWARM_ERR_QUEUE_FULL', 'SWARM_ERR_QUEUE_FULL', 1, 1, 0],
      ['SWARM_ERR_REQUEST_CANCELLED', 'SWARM_ERR_REQUEST_CANCELLED', 1, 0, 1],
    ]);
    expect([...ledger.rows({ sinceMs: since })].map((row) => row.outcome).slice(-2)).toEqual([
      'error',
      'cancelled',
    ]);
  });

  it('filters by [since, until)', () => {
    const ledger = openLedger();
    for (const row of sample) ledger.record(row);
    expect(ledger.query({ sinceMs: T0 - HOUR }).totals.requests).toBe(4);
    expect(ledger.query({ sinceMs: T0 }).totals.requests).toBe(3);
    expect(ledger.query({ sinceMs: T0 - 2 * HOUR, untilMs: T0 }).totals.requests).toBe(2);
    expect(ledger.query({ sinceMs: T0 + 1 }).totals.requests).toBe(0);
    expect([...ledger.rows({ sinceMs: T0 - HOUR, untilMs: T0 })].map((r) => r.requestId)).toEqual([
      sample[1]!.requestId,
    ]);
  });

  it('sums cloud spend only', () => {
    const ledger = openLedger();
    for (const row of sample) ledger.record(row);
    ledger.record(cloudRow(0.5, { ts: T0 - 5 * HOUR }));
    expect(ledger.cloudSpend({ sinceMs: T0 - HOUR })).toBeCloseTo(0.75, 12);
    expect(ledger.cloudSpend({ sinceMs: 0 })).toBeCloseTo(1.25, 12);
    expect(ledger.cloudSpend({ sinceMs: T0 + 1 })).toBe(0);
  });

  it('exports every row, in order, a page at a time (rows recorded meanwhile included)', () => {
    const ledger = openLedger();
    const total = ROWS_PAGE_SIZE * 2 + 37;
    const ids: string[] = [];
    for (let i = 0; i < total; i++) {
      const row = i % 10 === 0 ? cloudRow(0.01, { ts: T0 + i }) : usageRow({ ts: T0 + i });
      ids.push(row.requestId);
      ledger.record(row);
    }
    const seen: UsageRow[] = [];
    for (const row of ledger.rows({ sinceMs: 0 })) {
      seen.push(row);
      if (seen.length === 1) {
        const late = usageRow({ ts: T0 + total });
        ids.push(late.requestId);
        ledger.record(late);
      }
    }
    expect(seen.map((r) => r.requestId)).toEqual(ids);
    expect(seen[0]).toEqual(
      expect.objectContaining({ cloud: true, costUsd: 0.01, tier: 'cloud', outcome: 'ok' }),
    );
    expect(seen[1]).toEqual(expect.objectContaining({ cloud: false, firstTokenMs: 120, errorCode: null }));
  });

  it('keeps every field through a close and reopen', () => {
    const first = openLedger();
    for (const row of sample) first.record(row);
    first.close();
    first.close();
    const again = openLedger();
    expect([...again.rows({ sinceMs: 0 })]).toEqual(sample);
  });

  it('drops rows older than the retention when it opens', () => {
    const first = openLedger();
    first.record(usageRow({ ts: T0 - 40 * 24 * HOUR }));
    first.record(usageRow({ ts: T0 }));
    first.close();
    const again = openLedger({ retentionMs: 31 * 24 * HOUR });
    expect(again.query({ sinceMs: 0 }).totals.requests).toBe(1);
  });

  it('tells a caller that records after close, without throwing', () => {
    const errors: SwarmError[] = [];
    const ledger = openLedger({ onError: (err) => errors.push(err) });
    ledger.close();
    expect(() => ledger.record(usageRow())).not.toThrow();
    expect(errors.map((e) => e.code)).toEqual([ErrorCodes.USAGE_STORE]);
  });

  it('calls record listeners with each row', () => {
    const ledger = openLedger();
    const seen: string[] = [];
    const stop = ledger.onRecord((row) => seen.push(row.requestId));
    ledger.record(sample[0]!);
    stop();
    ledger.record(sample[1]!);
    expect(seen).toEqual([sample[0]!.requestId]);
  });

  it('puts the ledger in the data dir unless usage.path says otherwise', () => {
    expect(ledgerPath({ path: null }, '/srv/swarmd')).toBe('/srv/swarmd/usage.sqlite');
    expect(ledgerPath({ path: '/tmp/u.sqlite' }, '/srv/swarmd')).toBe('/tmp/u.sqlite');
  });
});

describe('UsageLedger migrations', () => {
  it('brings a version 1 file up to date and keeps its rows', () => {
    const v1 = join(dir, 'v1.sqlite');
    const db = new Database(v1);
    db.exec(SCHEMA_VERSION_SQL);
    db.exec(MIGRATIONS[0]!.sql);
    db.prepare('INSERT INTO schema_version (version) VALUES (1)').run();
    db.prepare(
      `INSERT INTO usage (ts, request_id, client, node_id, node_name, backend, model, tier, cloud, privacy,
        prompt_tokens, completion_tokens, latency_ms, attempts, cost_usd, outcome, error_code)
       VALUES (?, 'old-1', 'local', 'n1', 'gamer', 'ollama', 'llama3', 'fast', 1, 'cloud', 10, 20, 300, 1, 0.2, 'ok', NULL)`,
    ).run(T0);
    db.close();

    path = v1;
    const ledger = openLedger();
    ledger.record(usageRow({ ts: T0 + 1, requestId: 'new-1' }));
    const rows = [...ledger.rows({ sinceMs: 0 })];
    expect(rows[0]).toMatchObject({
      requestId: 'old-1',
      cloud: true,
      firstTokenMs: null,
      referenceCostUsd: null,
    });
    expect(rows[1]).toMatchObject({ requestId: 'new-1', firstTokenMs: 120, referenceCostUsd: 0.001 });
    expect(ledger.cloudSpend({ sinceMs: 0 })).toBeCloseTo(0.2, 12);
    ledger.close();
    const check = new Database(v1, { readonly: true });
    expect(check.prepare('SELECT version FROM schema_version').pluck().all()).toEqual([
      LEDGER_SCHEMA_VERSION,
    ]);
    check.close();
  });

  it('refuses a file written by a newer release, saying what to do', () => {
    const newer = join(dir, 'newer.sqlite');
    const db = new Database(newer);
    db.exec(SCHEMA_VERSION_SQL);
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(LEDGER_SCHEMA_VERSION + 1);
    db.close();
    const err = openError(newer);
    expect(err.code).toBe(ErrorCodes.USAGE_STORE);
    expect(err.message).toContain(newer);
    expect(err.message).toMatch(/newer swarmd/);
  });
});

describe('UsageLedger damaged files', () => {
  it('reports a corrupt file as USAGE_STORE, naming the path and how to move it aside', () => {
    const broken = join(dir, 'broken.sqlite');
    writeFileSync(broken, Buffer.alloc(8192, 0x5a));
    const err = openError(broken);
    expect(err.code).toBe(ErrorCodes.USAGE_STORE);
    expect(err.message).toContain(broken);
    expect(err.message).toContain(`mv ${broken} ${broken}.broken`);
  });

  it('refuses a SQLite file that is not a ledger', () => {
    const other = join(dir, 'other.sqlite');
    const db = new Database(other);
    db.exec('CREATE TABLE jobs (id INTEGER)');
    db.close();
    const err = openError(other);
    expect(err.code).toBe(ErrorCodes.USAGE_STORE);
    expect(err.message).toMatch(/not a swarmd usage ledger \(tables: jobs\)/);
  });

  it('reports a path it cannot create', () => {
    writeFileSync(join(dir, 'file'), 'x');
    expect(openError(join(dir, 'file', 'usage.sqlite')).code).toBe(ErrorCodes.USAGE_STORE);
  });
});
