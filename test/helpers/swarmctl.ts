// swarmctl as a user runs it: the built binary in a child process, its output captured.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { ensureBuilt, ROOT, SWARMCTL } from './build.js';

/** How one swarmctl run ended: its exit code (null when a signal or the time limit ended it). */
export interface SwarmctlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SwarmctlOptions {
  /** Its environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Text written to its stdin (default: nothing; stdin is closed at once). */
  input?: string;
  /** Killed (SIGKILL) after this long, default 60 s; `code` is then null. */
  timeoutMs?: number;
  /** Run it as another user (the security suite's unprivileged one; the tests run as root). */
  as?: { uid: number; gid: number };
}

/** A swarmctl still running: its child process and the output so far. */
export interface RunningSwarmctl {
  child: ChildProcessWithoutNullStreams;
  /** Output so far (complete once `done` resolves). */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when it has exited; never rejects. */
  done: Promise<SwarmctlResult>;
}

/** Run `swarmctl <args>` to its end; never throws (a failure is in `code` and `stderr`). */
export async function swarmctl(args: string[], options: SwarmctlOptions = {}): Promise<SwarmctlResult> {
  return (await startSwarmctl(args, options)).done;
}

/** Start `swarmctl <args>` and return at once, for tests that read it as it runs or signal it. */
export async function startSwarmctl(args: string[], options: SwarmctlOptions = {}): Promise<RunningSwarmctl> {
  await ensureBuilt();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = spawn(process.execPath, [SWARMCTL, ...args], {
    cwd: ROOT,
    env: options.env ?? process.env,
    stdio: 'pipe',
    ...options.as,
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString();
  });
  child.stdin.on('error', () => undefined); // it may exit before reading its input
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => {
    output.stderr += `\n[swarmctl ${args.join(' ')} killed after ${timeoutMs} ms]`;
    child.kill('SIGKILL');
  }, timeoutMs);
  const done = new Promise<SwarmctlResult>((resolve) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout: output.stdout, stderr: `${output.stderr}${err.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...output });
    });
  });
  return {
    child,
    get stdout() {
      return output.stdout;
    },
    get stderr() {
      return output.stderr;
    },
    done,
  };
}
