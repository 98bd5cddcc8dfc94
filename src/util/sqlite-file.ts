// The one way swarmd opens its SQLite files (usage ledger, task journal, job store): private to
// this user (folder 0700, file 0600, created so before SQLite touches it), WAL mode with
// synchronous=NORMAL (a commit writes the WAL without an fsync; a power cut can lose the last
// commits, never corrupt the file). Callers wrap the errors in their own codes.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** Make sure `path` exists as a private file in a private folder; throws what fs threw. */
export function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) {
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
  }
}

/** Open an existing SQLite file in WAL mode; throws what better-sqlite3 threw. */
export function openWalDatabase(path: string): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
