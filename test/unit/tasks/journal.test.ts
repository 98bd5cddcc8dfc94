// The task journal on a real SQLite file: what a restart finds (async tasks to resume,
// synchronous ones marked interrupted), results kept, old tasks pruned, bad files refused,
// async tasks seen only by their owner, journals of the previous release still opened.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { type NewTask, SYNC_WRITE_DELAY_MS, TaskJournal } from '../../../src/tasks/journal.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function path(): string {
  const dir = mkdtempSync(join(tmpdir(), 'swarmd-journal-'));
  dirs.push(dir);
  return join(dir, 'tasks.sqlite');
}
const task = (id: string, async: boolean, owner: string | null = null): NewTask => ({
  id,
  kind: 'chat',
  body: { model: 'm', messages: [{ role: 'user', content: id }] },
  privacy: 'lan',
  client: 'local',
  action: null,
  async,
  owner,
});

// The schema of the first release (user_version 1), before tasks had owners.
const V1_SCHEMA = `
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, privacy TEXT NOT NULL,
    client TEXT NOT NULL, action TEXT, async INTEGER NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL, started_ms INTEGER,
    finished_ms INTEGER, result TEXT, error TEXT, served_by TEXT
  );
  CREATE INDEX tasks_open ON tasks (state) WHERE state IN ('queued', 'running');
  CREATE INDEX tasks_created ON tasks (created_ms);
`;

