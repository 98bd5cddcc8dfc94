// A real swarmd (the one driver, helpers/swarmd.ts) inside one host of a test LAN, with a fake
// Ollama and a fake nvidia-smi beside it, and swarmctl to read its view.
import type { ChildProcess } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodesJson } from '../../src/cli/json.js';
import { ROOT } from './build.js';
import { createSandbox, type Sandbox } from './sandbox.js';
import type { SwarmctlResult } from './swarmctl.js';
import { Swarmd } from './swarmd.js';
import type { TestLan } from './testlan.js';
import { waitUntil } from './wait.js';

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
  /** No fake model server, and no auto-detection: a node that only coordinates. */
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
  /** The daemon: its pid, signals, restart and log (see helpers/swarmd.ts). */
  readonly daemon: Swarmd;
  private backend: ChildProcess | undefined;

  private constructor(
    private readonly lan: TestLan,
    /** Index of this node's host in the LAN. */
    readonly host: number,
    private readonly options: SwarmNodeOptions,
    private readonly box: Sandbox,
  ) {
    this.daemon = new Swarmd(
      [
        '--data-dir',
        box.dataDir,
        '--name',
        options.name,
        '--facts.nvidiaSmi',
        join(box.dir, 'nvidia-smi'),
        '--backends.probeInterval',
        '1s',
        ...(options.noBackend ? ['--backends.autoDetect', 'false'] : []),
        ...(options.flags ?? []),
      ],
      { env: box.env, lan: { lan, host }, ...(options.cpus && { cpus: options.cpus }) },
    );
  }

  /** Prepare the node's directory, fake nvidia-smi and fake Ollama (swarmd not started yet). */
  static async create(lan: TestLan, index: number, options: SwarmNodeOptions): Promise<SwarmNode> {
    const box = await createSandbox(`swarmd-e2e-${options.name}-`);
    const smi = join(box.dir, 'nvidia-smi');
    await writeFile(
      smi,
      `#!/bin/sh\necho "0, ${options.gpuName}, GPU-5b9c2f7e-1a2b-3c4d-5e6f-0123456789a${index}, 24564, 1234, 22910, 17, 45, [N/A]"\n`,
    );
    await chmod(smi, 0o755);
    const node = new SwarmNode(lan, index, options, box);
    if (!options.noBackend) await node.startBackend();
    return node;
  }

  private startBackend(): Promise<void> {
    const child = this.lan.exec(
      this.host,
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

  /** Start swarmd (again, after a kill: same data dir and id); resolves once it is ready. */
  async start(timeoutMs = 20_000): Promise<void> {
    await this.daemon.restart(timeoutMs);
  }

  /** The daemon's own PID (checked by the driver to be swarmd itself, never a wrapper). */
  daemonPid(): number {
    const pid = this.daemon.pid;
    if (pid === undefined || !this.daemon.running) throw new Error(`${this.options.name} is not running`);
    return pid;
  }

  /** SIGKILL the daemon's own PID and wait for it to exit. */
  kill(): Promise<void> {
    return this.daemon.kill();
  }

  /** Signal the daemon's own PID; SIGKILL and SIGTERM wait for the exit. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    if (!this.daemon.running) return;
    if (signal === 'SIGKILL') await this.daemon.kill();
    else if (signal === 'SIGTERM') await this.daemon.stop();
    else this.daemon.signal(signal);
  }

  /** True while the daemon process runs (a stopped one included). */
  get running(): boolean {
    return this.daemon.running;
  }

  /** This node's data dir. */
  get dataDir(): string {
    return this.box.dataDir;
  }

  /** Where the fake backend logs each generation's start and end (JSON lines). */
  get generationLog(): string {
    return join(this.box.dir, 'generations.jsonl');
  }

  /** The fake backend's generation log so far. */
  async generations(): Promise<GenerationLine[]> {
    const text = await readFile(this.generationLog, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as GenerationLine);
  }

  /**
   * Load `model` on the fake Ollama as `ollama run` would (POST /api/generate with no prompt);
   * resolves with the wall time (ms epoch) the server answered.
   */
  loadModel(model: string): Promise<number> {
    const script = `const res = await fetch('http://127.0.0.1:11434/api/generate', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: ${JSON.stringify(model)} }) });
    const at = Date.now();
    if (!res.ok) { console.error(res.status, await res.text()); process.exit(1); }
    console.log(at);`;
    const child = this.lan.exec(this.host, process.execPath, ['--input-type=module', '-e', script]);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    return new Promise((resolve, reject) =>
      child.once('exit', (code) =>
        code === 0
          ? resolve(Number(out.trim()))
          : reject(new Error(`loading ${model} failed (${code}): ${err}`)),
      ),
    );
  }

  /** `swarmctl nodes --json` against this node; throws when swarmctl fails. */
  async nodes(): Promise<NodesJson> {
    const out = await this.swarmctl(['nodes', '--json'], 10_000);
    if (out.code !== 0) throw new Error(`swarmctl nodes failed (${out.code}): ${out.stderr}`);
    return JSON.parse(out.stdout) as NodesJson;
  }

  /** Run any swarmctl command as this node's user (its environment and data dir); never throws. */
  swarmctl(args: string[], timeoutMs = 20_000): Promise<SwarmctlResult> {
    return this.box.swarmctl(args, { timeoutMs });
  }

  /** `swarmctl init` on this node's data dir (no daemon needed); returns the join token. */
  async init(): Promise<string> {
    return (await this.succeeded(['init'])).trim();
  }

  /** `swarmctl join <token>` on this node's data dir (works with or without the daemon running). */
  async join(token: string): Promise<void> {
    await this.succeeded(['join', token]);
  }

  /** Kill everything this node started and remove its files. */
  async destroy(): Promise<void> {
    await this.daemon.kill();
    const backend = this.backend;
    if (backend && backend.exitCode === null && backend.signalCode === null) {
      const exited = new Promise((resolve) => backend.once('exit', resolve));
      backend.kill('SIGKILL');
      await exited;
    }
    await this.box.remove();
  }

  private async succeeded(args: string[]): Promise<string> {
    const out = await this.swarmctl(args);
    if (out.code !== 0) throw new Error(`swarmctl ${args[0]} failed (${out.code}): ${out.stderr}`);
    return out.stdout;
  }
}

/** Poll `swarmctl nodes --json` on `observer` until `check` holds; throws with the last view after the bound. */
export async function untilView(
  observer: SwarmNode,
  check: (view: NodesJson) => boolean,
  boundMs: number,
  what: string,
): Promise<NodesJson> {
  let last: NodesJson | undefined;
  await waitUntil(
    async () => {
      last = await observer.nodes();
      return check(last);
    },
    () => `${what}; last view: ${JSON.stringify(last?.nodes.map((n) => [n.name, n.state, n.problem]))}`,
    boundMs,
    100,
  );
  return last!;
}
