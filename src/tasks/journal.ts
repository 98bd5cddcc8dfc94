// The coordinator's task journal: one SQLite file per node (WAL) with a row per accepted
// request. Asynchronous tasks keep their request and, once finished, their result, so a
// coordinator that restarts resumes what it accepted; synchronous requests left unfinished by a
// crash are marked `interrupted` (their client's connection died with the process) so nothing
// sits "running" forever. An async task records its owner (the id of the API key that created
// it, never the key) and is read, listed and cancelled only by that owner.
//
// An async task's row and its end are committed at once, before the 202 (one row alone ~0.1 ms
// on a small VM: WAL, synchronous=NORMAL, no fsync): the client was promised it survives a crash
// and will come back for the result. Rows and state changes of synchronous requests are queued
// and written together in one transaction SYNC_WRITE_DELAY_MS after the first of them (or at once
// when MAX_QUEUED_WRITES wait, or before any read or durable write), so they cost a request almost
// nothing; a synchronous request that ends before its row is written is written once, in its final
// state. The price: a crash loses the synchronous rows of its last few milliseconds (requests that
// arrived then are neither recorded nor marked interrupted; their clients saw the connection drop).
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { ErrorCodes, errorMessage, SwarmError } from '../errors.js';
import type {
  AsyncTaskError,
  AsyncTaskView,
  InferenceKind,
  JsonObject,
  Privacy,
} from '../inference/types.js';
import { createPrivateFile, openWalDatabase } from '../util/sqlite-file.js';

/** Where a journaled task stands. */
export type TaskState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

/** States a task never leaves. */
export const FINAL_STATES: ReadonlySet<TaskState> = new Set([
  'completed',
  'failed',
  'cancelled',
  'interrupted',
]);

/** The error an unsuccessful task ended with, as the gateway would have answered it. */
export type TaskFailure = AsyncTaskError;

/** Who served a finished task. */
export type TaskServedBy = NonNullable<AsyncTaskView['servedBy']>;

/** One journaled task. */
export interface JournaledTask {
  id: string;
  kind: InferenceKind;
  /** The OpenAI request body as accepted. */
  body: JsonObject;
  privacy: Privacy;
  client: string;
  action: string | null;
  /** Asynchronous (the client comes back for the result) or synchronous (answered on its connection). */
  async: boolean;
  /**
   * Asynchronous tasks: the id of the API key that created it, the only one that sees it; null
   * when created without keys (and by journals older than owners), seen only while none are set.
   */
  owner: string | null;
  state: TaskState;
  attempts: number;
  createdMs: number;
  startedMs: number | null;
  finishedMs: number | null;
  /** Asynchronous tasks only: the OpenAI response body. */
  result: JsonObject | null;
  error: TaskFailure | null;
  servedBy: TaskServedBy | null;
}

/** What is known of a task when it is accepted. */
export type NewTask = Pick<
  JournaledTask,
  'id' | 'kind' | 'body' | 'privacy' | 'client' | 'action' | 'async' | 'owner'
>;

/** How a task ended. */
export interface TaskEnd {
  state: 'completed' | 'failed' | 'cancelled';
  attempts: number;
  result?: JsonObject | null;
  error?: TaskFailure | null;
  servedBy?: TaskServedBy | null;
}

export interface JournalOptions {
  /** Finished tasks older than this (ms) are deleted at open and then hourly. */
  retentionMs: number;
  /** Wall clock (ms epoch). */
  now?: () => number;
  /** Told when a queued state change could not be written. */
  onError?: (err: SwarmError) => void;
}

const SCHEMA_VERSION = 2;
const PRUNE_EVERY_MS = 3_600_000;
/** How long queued synchronous rows and changes may wait before they are written together. */
export const SYNC_WRITE_DELAY_MS = 5;
/** Queued writes at which they are written at once instead of after the delay. */
export const MAX_QUEUED_WRITES = 256;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS tasks (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    privacy     TEXT    NOT NULL,
    client      TEXT    NOT NULL,
    action      TEXT,
    async       INTEGER NOT NULL,
    state       TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_ms  INTEGER NOT NULL,
    started_ms  INTEGER,
    finished_ms INTEGER,
    result      TEXT,
    error       TEXT,
    served_by   TEXT,
    owner       TEXT
  );
  CREATE INDEX IF NOT EXISTS tasks_open ON tasks (state) WHERE state IN ('queued', 'running');
  CREATE INDEX IF NOT EXISTS tasks_created ON tasks (created_ms);
  CREATE INDEX IF NOT EXISTS tasks_owner ON tasks (owner, created_ms) WHERE async = 1;