describe('TaskJournal', () => {
  it('finds unfinished async tasks after a restart and marks synchronous ones interrupted', () => {
    const file = path();
    const first = TaskJournal.open(file, { retentionMs: 86_400_000 });
    first.accept(task('a1', true));
    first.accept(task('a2', true));
    first.accept(task('s1', false));
    first.running('a1', 1);
    first.end('a2', { state: 'completed', attempts: 1, result: { id: 'x' } }, true);
    // No close(): a crash. accept() and durable ends are already committed.
    const second = TaskJournal.open(file, { retentionMs: 86_400_000 });
    const { resumed, interrupted } = second.recover();
    expect(resumed.map((t) => t.id)).toEqual(['a1']);
    expect(resumed[0]!.body).toEqual(task('a1', true).body);
    expect(interrupted).toBe(1);
    expect(second.get('s1')?.state).toBe('interrupted');
    expect(second.get('s1')?.body).toEqual({}); // a synchronous request's prompt is not kept
    expect(second.get('a2')).toMatchObject({ state: 'completed', result: { id: 'x' } });
    first.close();
    second.close();
  });

  it('never reopens a finished task', () => {
    const journal = TaskJournal.open(path(), { retentionMs: 86_400_000 });
    journal.accept(task('t', true));
    journal.end('t', { state: 'cancelled', attempts: 0 }, true);
    journal.end('t', { state: 'completed', attempts: 1, result: { late: true } }, true);
    journal.running('t', 2);
    expect(journal.get('t')).toMatchObject({ state: 'cancelled', result: null });
    journal.close();
  });

  it('prunes finished tasks older than the retention at open, keeps open ones', () => {
    const file = path();
    let now = 1_000_000;
    const journal = TaskJournal.open(file, { retentionMs: 1000, now: () => now });
    journal.accept(task('old', true));
    journal.accept(task('open', true));
    journal.end('old', { state: 'completed', attempts: 1 }, true);
    journal.close();
    now += 5000;
    const reopened = TaskJournal.open(file, { retentionMs: 1000, now: () => now });
    expect(reopened.get('old')).toBeNull();
    expect(reopened.get('open')?.state).toBe('queued');
    reopened.close();
  });

  it('refuses a SQLite file that is not a journal, and one from a newer release', () => {
    const foreign = path();
    const db = new Database(foreign);
    db.exec('CREATE TABLE photos (id INTEGER)');
    db.close();
    expect(() => TaskJournal.open(foreign, { retentionMs: 1 })).toThrow(
      expect.objectContaining({ code: ErrorCodes.TASK_STORE }),
    );
    const newer = path();
    const db2 = new Database(newer);
    db2.pragma('user_version = 99');
    db2.close();
    expect(() => TaskJournal.open(newer, { retentionMs: 1 })).toThrow(
      expect.objectContaining({ code: ErrorCodes.TASK_STORE }),
    );
  });

  it('writes a synchronous row within the delay: running if still open, else once in its final state', async () => {
    const file = path();
    const journal = TaskJournal.open(file, { retentionMs: 86_400_000 });
    const reader = new Database(file, { readonly: true });
    const rows = reader.prepare('SELECT id, state, attempts, finished_ms FROM tasks ORDER BY id');
    journal.accept(task('s-done', false));
    journal.accept(task('s-open', false));
    journal.end('s-done', { state: 'completed', attempts: 2 }, false);
    journal.end('s-done', { state: 'failed', attempts: 3 }, false); // a task never leaves a final state
    expect(rows.all()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, SYNC_WRITE_DELAY_MS + 20));
    expect(rows.all()).toEqual([
      { id: 's-done', state: 'completed', attempts: 2, finished_ms: expect.any(Number) },
      { id: 's-open', state: 'running', attempts: 0, finished_ms: null },
    ]);
    // Once written, its end is an update like any other.
    journal.end('s-open', { state: 'cancelled', attempts: 1 }, false);
    expect(journal.get('s-open')).toMatchObject({ state: 'cancelled', attempts: 1, body: {} });
    reader.close();
    journal.close();
  });

  it('writes queued synchronous rows before an async task, and on close', () => {
    const file = path();
    const journal = TaskJournal.open(file, { retentionMs: 86_400_000 });
    journal.accept(task('s1', false));
    journal.accept(task('a1', true));
    journal.accept(task('s2', false));
    journal.end(
      's2',
      {
        state: 'failed',
        attempts: 1,
        error: { status: 500, message: 'x', type: 't', code: null, swarmCode: 'E' },
      },
      false,
    );
    journal.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT id, state FROM tasks ORDER BY rowid').all()).toEqual([
      { id: 's1', state: 'running' },
      { id: 'a1', state: 'queued' },
      { id: 's2', state: 'failed' },
    ]);
    db.close();
  });

  it('shows an async task only to its owner, and lists each owner only its own', () => {
    const journal = TaskJournal.open(path(), { retentionMs: 86_400_000 });
    journal.accept(task('a', true, 'key_a'));
    journal.accept(task('b', true, 'key_b'));
    journal.accept(task('anon', true, null));
    journal.accept(task('sync', false, null));
    expect(journal.getAsync('a', 'key_a')?.owner).toBe('key_a');
    expect(journal.getAsync('a', 'key_b')).toBeNull();
    expect(journal.getAsync('a', null)).toBeNull();
    expect(journal.getAsync('anon', 'key_a')).toBeNull();
    expect(journal.getAsync('anon', null)?.id).toBe('anon');
    expect(journal.getAsync('sync', null)).toBeNull(); // answered on its connection, never fetched
    expect(journal.listAsync('key_a', 10).map((t) => t.id)).toEqual(['a']);
    expect(journal.listAsync('key_b', 10).map((t) => t.id)).toEqual(['b']);
    expect(journal.listAsync(null, 10).map((t) => t.id)).toEqual(['anon']);
    journal.close();
  });

  it('opens a journal of the previous release: its tasks resume, with no owner', () => {
    const file = path();
    const old = new Database(file);
    old.exec(V1_SCHEMA);
    old
      .prepare(
        `INSERT INTO tasks (id, kind, body, privacy, client, action, async, state, created_ms)
         VALUES (?, 'chat', '{"model":"m"}', 'lan', 'key-0', NULL, 1, ?, ?)`,
      )
      .run('old-open', 'queued', Date.now());
    old
      .prepare(
        `INSERT INTO tasks (id, kind, body, privacy, client, action, async, state, created_ms, finished_ms, result)
         VALUES (?, 'chat', '{"model":"m"}', 'lan', 'key-0', NULL, 1, 'completed', ?, ?, '{"id":"r"}')`,
      )
      .run('old-done', Date.now(), Date.now());
    old.pragma('user_version = 1');
    old.close();

    const journal = TaskJournal.open(file, { retentionMs: 86_400_000 });
    expect(journal.recover().resumed.map((t) => t.id)).toEqual(['old-open']);
    // No owner is known: seen without keys, by no key.
    expect(journal.getAsync('old-done', null)).toMatchObject({ owner: null, result: { id: 'r' } });
    expect(journal.getAsync('old-done', 'key_a')).toBeNull();
    journal.accept(task('new', true, 'key_a'));
    expect(journal.listAsync('key_a', 10).map((t) => t.id)).toEqual(['new']);
    journal.close();
    // Reopened, it is a current journal.
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    db.close();
    TaskJournal.open(file, { retentionMs: 86_400_000 }).close();
  });
});
