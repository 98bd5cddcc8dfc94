// A real swarmd process (the built dist/ binary) inside one host of a test LAN, with a
// fake Ollama and a fake nvidia-smi beside it, and swarmctl to read its view.
import { type ChildProcess, execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { NodesJson } from '../../src/cli/json.js';
import type { TestLan } from './testlan.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SWARMD = join(ROOT, 'dist/src/bin/swarmd.js');
const SWARMCTL = join(ROOT, 'dist/src/bin/swarmctl.js');
const run = promisify(execFile);

export interface SwarmNodeOptions {
  name: string;
  gpuName: string;
  models: string[];
  loaded: string[];
  /** Extra swarmd flags. */
  flags?: string[];
  /** How the fake Ollama answers (default: a short reply at once). */
  backend?: { reply?: string; firstTokenDelayMs?: number; tokenDelayMs?: number };
  /** Pin swarmd to these CPUs (`taskset -c`), e.g. "0". */
  cpus?: string;
  /** No model server on this host: the node only coordinates (default false). */
  noBackend?: boolean;
}

/** One line of the fake backend's generation log. */
export interface GenerationLine {
  event: 'start' | 'end';
  requestId: string | null;
  model: string | null;
  completed?: boolean;
  aborted?: boolean;
  /** ms epoch. */
  at: number;
}

/** One swarmd in the LAN. `start()` may be called again after a kill (same data dir, same id). */
export class SwarmNode {
  readonly dataDir: string;
  readonly socket: string;
  readonly log: string[] = [];
  private daemon: ChildProcess | undefined;
  private backend: ChildProcess | undefined;

  private constructor(
    private readonly lan: TestLan,
    private readonly index: number,
    private readonly options: SwarmNodeOptions,
    private readonly dir: string,
  ) {
    this.dataDir = join(dir, 'state');
    this.socket = join(this.dataDir, 'control.sock');
  }

  /** Prepare the node's directory, fake nvidia-smi and fake Ollama (not started yet). */
  static async create(lan: TestLan, index: number, options: SwarmNodeOptions): Promise<SwarmNode> {
    const dir = await mkdtemp(join(tmpdir(), `swarmd-e2e-${options.name}-`));
    const smi = join(dir, 'nvidia-smi');
    await writeFile(
      smi,
      `#!/bin/sh\necho "0, ${options.gpuName}, GPU-5b9c2f7e-1a2b-3c4d-5e6f-0123456789a${index}, 24564, 1234, 22910, 17, 45, [N/A]"\n`,
    );
    await chmod(smi, 0o755);
    const node = new SwarmNode(lan, index, options, dir);
    if (!options.noBackend) await node.startBackend();
    return node;
  }

  private startBackend(): Promise<void> {
    const child = this.lan.exec(
      this.index,
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'test/fakes/serve-ollama.ts'),
        '--port',
        '11434',
        '--models',
        this.options.models.join(','),
        '--loaded',
        this.options.loaded.join(','),
        '--log',
        this.generationLog,
        ...(this.options.backend?.reply !== undefined ? ['--reply', this.options.backend.reply] : []),
        '--first-token-delay-ms',
        String(this.options.backend?.firstTokenDelayMs ?? 0),
        '--token-delay-ms',
        String(this.options.backend?.tokenDelayMs ?? 0),
      ],
      { cwd: ROOT },
    );
    this.backend = child;
    return new Promise((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`fake ollama exited with ${code}`)));
    });
  }

  /** Start swarmd; resolves once it logs `swarmd ready` (bounded by `timeoutMs`). */
  async start(timeoutMs = 20_000): Promise<void> {
    this.log.length = 0;
    const pin = this.options.cpus ? ['-c', this.options.cpus, process.execPath] : [];
    const child = this.lan.exec(
      this.index,
      this.options.cpus ? 'taskset' : process.execPath,
      [
        ...pin,
        SWARMD,
        '--data-dir',
        this.dataDir,
        '--name',
        this.options.name,
        '--facts.nvidiaSmi',
        join(this.dir, 'nvidia-smi'),
        '--backends.probeInterval',
        '1s',
        ...(this.options.noBackend ? ['--backends.autoDetect', 'false'] : []),
        ...(this.options.flags ?? []),
      ],
      { env: this.env() },
    );
    this.daemon = child;
    child.stdout.on('data', (chunk: Buffer) => this.log.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => this.log.push(chunk.toString()));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(`swarmd ${this.options.name} exited: ${this.log.join('')}`);
      if (this.log.join('').includes('swarmd ready')) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`swarmd ${this.options.name} did not become ready: ${this.log.join('')}`);
  }

  /** Where the fake backend logs each generation's start and end (JSON lines). */
  get generationLog(): string {
    return join(this.dir, 'generations.jsonl');
  }

  /** The fake backend's generation log so far. */
  async generations(): Promise<GenerationLine[]> {
    const text = await readFile(this.generationLog, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as GenerationLine);
  }

  /** The daemon's PID (inside the namespace, as seen from here). */
  get pid(): number | undefined {
    return this.daemon?.pid;
  }

  /**
   * The PID of the swarmd process itself, checked in /proc: `ip netns exec` and `taskset` exec
   * their command, so the spawned PID must now run node with swarmd's entry point, not a
   * wrapper or a shell (a signal to a wrapper would not reach the daemon).
   */
  daemonPid(): number {
    const pid = this.daemon?.pid;
    if (pid === undefined || !running(this.daemon)) throw new Error(`${this.options.name} is not running`);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv[0] !== process.execPath || argv[1] !== SWARMD)
      throw new Error(`PID ${pid} is not swarmd itself but ${JSON.stringify(argv.slice(0, 3))}`);
    return pid;
  }

  /** SIGKILL the daemon's own PID (checked first) and wait for it to exit. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** Send a signal to the daemon's own PID (checked) and, for SIGKILL/SIGTERM, wait for the exit. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.daemon;
    if (!running(child)) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(this.daemonPid(), signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await exited;
  }

  /** True while the daemon process runs (a stopped one included). */
  get running(): boolean {
    return running(this.daemon);
  }

  /** `swarmctl nodes --json` against this node's socket. */
  async nodes(): Promise<NodesJson> {
    const { stdout } = await run(process.execPath, [SWARMCTL, '--socket', this.socket, 'nodes', '--json'], {
      timeout: 10_000,
    });
    return JSON.parse(stdout) as NodesJson;
  }

  /** Run any swarmctl command against this node; returns exit code and output. */
  async swarmctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [SWARMCTL, '--socket', this.socket, ...args], {
        timeout: 15_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const failure = err as { code?: number; stdout?: string; stderr?: string };
      return { code: failure.code ?? -1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
    }
  }

  /** `swarmctl init` on this node's data dir (no daemon needed); returns the join token. */
  async init(): Promise<string> {
    const { stdout } = await run(process.execPath, [SWARMCTL, '--data-dir', this.dataDir, 'init'], {
      timeout: 20_000,
      env: this.env(),
    });
    return stdout.trim();
  }

  /** `swarmctl join <token>` on this node's data dir (works with or without the daemon running). */
  async join(token: string): Promise<void> {
    await run(process.execPath, [SWARMCTL, '--data-dir', this.dataDir, 'join', token], {
      timeout: 20_000,
      env: this.env(),
    });
  }

  /** Environment of this node's processes (its own HOME, so no real config is read). */
  env(): NodeJS.ProcessEnv {
    return { ...process.env, HOME: this.dir, XDG_CONFIG_HOME: join(this.dir, 'config') };
  }

  /** Index of this node's host in the LAN. */
  get host(): number {
    return this.index;
  }

  /** Kill everything this node started and remove its files. */
  async destroy(): Promise<void> {
    for (const child of [this.daemon, this.backend]) {
      if (running(child)) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Poll `swarmctl nodes --json` on `observer` until `check` holds; throws with the last view after the bound. */
export async function untilView(
  observer: SwarmNode,
  check: (view: NodesJson) => boolean,
  boundMs: number,
  what: string,
): Promise<NodesJson> {
  const start = Date.now();
  let last: NodesJson | undefined;
  while (Date.now() - start < boundMs) {
    last = await observer.nodes();
    if (check(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const seen = last?.nodes.map((n) => [n.name, n.state, n.problem]);
  throw new Error(`timed out after ${boundMs} ms waiting for ${what}; last view: ${JSON.stringify(seen)}`);
}

/** A child that has not exited (a child killed by a signal has a null exitCode too). */
function running(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}
