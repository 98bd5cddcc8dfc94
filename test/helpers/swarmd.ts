// One real swarmd process (the built dist/ binary) for tests: in this network namespace (on
// loopback), or inside a host of a test LAN. Signals go to the daemon's own PID, which the
// daemon reports in its log and /proc confirms runs swarmd.js, never to a wrapper (`ip netns
// exec`, taskset, a shell, npx): a test that "kills a node" must really kill swarmd.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ensureBuilt, ROOT, SWARMD } from './build.js';
import type { TestLan } from './testlan.js';
import { sleep, waitUntil } from './wait.js';

export interface SwarmdOptions {
  /** Its environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Run it inside this host of a test LAN (`ip netns exec`) rather than in this namespace. */
  lan?: { lan: TestLan; host: number };
  /** Pin it to these CPUs (`taskset -c`), e.g. "0". */
  cpus?: string;
  /** Start it under this command (argv before node's), e.g. `['nice', '-n', '10']`. */
  wrapper?: string[];
  /** Run it as another user (the security suite's unprivileged one; the tests run as root). */
  as?: { uid: number; gid: number };
}

/** How the process ended, and how long after its start. */
export interface SwarmdExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
}

/** One pino JSON log line. */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** pino's level number of a warning. */
export const WARN = 40;

const live = new Set<Swarmd>();

/** A swarmd: `start()` spawns it (again after it ended: same flags, same data dir). */
export class Swarmd {
  /** Output of the current process (reset by each start). */
  stdout = '';
  stderr = '';
  /** Wall time of the current process's spawn. */
  startedAt = 0;
  private child: ChildProcessWithoutNullStreams | undefined;
  private ended: Promise<SwarmdExit> | undefined;
  private daemonPid: number | undefined;

  constructor(
    /** swarmd's flags. */
    readonly args: string[],
    readonly options: SwarmdOptions = {},
  ) {}