`;

/**
 * What brings a journal of an older version up to SCHEMA before it runs. Version 1 had no
 * owners: its tasks keep none, so they are seen only while the gateway has no API keys.
 */
const UPGRADES: Readonly<Record<number, string>> = {
  1: 'ALTER TABLE tasks ADD COLUMN owner TEXT',
};

interface DbTask {
  id: string;
  kind: string;
  body: string;
  privacy: string;
  client: string;
  action: string | null;
  async: number;
  state: string;
  attempts: number;
  created_ms: number;
  started_ms: number | null;
  finished_ms: number | null;
  result: string | null;
  error: string | null;
  served_by: string | null;
  owner: string | null;
}

/** The columns of a row as inserted; a synchronous one not yet written is updated in place. */
type InsertRow = Omit<DbTask, 'state'> & { state: TaskState };

/** The default journal file of a node. */
export function journalPath(tasks: { path: string | null }, dataDir: string): string {
  return tasks.path ?? join(dataDir, 'tasks.sqlite');
}

/** The task journal of this node. */
export class TaskJournal {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly retentionMs: number;
  private readonly onError: (err: SwarmError) => void;
  private readonly queue: Array<() => void> = [];
  /** Synchronous rows queued but not written yet: later changes are folded into them. */
  private readonly unwritten = new Map<string, InsertRow>();
  private flushScheduled: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private readonly statements: {
    insert: Database.Statement;
    running: Database.Statement;
    end: Database.Statement;
    get: Database.Statement;
    getAsync: Database.Statement;
    listAsync: Database.Statement;
  };

  private constructor(path: string, db: Database.Database, options: JournalOptions) {
    this.path = path;
    this.db = db;
    this.now = options.now ?? Date.now;
    this.retentionMs = options.retentionMs;
    this.onError = options.onError ?? (() => undefined);
    this.statements = {
      insert: db.prepare(
        `INSERT INTO tasks (id, kind, body, privacy, client, action, async, state, attempts, created_ms,
           started_ms, finished_ms, result, error, served_by, owner)
         VALUES (@id, @kind, @body, @privacy, @client, @action, @async, @state, @attempts, @created_ms,
           @started_ms, @finished_ms, @result, @error, @served_by, @owner)`,
      ),
      running: db.prepare(
        `UPDATE tasks SET state = 'running', attempts = @attempts, started_ms = coalesce(started_ms, @now)
         WHERE id = @id AND state IN ('queued', 'running')`,
      ),
      end: db.prepare(
        `UPDATE tasks SET state = @state, attempts = @attempts, finished_ms = @now, result = @result,
           error = @error, served_by = @served_by
         WHERE id = @id AND state IN ('queued', 'running')`,
      ),
      get: db.prepare('SELECT * FROM tasks WHERE id = ?'),
      // `IS`: null matches null, so tasks made without keys are found only without keys.
      getAsync: db.prepare('SELECT * FROM tasks WHERE id = @id AND async = 1 AND owner IS @owner'),
      listAsync: db.prepare(
        'SELECT * FROM tasks WHERE async = 1 AND owner IS @owner ORDER BY created_ms DESC, rowid DESC LIMIT @limit',
      ),
    };
  }

  /** Open (or create, 0600) the journal at `path`. Throws TASK_STORE saying what to do. */
  static open(path: string, options: JournalOptions): TaskJournal {
    try {
      createPrivateFile(path);
    } catch (err) {
      throw journalError(path, 'create', err);
    }
    let db: Database.Database | null = null;
    try {
      db = openWalDatabase(path);
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new SwarmError(
          ErrorCodes.TASK_STORE,
          `task journal ${path} has schema version ${version}, written by a newer swarmd (this one reads ${SCHEMA_VERSION}). Upgrade swarmd, or move the file aside to start a new journal.`,
        );
      }
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .pluck()
        .all() as string[];
      if (version === 0 && tables.length > 0) {
        throw new SwarmError(
          ErrorCodes.TASK_STORE,
          `${path} is a SQLite database but not a swarmd task journal (tables: ${tables.join(', ')}). Set tasks.path to another file, or move this one aside.`,
        );
      }
      migrate(db, version);
      const journal = new TaskJournal(path, db, options);
      journal.prune();
      return journal;
    } catch (err) {
      db?.close();
      throw journalError(path, 'open', err);
    }
  }

  /**
   * Journal a newly accepted task. An async task is committed before this returns (its 202
   * promises it survives a crash); a synchronous one is queued with the other changes and
   * written within SYNC_WRITE_DELAY_MS (in its final state if it has ended by then).
   */
  accept(task: NewTask): void {
    const row: InsertRow = {
      id: task.id,
      kind: task.kind,
      // A synchronous request keeps no body: nobody could resume it.
      body: task.async ? JSON.stringify(task.body) : '{}',
      privacy: task.privacy,
      client: task.client,
      action: task.action,
      async: task.async ? 1 : 0,
      state: task.async ? 'queued' : 'running',
      attempts: 0,
      created_ms: this.now(),
      started_ms: null,
      finished_ms: null,
      result: null,
      error: null,
      served_by: null,
      owner: task.owner,
    };
    if (!task.async) {
      this.unwritten.set(row.id, row);
      this.enqueue(() => this.statements.insert.run(row));
      return;
    }
    this.flush(); // keep writes in order
    try {
      this.statements.insert.run(row);
    } catch (err) {
      throw journalError(this.path, `journaling task ${task.id}`, err);
    }
  }

  /** An attempt started (queued; written with the next batch). */
  running(id: string, attempts: number): void {
    const now = this.now();
    const row = this.unwritten.get(id);
    if (row) {
      // As the UPDATE below would: only an open task, started_ms kept from the first attempt.
      if (!FINAL_STATES.has(row.state)) {
        row.state = 'running';
        row.attempts = attempts;
        row.started_ms ??= now;
      }
      return;
    }
    this.enqueue(() => this.statements.running.run({ id, attempts, now }));
  }

  /** The task ended. `durable` commits at once (an async task's result); otherwise queued. */
  end(id: string, end: TaskEnd, durable: boolean): void {
    const params = {
      id,
      state: end.state,
      attempts: end.attempts,
      now: this.now(),
      result: end.result ? JSON.stringify(end.result) : null,
      error: end.error ? JSON.stringify(end.error) : null,
      served_by: end.servedBy ? JSON.stringify(end.servedBy) : null,
    };
    if (!durable) {
      const row = this.unwritten.get(id);
      if (row) {
        // Not written yet: the row goes in once, as the UPDATE below would leave it.
        if (!FINAL_STATES.has(row.state)) {
          row.state = params.state;
          row.attempts = params.attempts;
          row.finished_ms = params.now;
          row.result = params.result;
          row.error = params.error;
          row.served_by = params.served_by;
        }
        return;
      }
      this.enqueue(() => this.statements.end.run(params));
      return;
    }
    this.flush();
    try {
      this.statements.end.run(params);
    } catch (err) {
      throw journalError(this.path, `recording the end of task ${id}`, err);
    }
  }

  /** One task, or null. */
  get(id: string): JournaledTask | null {
    this.flush();
    const row = this.statements.get.get(id) as DbTask | undefined;
    return row ? fromDb(row) : null;
  }

  /** One asynchronous task of `owner`, or null (unknown, synchronous, or another owner's: the same answer). */
  getAsync(id: string, owner: string | null): JournaledTask | null {
    this.flush();
    const row = this.statements.getAsync.get({ id, owner }) as DbTask | undefined;
    return row ? fromDb(row) : null;
  }

  /** Asynchronous tasks of `owner`, newest first. */
  listAsync(owner: string | null, limit: number): JournaledTask[] {
    this.flush();
    return (this.statements.listAsync.all({ owner, limit }) as DbTask[]).map(fromDb);
  }

  /**
   * After a restart: mark synchronous tasks a previous process left open as interrupted, and
   * return the asynchronous ones still to run, oldest first.
   */
  recover(): { resumed: JournaledTask[]; interrupted: number } {
    this.flush();
    const interrupted = this.db
      .prepare(
        "UPDATE tasks SET state = 'interrupted', finished_ms = ? WHERE async = 0 AND state IN ('queued', 'running')",
      )
      .run(this.now()).changes;
    const rows = this.db
      .prepare(
        "SELECT * FROM tasks WHERE async = 1 AND state IN ('queued', 'running') ORDER BY created_ms, rowid",
      )
      .all() as DbTask[];
    return { resumed: rows.map(fromDb), interrupted };
  }

  /** Start hourly pruning. */
  startPruning(): void {
    this.pruneTimer ??= setInterval(() => this.prune(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  /** Write queued changes and close. Safe to call twice. */
  close(): void {
    if (!this.db.open) return;
    this.flush();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.db.close();
  }

  private prune(): void {
    this.flush();
    this.db
      .prepare(
        "DELETE FROM tasks WHERE state NOT IN ('queued', 'running') AND coalesce(finished_ms, created_ms) < ?",
      )
      .run(this.now() - this.retentionMs);
  }

  private enqueue(write: () => void): void {
    this.queue.push(write);
    if (this.queue.length >= MAX_QUEUED_WRITES) {
      this.flush();
      return;
    }
    if (this.flushScheduled === null) {
      this.flushScheduled = setTimeout(() => this.flush(), SYNC_WRITE_DELAY_MS);
      this.flushScheduled.unref();
    }
  }

  private flush(): void {
    if (this.flushScheduled) clearTimeout(this.flushScheduled);
    this.flushScheduled = null;
    if (this.queue.length === 0 || !this.db.open) return;
    const writes = this.queue.splice(0);
    this.unwritten.clear();
    try {
      this.db.transaction(() => {
        for (const write of writes) write();
      })();
    } catch (err) {
      this.onError(journalError(this.path, `write of ${writes.length} change(s)`, err));
    }
  }
}

/** Bring a journal written at `version` (0: new) to SCHEMA, in one transaction. */
function migrate(db: Database.Database, version: number): void {
  db.transaction(() => {
    for (let from = version; from > 0 && from < SCHEMA_VERSION; from++) db.exec(UPGRADES[from]!);
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

function fromDb(row: DbTask): JournaledTask {
  return {
    id: row.id,
    kind: row.kind as InferenceKind,
    body: JSON.parse(row.body) as JsonObject,
    privacy: row.privacy as Privacy,
    client: row.client,
    action: row.action,
    async: row.async === 1,
    owner: row.owner,
    state: row.state as TaskState,
    attempts: row.attempts,
    createdMs: row.created_ms,
    startedMs: row.started_ms,
    finishedMs: row.finished_ms,
    result: row.result ? (JSON.parse(row.result) as JsonObject) : null,
    error: row.error ? (JSON.parse(row.error) as TaskFailure) : null,
    servedBy: row.served_by ? (JSON.parse(row.served_by) as TaskServedBy) : null,
  };
}

/** A SwarmError TASK_STORE for a failed journal operation, saying what the person can do. */
function journalError(path: string, what: string, err: unknown): SwarmError {
  if (err instanceof SwarmError) return err;
  const code = (err as { code?: unknown }).code;
  const text = errorMessage(err);
  let fix = 'Check the file and its directory, or set tasks.path.';
  if (code === 'SQLITE_NOTADB' || (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT')))
    fix = `Stop swarmd and move the file aside (mv ${path} ${path}.broken, with its -wal and -shm files): a new journal is created, unfinished async tasks in the old one are not resumed.`;
  else if (code === 'SQLITE_FULL') fix = 'The disk is full: free space, or shorten tasks.retention.';
  else if (
    code === 'SQLITE_CANTOPEN' ||
    code === 'SQLITE_READONLY' ||
    code === 'SQLITE_PERM' ||
    code === 'EACCES'
  )
    fix = 'Check that this user owns the file and its directory, or set tasks.path.';
  return new SwarmError(ErrorCodes.TASK_STORE, `task journal ${path}: ${what} failed: ${text}. ${fix}`, {
    cause: err,
  });
}
