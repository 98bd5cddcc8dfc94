// Job records in SQLite (<dataDir>/jobs.sqlite), so reports survive a daemon restart. A job
// that was running when the daemon stopped is marked interrupted when the store opens.
import type Database from 'better-sqlite3';
import { ErrorCodes, errorMessage, SwarmError } from '../../errors.js';
import { createPrivateFile, openWalDatabase } from '../../util/sqlite-file.js';
import { INTERRUPTED_MESSAGE, type JobReport } from '../types.js';

// Schema steps, oldest first; a file records the last applied one in user_version. Append only.
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
     id         TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL,
     state      TEXT NOT NULL,
     report     TEXT NOT NULL
   );
   CREATE INDEX jobs_created ON jobs (created_at);`,
];

/** The job table. */
export class JobStore {
  private readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Jobs a previous daemon left running, marked interrupted when the store opened. */
  interrupted: JobReport[] = [];

  /** Open (creating and migrating) the store; running jobs left by a previous daemon become interrupted. */
  static open(path: string): JobStore {
    let db: Database.Database;
    try {
      createPrivateFile(path);
      db = openWalDatabase(path);
      const version = db.pragma('user_version', { simple: true }) as number;
      for (let step = version; step < MIGRATIONS.length; step++) {
        db.transaction(() => {
          db.exec(MIGRATIONS[step]!);
          db.pragma(`user_version = ${step + 1}`);
        })();
      }
    } catch (err) {
      throw new SwarmError(ErrorCodes.JOB_STORE, `cannot open the job store ${path}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    const store = new JobStore(db);
    store.interrupted = store.interruptRunning();
    return store;
  }

  /** Insert or replace a job's report. */
  save(report: JobReport): void {
    this.db
      .prepare('INSERT OR REPLACE INTO jobs (id, created_at, state, report) VALUES (?, ?, ?, ?)')
      .run(report.id, report.createdAt, report.state, JSON.stringify(report));
  }

  /** A job's report, or null. */
  get(id: string): JobReport | null {
    const row = this.db.prepare('SELECT report FROM jobs WHERE id = ?').get(id) as
      | { report: string }
      | undefined;
    return row ? (JSON.parse(row.report) as JobReport) : null;
  }

  /** The newest jobs first. */
  list(limit = 100): JobReport[] {
    const rows = this.db
      .prepare('SELECT report FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?')
      .all(limit) as { report: string }[];
    return rows.map((row) => JSON.parse(row.report) as JobReport);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private interruptRunning(): JobReport[] {
    const marked: JobReport[] = [];
    for (const row of this.db.prepare("SELECT report FROM jobs WHERE state = 'running'").all() as {
      report: string;
    }[]) {
      const report = JSON.parse(row.report) as JobReport;
      const interrupted: JobReport = {
        ...report,
        state: 'interrupted',
        endedAt: report.endedAt ?? Date.now(),
        message: INTERRUPTED_MESSAGE,
        subtasks: report.subtasks.map((s) =>
          s.state === 'running' ? { ...s, state: 'interrupted', message: INTERRUPTED_MESSAGE } : s,
        ),
      };
      this.save(interrupted);
      marked.push(interrupted);
    }
    return marked;
  }
}
