// The usage ledger: one SQLite file per node (WAL mode) with a row per client request (row.ts
// says what that means for fallbacks, failures and cancellations).
//
// record() is the hot path: it queues the row and returns (about a microsecond); the queue is
// written in one transaction WRITE_DELAY_MS after its first row (a timer, so rows of several
// requests share a commit even when they come one at a time), or at once when 256 rows are
// waiting. A crash loses at most the rows of those last milliseconds. Every read (query, rows, cloudSpend) writes the queue first, so reads
// always see every recorded row. Measured here: record() ~1 µs; one row committed alone ~40-50 µs, in a
// batch ~7 µs per row (WAL, synchronous=NORMAL: a commit writes the WAL but does not fsync).
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { ErrorCodes, errorMessage, SwarmError } from '../errors.js';
import type { Privacy, Tier } from '../inference/types.js';
import { createPrivateFile, openWalDatabase } from '../util/sqlite-file.js';
import { migrate } from './migrations.js';
import type { UsageRow } from './row.js';
import { storeError } from './store-error.js';
import {
  buildSummary,
  type CountedGroup,
  groupLabel,
  pickCounts,
  type UsageCounts,
  type UsageGroupBy,
  type UsageSummary,
} from './summary.js';

/** Options of an open ledger. */
export interface LedgerOptions {
  /** Rows older than this (ms) are deleted at open and then hourly; 0 or absent keeps them forever. */
  retentionMs?: number;
  /** Wall clock (ms epoch) for retention and the default end of a query window. */
  now?: () => number;
  /** Told when queued rows could not be written (they are dropped); record() itself never throws. */
  onError?: (err: SwarmError) => void;
}

/** A query over [sinceMs, untilMs) (until defaults to now), totals grouped by `by` when given. */
export interface UsageQuery {
  sinceMs: number;
  untilMs?: number;
  by?: UsageGroupBy;
}

/** A time window of rows, [sinceMs, untilMs). */
export interface RowWindow {
  sinceMs: number;
  untilMs?: number;
}

/** Called with each row as it is recorded (before it is written). */
export type RecordListener = (row: UsageRow) => void;

/** Rows waiting when record() writes the queue at once instead of after the delay. */
export const MAX_QUEUED_ROWS = 256;

/** How long a queued row may wait for others to share its commit. */
export const WRITE_DELAY_MS = 5;

/** Rows read per page while rows() streams. */
export const ROWS_PAGE_SIZE = 500;

const PRUNE_EVERY_MS = 3_600_000;
const FOREVER = Number.MAX_SAFE_INTEGER;

const COLUMNS = [
  'ts',
  'request_id',
  'client',
  'node_id',
  'node_name',
  'backend',
  'model',
  'tier',
  'cloud',
  'privacy',
  'prompt_tokens',
  'completion_tokens',
  'latency_ms',
  'first_token_ms',
  'attempts',
  'cost_usd',
  'reference_cost_usd',
  'outcome',
  'error_code',
] as const;

interface DbRow {
  id: number;
  ts: number;
  request_id: string;
  client: string;
  node_id: string;
  node_name: string;
  backend: string;
  model: string;
  tier: string | null;
  cloud: number;
  privacy: string;
  prompt_tokens: number;
  completion_tokens: number;
  latency_ms: number;
  first_token_ms: number | null;
  attempts: number;
  cost_usd: number;
  reference_cost_usd: number | null;
  outcome: string;
  error_code: string | null;
}

interface DbGroup extends UsageCounts {
  key: string | null;
  label: string | null;
}

const GROUP_COLUMNS: Record<UsageGroupBy, string> = {
  model: 'model',
  node: 'node_id',
  tier: 'tier',
  client: 'client',
  backend: 'backend',
  error: 'error_code',
};

const COUNTS_SQL = `
  count(*) AS requests,
  total(outcome = 'error') AS errors,
  total(outcome = 'cancelled') AS cancelled,
  total(cloud = 0) AS localRequests,
  total(cloud = 1) AS cloudRequests,
  total(prompt_tokens) AS promptTokens,
  total(completion_tokens) AS completionTokens,
  total(CASE WHEN cloud = 0 THEN prompt_tokens + completion_tokens ELSE 0 END) AS localTokens,
  total(cost_usd) AS costUsd,
  sum(reference_cost_usd) AS referenceCostUsd,
  sum(reference_cost_usd - cost_usd) AS savingsUsd,
  total(latency_ms) AS latencyMsSum,
  total(first_token_ms) AS firstTokenMsSum,
  count(first_token_ms) AS firstTokenSamples`;

