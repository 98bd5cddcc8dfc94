// The real swarmd binary (dist/) as a child process on loopback, mDNS off, for tests of
// what the daemon does with bad input. Every process started here is tracked so a test
// file can kill what is left in afterEach.
import { type ChildProcessWithoutNullStreams, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SWARMD = join(ROOT, 'dist/src/bin/swarmd.js');
export const SWARMCTL = join(ROOT, 'dist/src/bin/swarmctl.js');

/** Build dist/ once when it is missing (`npm test` builds it in pretest; a bare `vitest` may not). */
export function ensureBuilt(): void {
  if (existsSync(SWARMD) && existsSync(SWARMCTL)) return;
  // tsc emits even when some file has a type error; what matters is that the binaries exist.
  const build = spawnSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, encoding: 'utf8' });
  if (!existsSync(SWARMD) || !existsSync(SWARMCTL)) {
    throw new Error(
      `building dist/ failed (npx tsc -p .): ${build.error?.message ?? ''}${build.stdout}${build.stderr}`,
    );
  }
}

/** A private directory: HOME, XDG dirs, data dir and config file of one test's daemons. */
export interface Sandbox {
  dir: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  remove(): Promise<void>;
}

export async function createSandbox(): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmd-bad-'));
  // No SWARMD_* variable of the machine running the tests may leak into the daemon.
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('SWARMD_')),
  );
  Object.assign(env, {
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_STATE_HOME: join(dir, 'state-home'),
  });
  return { dir, dataDir: join(dir, 'state'), env, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Loopback flags: no mDNS, OS-chosen peer port, no backend probing, and an nvidia-smi that
 * does not exist (GPU facts must not depend on the machine). Later flags override these.
 */
export function loopbackFlags(sandbox: Sandbox, opts: { port?: boolean } = {}): string[] {
  return [
    '--no-mdns',
    '--peer.host',
    '127.0.0.1',
    ...(opts.port === false ? [] : ['--port', '0']),
    // Several daemons share this machine in these tests: let each gateway take a free port.
    '--gateway.port',
    '0',
    '--data-dir',
    sandbox.dataDir,
    '--backends.autoDetect',
    'false',
    '--facts.nvidiaSmi',
    join(sandbox.dir, 'no-such-nvidia-smi'),
  ];
}

/** One pino JSON log line. */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export const WARN = 40;

const live = new Set<SwarmdProcess>();

/** One swarmd child process with its output captured. */
export class SwarmdProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcessWithoutNullStreams;
  readonly startedAt = Date.now();

  /** `openFiles`: run under `ulimit -n` that low (soft and hard, so Node cannot raise it). */
  constructor(args: string[], env: NodeJS.ProcessEnv, opts: { openFiles?: number } = {}) {
    this.child =
      opts.openFiles === undefined
        ? spawn(process.execPath, [SWARMD, ...args], { cwd: ROOT, env, stdio: 'pipe' })
        : spawn(
            'bash',
            ['-c', 'ulimit -n "$0" && exec "$@"', String(opts.openFiles), process.execPath, SWARMD, ...args],
            { cwd: ROOT, env, stdio: 'pipe' },
          );
    live.add(this);
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        live.delete(this);
        resolve({ code, signal });
      }),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Wait for the `swarmd ready` log line; throws with the output when it exits first. */
  async ready(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.logs().some((line) => line.msg === 'swarmd ready')) return;
      if (!this.running)
        throw new Error(`swarmd exited before it was ready:\n${this.stdout}\n${this.stderr}`);
      await sleep(50);
    }
    throw new Error(`swarmd was not ready within ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`);
  }

  /** Wait for the process to exit (bounded); returns its code and how long it ran. */
  async exit(
    timeoutMs = 15_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const result = await Promise.race([
      this.exited,
      sleep(timeoutMs).then(() => {
        throw new Error(`swarmd did not exit within ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`);
      }),
    ]);
    return { ...result, ms: Date.now() - this.startedAt };
  }

  /** Every complete JSON log line written to stdout so far. */
  logs(): LogLine[] {
    const lines: LogLine[] = [];
    for (const text of this.stdout.split('\n')) {
      if (!text.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        // a line still being written
      }
    }
    return lines;
  }

  /** Send a signal (SIGTERM: what `systemctl --user stop` sends). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** The process id (for tests that watch it from outside). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Kill every swarmd this module started that still runs. */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((daemon) => daemon.kill()));
}

/** Run swarmctl once; never throws. */
export function swarmctl(
  socket: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SWARMCTL, '--socket', socket, ...args],
      { cwd: ROOT, timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