  /** Spawn the daemon; does not wait until it is ready. Throws while a previous process still runs. */
  async start(): Promise<this> {
    if (this.running) throw new Error('swarmd is still running: kill or stop it before starting it again');
    await ensureBuilt();
    const { lan, cpus, wrapper = [], env = process.env, as } = this.options;
    const argv = [
      ...wrapper,
      ...(cpus ? ['taskset', '-c', cpus] : []),
      process.execPath,
      SWARMD,
      ...this.args,
    ];
    const [command, ...rest] = argv as [string, ...string[]];
    const child = lan
      ? lan.lan.exec(lan.host, command, rest, { env, cwd: ROOT })
      : spawn(command, rest, { cwd: ROOT, env, stdio: 'pipe', ...as });
    this.child = child;
    this.daemonPid = undefined;
    this.stdout = '';
    this.stderr = '';
    this.startedAt = Date.now();
    child.stdout.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    live.add(this);
    this.ended = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        live.delete(this);
        resolve({ code, signal, ms: Date.now() - this.startedAt });
      }),
    );
    return this;
  }

  /** True while the current process has not exited. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Wait for the `swarmd ready` log line and check the PID it reports; throws with the output when it exits first. */
  async ready(timeoutMs = 20_000): Promise<void> {
    await waitUntil(
      () => {
        if (this.readyLine()) return true;
        if (!this.running) throw new Error(`swarmd exited before it was ready:\n${this.output()}`);
        return false;
      },
      () => `swarmd to be ready:\n${this.output()}`,
      timeoutMs,
      50,
    );
    this.daemonPid = verifiedPid(this.readyLine()?.pid, this.output());
  }

  /** The daemon's own PID: the one its log reports (checked against /proc), else the spawned process once /proc shows it runs swarmd. */
  get pid(): number {
    if (this.daemonPid !== undefined) return this.daemonPid;
    if (!this.child?.pid) throw new Error('swarmd was never started');
    this.daemonPid = verifiedPid(this.child.pid, this.output());
    return this.daemonPid;
  }

  /** Send `signal` to the daemon itself (SIGSTOP, SIGCONT, a SIGTERM whose drain the test watches); does not wait. */
  signal(signal: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, signal);
  }

  /** SIGKILL the daemon (a crash: no goodbye) and wait until it is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGKILL');
    await this.exit();
  }

  /** SIGTERM the daemon (what `systemctl --user stop` sends) and wait for its exit. */
  async stop(timeoutMs = 15_000): Promise<SwarmdExit> {
    this.signal('SIGTERM');
    return this.exit(timeoutMs);
  }

  /** Start it again and wait until it is ready; SIGKILLs the current process first if it still runs. */
  async restart(timeoutMs = 20_000): Promise<void> {
    await this.kill();
    await this.start();
    await this.ready(timeoutMs);
  }

  /** Wait (bounded) until the daemon has exited; its exit code and how long it ran. */
  async exit(timeoutMs = 15_000): Promise<SwarmdExit> {
    if (!this.ended) throw new Error('swarmd was never started');
    const pid = this.daemonPid;
    const exit = await Promise.race([
      this.ended,
      sleep(timeoutMs).then(() => {
        throw new Error(`swarmd did not exit within ${timeoutMs} ms:\n${this.output()}`);
      }),
    ]);
    // Where the spawned process was a wrapper, the daemon itself must be gone too.
    if (pid !== undefined && pid !== this.child?.pid)
      await waitUntil(() => !alive(pid), `swarmd (pid ${pid}) to exit`, timeoutMs);
    return exit;
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

  /** The gateway base URL (`http://127.0.0.1:<port>/v1`) from the ready line. */
  gatewayUrl(): string {
    const gateway = this.readyLine()?.gateway;
    if (typeof gateway !== 'string') throw new Error(`no gateway in the ready line:\n${this.stdout}`);
    return gateway;
  }

  /** The port of the peer gRPC server, from its log line. */
  peerPort(): number {
    const port = this.logs().find((line) => line.msg === 'peer gRPC listening')?.port;
    if (typeof port !== 'number') throw new Error(`no peer port in the log:\n${this.stdout}`);
    return port;
  }

  private readyLine(): LogLine | undefined {
    return this.logs().find((line) => line.msg === 'swarmd ready');
  }

  private output(): string {
    return `${this.stdout}\n${this.stderr}`;
  }
}

/** Spawn a swarmd with these flags (not waiting until it is ready). */
export function spawnSwarmd(args: string[], options: SwarmdOptions = {}): Promise<Swarmd> {
  return new Swarmd(args, options).start();
}

/** Spawn a swarmd with these flags and wait until it is ready. */
export async function startSwarmd(args: string[], options: SwarmdOptions = {}): Promise<Swarmd> {
  const daemon = await spawnSwarmd(args, options);
  await daemon.ready();
  return daemon;
}

/** SIGKILL every swarmd this module started that still runs (for afterEach/afterAll). */
export async function killAllSwarmd(): Promise<void> {
  await Promise.all([...live].map((daemon) => daemon.kill()));
}

/** `pid` when /proc says it runs swarmd.js; otherwise a loud error (a signal there would miss the daemon). */
function verifiedPid(pid: unknown, output: string): number {
  if (typeof pid !== 'number') throw new Error(`swarmd reported no pid:\n${output}`);
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch (err) {
    throw new Error(`cannot read /proc/${pid}/cmdline to check it is swarmd: ${(err as Error).message}`);
  }
  if (!argv.some((arg) => arg === SWARMD || arg.endsWith('/swarmd.js')))
    throw new Error(`pid ${pid} is not swarmd but ${JSON.stringify(argv.filter(Boolean))}`);
  return pid;
}

function alive(pid: number): boolean {
  try {
    // A zombie (exited, not yet reaped by its wrapper) counts as gone.
    return !/\)\s+Z\s/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