/** Where the ledger lives: usage.path when set, else <dataDir>/usage.sqlite. */
export function ledgerPath(usage: { path: string | null }, dataDir: string): string {
  return usage.path ?? join(dataDir, 'usage.sqlite');
}

/** The usage ledger of this node. */
export class UsageLedger {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly retentionMs: number;
  private readonly onError: (err: SwarmError) => void;
  private readonly insert: Database.Statement;
  private readonly insertMany: (rows: readonly UsageRow[]) => void;
  private readonly page: Database.Statement<[number, number, number, number], DbRow>;
  private readonly spend: Database.Statement<[number, number], number>;
  private readonly prune: Database.Statement<[number]>;
  private readonly groupQueries = new Map<
    UsageGroupBy | null,
    Database.Statement<[number, number], DbGroup>
  >();
  private readonly listeners = new Set<RecordListener>();
  private queue: UsageRow[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private lastPruneMs = 0;
  private closed = false;

  private constructor(path: string, db: Database.Database, options: LedgerOptions) {
    this.path = path;
    this.db = db;
    this.now = options.now ?? Date.now;
    this.retentionMs = options.retentionMs ?? 0;
    this.onError = options.onError ?? (() => {});
    this.insert = db.prepare(
      `INSERT INTO usage (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
    );
    this.insertMany = db.transaction((rows: readonly UsageRow[]) => {
      for (const row of rows) this.insert.run(toParams(row));
    });
    this.page = db.prepare(
      `SELECT id, ${COLUMNS.join(', ')} FROM usage WHERE ts >= ? AND ts < ? AND id > ? ORDER BY id LIMIT ?`,
    );
    this.spend = db
      .prepare('SELECT total(cost_usd) FROM usage WHERE cloud = 1 AND ts >= ? AND ts < ?')
      .pluck() as Database.Statement<[number, number], number>;
    this.prune = db.prepare('DELETE FROM usage WHERE ts < ?');
  }

  /**
   * Open (or create) the ledger at `path`: the directory is created 0700 and the file 0600, WAL
   * mode is set and the schema is brought up to date. Throws SwarmError USAGE_STORE, naming the
   * path and what to do, when the file is damaged, not a ledger, newer than this release, or
   * cannot be opened.
   */
  static open(path: string, options: LedgerOptions = {}): UsageLedger {
    try {
      createPrivateFile(path);
    } catch (err) {
      throw new SwarmError(
        ErrorCodes.USAGE_STORE,
        `cannot create the usage ledger ${path}: ${errorMessage(err)}. Check that this user may write the directory, or set usage.path.`,
        { cause: err },
      );
    }
    let db: Database.Database | null = null;
    try {
      db = openWalDatabase(path);
      migrate(db, path);
      const ledger = new UsageLedger(path, db, options);
      ledger.pruneOld();
      return ledger;
    } catch (err) {
      db?.close();
      throw storeError(path, 'open', err);
    }
  }

  /** Queue a row for writing (never throws; write failures go to onError) and tell the listeners. */
  record(row: UsageRow): void {
    if (this.closed) {
      this.onError(
        new SwarmError(
          ErrorCodes.USAGE_STORE,
          `usage ledger ${this.path} is closed; request ${row.requestId} not recorded`,
        ),
      );
      return;
    }
    this.queue.push(row);
    for (const listener of this.listeners) listener(row);
    if (this.queue.length >= MAX_QUEUED_ROWS) this.writeQueue();
    else if (this.flushTimer === null) {
      this.flushTimer = setTimeout(() => this.writeQueue(), WRITE_DELAY_MS);
      this.flushTimer.unref();
    }
  }

  /** Call `listener` with every row recorded from now on; returns the function that stops it. */
  onRecord(listener: RecordListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Write every queued row now (reads do this themselves). */
  flush(): void {
    this.writeQueue();
  }

  /** Totals over a window, grouped by `by` when given. */
  query(q: UsageQuery): UsageSummary {
    const by = q.by ?? null;
    const until = q.untilMs ?? this.now();
    const found = this.read('query', () => this.groupQuery(by).all(q.sinceMs, q.untilMs ?? FOREVER));
    const groups: CountedGroup[] = found
      .filter((group) => group.requests > 0)
      .map((group) => ({
        key: group.key,
        label: by === null ? '' : groupLabel(group.key, by, group.label ?? ''),
        counts: pickCounts(group),
      }));
    return buildSummary({ since: q.sinceMs, until, by }, groups);
  }

  /** Every row in the window, oldest recorded first, read a page at a time (for JSONL export). */
  *rows(window: RowWindow): Generator<UsageRow, void, undefined> {
    const until = window.untilMs ?? FOREVER;
    let after = 0;
    for (;;) {
      const page = this.read('export', () => this.page.all(window.sinceMs, until, after, ROWS_PAGE_SIZE));
      for (const row of page) yield fromDb(row);
      if (page.length < ROWS_PAGE_SIZE) return;
      after = page.at(-1)!.id;
    }
  }

  /** USD spent on cloud providers in the window. */
  cloudSpend(window: RowWindow): number {
    return this.read(
      'cloud spend query',
      () => this.spend.get(window.sinceMs, window.untilMs ?? FOREVER) ?? 0,
    );
  }

  /** Write the queue and close the file; safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.writeQueue();
    this.closed = true;
    this.listeners.clear();
    this.db.close();
  }

  private read<T>(what: string, run: () => T): T {
    if (this.closed) throw new SwarmError(ErrorCodes.USAGE_STORE, `usage ledger ${this.path} is closed`);
    this.writeQueue();
    try {
      return run();
    } catch (err) {
      throw storeError(this.path, what, err);
    }
  }

  private writeQueue(): void {
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.queue.length === 0 || this.closed) return;
    const rows = this.queue;
    this.queue = [];
    try {
      this.insertMany(rows);
      if (this.retentionMs > 0 && this.now() - this.lastPruneMs >= PRUNE_EVERY_MS) this.pruneOld();
    } catch (err) {
      this.onError(storeError(this.path, `write of ${rows.length} row(s)`, err));
    }
  }

  private pruneOld(): void {
    if (this.retentionMs <= 0) return;
    this.lastPruneMs = this.now();
    this.prune.run(this.lastPruneMs - this.retentionMs);
  }

  private groupQuery(by: UsageGroupBy | null) {
    let statement = this.groupQueries.get(by);
    if (!statement) {
      const column = by === null ? 'NULL' : GROUP_COLUMNS[by];
      // With max(id) in the select list SQLite takes node_name from the newest row of the group.
      const sql =
        by === null
          ? `SELECT NULL AS key, NULL AS label, ${COUNTS_SQL} FROM usage WHERE ts >= ? AND ts < ?`
          : `SELECT ${column} AS key, node_name AS label, max(id) AS newest, ${COUNTS_SQL}
             FROM usage WHERE ts >= ? AND ts < ? GROUP BY ${column}`;
      statement = this.db.prepare(sql) as Database.Statement<[number, number], DbGroup>;
      this.groupQueries.set(by, statement);
    }
    return statement;
  }
}

function toParams(row: UsageRow): unknown[] {
  return [
    row.ts,
    row.requestId,
    row.client,
    row.nodeId,
    row.nodeName,
    row.backend,
    row.model,
    row.tier,
    row.cloud ? 1 : 0,
    row.privacy,
    row.promptTokens,
    row.completionTokens,
    row.latencyMs,
    row.firstTokenMs,
    row.attempts,
    row.costUsd,
    row.referenceCostUsd,
    row.outcome,
    row.errorCode,
  ];
}

function fromDb(row: DbRow): UsageRow {
  return {
    ts: row.ts,
    requestId: row.request_id,
    client: row.client,
    nodeId: row.node_id,
    nodeName: row.node_name,
    backend: row.backend,
    model: row.model,
    tier: row.tier as Tier | null,
    cloud: row.cloud === 1,
    privacy: row.privacy as Privacy,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    latencyMs: row.latency_ms,
    firstTokenMs: row.first_token_ms,
    attempts: row.attempts,
    costUsd: row.cost_usd,
    referenceCostUsd: row.reference_cost_usd,
    outcome: row.outcome === 'error' || row.outcome === 'cancelled' ? row.outcome : 'ok',
    errorCode: row.error_code,
  };
}
