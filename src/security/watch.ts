// Lets a running daemon pick up `swarmctl init/join` (and rotations) without a restart. fs.watch is
// quick but misses events on some filesystems and cannot watch a dir that does not exist yet, so a
// slow poll backs it up; both only trigger a read, and onChange fires only when the bytes change.
import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { credentialsPath, swarmDir } from './store-file.js';

/** Timing of watchCredentials; the defaults suit a daemon. */
export interface WatchCredentialsOptions {
  /** Quiet time after a filesystem event before reading (a rename comes as a burst). Default 100 ms. */
  debounceMs?: number;
  /** Fallback poll interval. Default 5 s. */
  pollMs?: number;
  /** Called if onChange throws; by default the error is rethrown as uncaught so bugs are not hidden. */
  onError?: (err: unknown) => void;
}

function digestOf(text: string | null): string {
  return text === null ? 'absent' : createHash('sha256').update(text).digest('hex');
}

function readNowSync(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // Missing or unreadable reads as "no credentials", the same as the async check below.
    return null;
  }
}

/**
 * Call onChange whenever `<dataDir>/swarm/credentials.json` appears, changes or disappears (then call
 * loadCredentials). Works when the data dir does not exist yet. Returns a function that stops watching.
 */
export function watchCredentials(
  dataDir: string,
  onChange: () => void,
  options: WatchCredentialsOptions = {},
): () => void {
  const debounceMs = options.debounceMs ?? 100;
  const pollMs = options.pollMs ?? 5000;
  const onError =
    options.onError ??
    ((err: unknown) => {
      queueMicrotask(() => {
        throw err;
      });
    });
  const file = credentialsPath(dataDir);
  const dir = swarmDir(dataDir);
  let last = digestOf(readNowSync(file));
  let stopped = false;
  let running = false;
  let again = false;
  let debounce: NodeJS.Timeout | undefined;
  let dirWatcher: { watcher: FSWatcher; ino: number } | undefined;
  let parentWatcher: FSWatcher | undefined;

  const schedule = (): void => {
    if (stopped) return;
    clearTimeout(debounce);
    debounce = setTimeout(() => void check(), debounceMs);
    debounce.unref();
  };

  const tryWatch = (path: string): FSWatcher | undefined => {
    try {
      const watcher = watch(path, { persistent: false }, schedule);
      // A watched dir that is deleted errors; the poll re-arms once it is back.
      watcher.on('error', () => {
        watcher.close();
        if (dirWatcher?.watcher === watcher) dirWatcher = undefined;
        if (parentWatcher === watcher) parentWatcher = undefined;
        schedule();
      });
      return watcher;
    } catch {
      // The path does not exist (yet) or cannot be watched: the poll covers it.
      return undefined;
    }
  };

  // Watch swarm/ when it exists (re-arming if it was replaced), otherwise the data dir to see it appear.
  const arm = async (): Promise<void> => {
    const ino = await stat(dir).then(
      (s) => s.ino,
      () => null,
    );
    if (stopped) return;
    if (dirWatcher && dirWatcher.ino !== ino) {
      dirWatcher.watcher.close();
      dirWatcher = undefined;
    }
    if (!dirWatcher && ino !== null) {
      const watcher = tryWatch(dir);
      if (watcher) dirWatcher = { watcher, ino };
    }
    if (dirWatcher) {
      parentWatcher?.close();
      parentWatcher = undefined;
    } else if (!parentWatcher) {
      parentWatcher = tryWatch(dataDir);
    }
  };

  const check = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await arm();
        const text = await readFile(file, 'utf8').catch(() => null);
        const digest = digestOf(text);
        if (stopped) return;
        if (digest !== last) {
          last = digest;
          try {
            onChange();
          } catch (err) {
            onError(err);
          }
        }
      } while (again && !stopped);
    } finally {
      running = false;
    }
  };

  const poll = setInterval(() => void check(), pollMs);
  poll.unref();
  // Arming goes through check so that only one arm() runs at a time.
  void check();

  return () => {
    stopped = true;
    clearTimeout(debounce);
    clearInterval(poll);
    dirWatcher?.watcher.close();
    parentWatcher?.close();
    dirWatcher = undefined;
    parentWatcher = undefined;
  };
}
