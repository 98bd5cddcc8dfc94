// Run a command (argv, never a shell) to its end, with a timeout, and never let its failure reach
// the process: a spawn that fails for want of file handles (EMFILE) is a result like ENOENT.
// execa 9 is not safe there: it throws on the half-built child and leaves that child's 'error'
// event unhandled, which ended the daemon ("spawn nvidia-smi EMFILE") when file handles ran out.
import { type ChildProcess, spawn } from 'node:child_process';

/** How to run it. */
export interface RunOptions {
  /** SIGTERM after this long. */
  timeoutMs: number;
  /** SIGKILL this long after a SIGTERM the command ignored (default 2 s). */
  forceKillAfterMs?: number;
  /** Aborting it stops the command the same way as the timeout. */
  signal?: AbortSignal;
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Written to stdin, then closed; without it stdin is /dev/null. */
  input?: string;
  /** Most bytes kept of stdout and of stderr; the command is stopped when one overflows (default 16 MiB). */
  maxBuffer?: number;
  /** `env` is the whole environment: nothing of this process's is passed on. */
  envOnly?: boolean;
  /**
   * Its own process group: stopping it (timeout, cancel, overflow) signals the whole group, and
   * when the command exits, whatever it left running in the group is killed (a job step's
   * leftovers would otherwise hold its pipes open and outlive it).
   */
  group?: boolean;
}

/** How it ended. A command that could not start has `exitCode` null and `errorCode` set. */
export interface RunResult {
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  all: string;
  exitCode: number | null;
  /** The signal that ended it, if one did. */
  signal: NodeJS.Signals | null;
  /** Why it could not start or be read (ENOENT, EACCES, EMFILE, ...). */
  errorCode: string | null;
  /** A short description of that failure. */
  errorMessage: string | null;
  timedOut: boolean;
  canceled: boolean;
  /** stdout or stderr went past maxBuffer (the command was stopped). */
  overflowed: boolean;
}

const DEFAULT_MAX_BUFFER = 16 * 1024 * 1024;
const DEFAULT_FORCE_KILL_MS = 2_000;

/** Run `file` with `args`; resolves with how it ended, never rejects. */
export function runCommand(file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const all: Buffer[] = [];
    const sizes = { out: 0, err: 0 };
    const state = { timedOut: false, canceled: false, overflowed: false, settled: false };
    let child: ChildProcess;
    let timer: NodeJS.Timeout | undefined;
    let forceTimer: NodeJS.Timeout | undefined;

    const finish = (
      exitCode: number | null,
      signal: NodeJS.Signals | null,
      failure: NodeJS.ErrnoException | null,
    ): void => {
      if (state.settled) return;
      state.settled = true;
      clearTimeout(timer);
      clearTimeout(forceTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        all: Buffer.concat(all).toString('utf8'),
        exitCode,
        signal,
        errorCode: failure ? (failure.code ?? 'ERROR') : null,
        errorMessage: failure ? failure.message : null,
        timedOut: state.timedOut,
        canceled: state.canceled,
        overflowed: state.overflowed,
      });
    };

    const signalIt = (signal: NodeJS.Signals): void => {
      if (opts.group && child.pid !== undefined) killGroup(child.pid, signal);
      else child.kill(signal);
    };
    const stop = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalIt('SIGTERM');
      forceTimer ??= setTimeout(() => signalIt('SIGKILL'), opts.forceKillAfterMs ?? DEFAULT_FORCE_KILL_MS);
      forceTimer.unref();
    };
    const onAbort = (): void => {
      state.canceled = true;
      stop();
    };

    try {
      child = spawn(file, [...args], {
        cwd: opts.cwd,
        env: opts.envOnly ? (opts.env ?? {}) : opts.env ? { ...process.env, ...opts.env } : process.env,
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        detached: opts.group === true,
        windowsHide: true,
      });
    } catch (error) {
      // Bad arguments (a NUL byte in argv): thrown at once, nothing started.
      finish(null, null, error as NodeJS.ErrnoException);
      return;
    }
    // Every failure to start (ENOENT, EMFILE, ...) arrives here, on the next tick.
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) finish(null, null, error);
    });
    if (opts.group) {
      // What the command left running goes with it (and its pipes close, so 'close' comes).
      child.once('exit', () => {
        if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      });
    }
    child.on('close', (code, signal) => finish(code, signal, null));

    const maxBuffer = opts.maxBuffer ?? DEFAULT_MAX_BUFFER;
    const collect = (chunks: Buffer[], key: 'out' | 'err') => (chunk: Buffer) => {
      if (sizes[key] + chunk.length > maxBuffer) {
        state.overflowed = true;
        stop();
        return;
      }
      sizes[key] += chunk.length;
      chunks.push(chunk);
      all.push(chunk);
    };
    // After EMFILE there are no pipes: the 'error' above ends the run.
    child.stdout?.on('data', collect(out, 'out'));
    child.stderr?.on('data', collect(err, 'err'));
    if (child.stdin) {
      // A command that exits without reading its input closes the pipe: not our failure.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }

    timer = setTimeout(() => {
      state.timedOut = true;
      stop();
    }, opts.timeoutMs);
    timer.unref();
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Signal a process group; one that is gone already is fine. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing of it is left
  }
}

/** One line on why a run failed, for logs and models; null when it exited 0. */
export function describeRun(file: string, result: RunResult, timeoutMs: number): string | null {
  if (result.timedOut) return `${file} did not finish within ${timeoutMs} ms`;
  if (result.canceled) return `${file} was cancelled`;
  if (result.overflowed) return `${file} printed more than it may and was stopped`;
  if (result.errorCode === 'EMFILE' || result.errorCode === 'ENFILE') {
    return `${file} could not start: this process is out of file handles (${result.errorCode})`;
  }
  if (result.errorCode !== null) return `${file} could not start: ${result.errorMessage ?? result.errorCode}`;
  if (result.signal !== null) return `${file} was ended by ${result.signal}`;
  if (result.exitCode !== 0) return `${file} exited with code ${result.exitCode}`;
  return null;
}
