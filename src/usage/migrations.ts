// The usage ledger's SQLite schema as an ordered list of steps. A file records the last step
// applied in `schema_version`; opening it applies the steps after that, each in a transaction.
// Append steps, never edit or reorder released ones: files in the field were made by them.
import type Database from 'better-sqlite3';
import { ErrorCodes, SwarmError } from '../errors.js';

/** One schema step: the version it brings a file to and the SQL that does it. */
export interface Migration {
  version: number;
  /** What the step changes, for people reading the list. */
  what: string;
  sql: string;
}

/** Every schema step, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    what: 'the usage table: one row per request, indexed by time',
    sql: `
      CREATE TABLE usage (
        id                INTEGER PRIMARY KEY,
        ts                INTEGER NOT NULL,
        request_id        TEXT    NOT NULL,
        client            TEXT    NOT NULL,
        node_id           TEXT    NOT NULL,
        node_name         TEXT    NOT NULL,
        backend           TEXT    NOT NULL,
        model             TEXT    NOT NULL,
        tier              TEXT,
        cloud             INTEGER NOT NULL,
        privacy           TEXT    NOT NULL,
        prompt_tokens     INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        latency_ms        REAL    NOT NULL,
        attempts          INTEGER NOT NULL,
        cost_usd          REAL    NOT NULL,
        outcome           TEXT    NOT NULL,
        error_code        TEXT
      );
      CREATE INDEX usage_ts ON usage (ts);
    `,
  },
  {
    version: 2,
    what: 'time to first token, reference cost for savings, and an index for cloud spend',
    sql: `
      ALTER TABLE usage ADD COLUMN first_token_ms REAL;
      ALTER TABLE usage ADD COLUMN reference_cost_usd REAL;
      CREATE INDEX usage_cloud_ts ON usage (ts) WHERE cloud = 1;
    `,
  },
];

/** The schema version this release writes. */
export const LEDGER_SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** The table that records the version; created before the first step. */
export const SCHEMA_VERSION_SQL = 'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)';

/**
 * Bring the open file at `path` up to LEDGER_SCHEMA_VERSION. Throws USAGE_STORE for a SQLite
 * file that is not a ledger, or one written by a newer release.
 */
export function migrate(db: Database.Database, path: string): void {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .pluck()
    .all() as string[];
  if (tables.length > 0 && !tables.includes('schema_version')) {
    throw new SwarmError(
      ErrorCodes.USAGE_STORE,
      `${path} is a SQLite database but not a swarmd usage ledger (tables: ${tables.join(', ')}). Set usage.path to another file, or move this one aside.`,
    );
  }
  db.exec(SCHEMA_VERSION_SQL);
  const current = (db.prepare('SELECT max(version) FROM schema_version').pluck().get() as number | null) ?? 0;
  if (current > LEDGER_SCHEMA_VERSION) {
    throw new SwarmError(
      ErrorCodes.USAGE_STORE,
      `usage ledger ${path} has schema version ${current}, written by a newer swarmd; this release reads up to version ${LEDGER_SCHEMA_VERSION}. Upgrade swarmd, or move the file aside (mv ${path} ${path}.newer) to start a new ledger.`,
    );
  }
  for (const step of MIGRATIONS) {
    if (step.version <= current) continue;
    db.transaction(() => {
      db.exec(step.sql);
      db.exec('DELETE FROM schema_version');
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(step.version);
    })();
  }
}
