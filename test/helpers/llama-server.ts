// A real llama.cpp llama-server for the tests of test/real/: the binary the `real` project's global
// setup built (scripts/build-llama-server.sh), on 127.0.0.1, serving the 1.7 MB random-weights
// model of ../shared/models (single-model mode) or, in router mode, a --models-dir of copies of it
// under other names. Every server is ended by its PID (and its router children by theirs).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The tiny model: llama architecture, 32,000-token vocabulary, random weights, trained context 4096. */
export const TINY_MODEL = resolve(ROOT, '../shared/models/llama-2-tiny-random.gguf');

/** The built llama-server (from the global setup's cache directory). */
export function llamaServerBinary(): string {
  return join(inject('llamaServerDir'), 'bin/llama-server');
}

/** The tiny model's path; a clear error when the checkout has no ../shared/models beside it. */
export function tinyModel(): string {
  if (!existsSync(TINY_MODEL)) {
    throw new Error(
      `the real-server tests need the model ${TINY_MODEL} (../shared/models/llama-2-tiny-random.gguf ` +
        'beside the checkout); put the shared folder there',
    );
  }
  return TINY_MODEL;
}

/** How to start one server. */
export interface LlamaServerOptions {
  /** --alias: the model id clients send (single-model mode). */
  alias?: string;
  /** -c: total context, split over the slots. */
  ctx?: number;
  /** -np: parallel slots. */
  parallel?: number;
  apiKey?: string;
  /** Router mode: serve every GGUF of this directory instead of one model. */
  modelsDir?: string;
  /** A fixed port (a restart on the port of an earlier server); a free one when absent. */
  port?: number;
  extraArgs?: string[];
}

const live = new Set<LlamaServer>();

/** One llama-server process. */
export class LlamaServer {
  output = '';
  readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly args: string[],
  ) {
    live.add(this);
    const keep = (chunk: Buffer) => {
      // The last 64 KB are enough to say why a test failed.
      this.output = (this.output + chunk.toString()).slice(-65_536);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((done) => child.once('exit', () => done()));
    void this.exited.then(() => live.delete(this));
  }

  /** Start a server and wait until /health answers 200. */
  static async start(options: LlamaServerOptions = {}): Promise<LlamaServer> {
    const port = options.port ?? (await freePort());
    const args = [
      ...(options.modelsDir ? ['--models-dir', options.modelsDir] : ['-m', tinyModel()]),
      ...(options.alias ? ['--alias', options.alias] : []),
      ...['--host', '127.0.0.1', '--port', String(port)],
      ...['-c', String(options.ctx ?? 512), '-np', String(options.parallel ?? 2)],
      // One compute thread: the model is tiny and the test machine's cores are shared.
      ...['-t', '1'],
      // The model carries no chat template; llama-server's ChatML fallback then puts
      // `<|im_start|>`, no token of this vocabulary, into every grammar, and structured output
      // fails with 400 "Failed to initialize samplers". Llama 2's own template has no such text.
      ...['--chat-template', 'llama2'],
      ...(options.apiKey ? ['--api-key', options.apiKey] : []),
      ...(options.extraArgs ?? []),
    ];
    const child = spawn(llamaServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new LlamaServer(child, port, args);
    try {
      await server.waitHealthy();
    } catch (err) {
      await server.kill();
      throw err;
    }
    return server;
  }

  /** http://127.0.0.1:<port> (no /v1). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Poll /health until 200; throws with the server's output when it exits or takes too long. */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`llama-server ${this.args.join(' ')} exited:\n${this.output}`);
      const status = await fetch(`${this.url}/health`)
        .then((res) => res.status)
        .catch(() => 0);
      if (status === 200) return;
      await sleep(50);
    }
    throw new Error(`llama-server was not healthy within ${timeoutMs} ms:\n${this.output}`);
  }

  /** GET a JSON route (with the key when the server has one). */
  async getJson<T>(path: string): Promise<T> {
    const key = this.keyHeader();
    const res = await fetch(`${this.url}${path}`, key ? { headers: key } : {});
    if (!res.ok) throw new Error(`GET ${path} → HTTP ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** The slots of /slots: which are generating now. */
  async busySlots(): Promise<number> {
    const slots = await this.getJson<Array<{ is_processing?: boolean }>>('/slots');
    return slots.filter((slot) => slot.is_processing === true).length;
  }

  /** SIGTERM, then SIGKILL when it lingers; router children go with it. */
  async stop(): Promise<void> {
    await this.end('SIGTERM');
  }

  /** SIGKILL at once (a crash), children included. */
  async kill(): Promise<void> {
    await this.end('SIGKILL');
  }

  private keyHeader(): Record<string, string> | null {
    const at = this.args.indexOf('--api-key');
    return at >= 0 ? { authorization: `Bearer ${this.args[at + 1]}` } : null;
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    if (!this.running) return;
    // Router mode runs one child llama-server per loaded model: ours too, ended by PID.
    const children = await childPids(this.pid);
    this.child.kill(signal);
    const gone = await Promise.race([this.exited.then(() => true), sleep(3000).then(() => false)]);
    if (!gone) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone with its parent
      }
    }
  }
}

/** Stop every server this module started that still runs (afterAll / afterEach of a test file). */
export async function stopAllLlamaServers(): Promise<void> {
  await Promise.all([...live].map((server) => server.kill()));
}

/** A router --models-dir holding the tiny model under each name (`<name>.gguf`); removed by the returned function. */
export async function routerModelsDir(names: string[]): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-models-'));
  await mkdir(dir, { recursive: true });
  for (const name of names) await copyFile(tinyModel(), join(dir, `${name}.gguf`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

// The direct children of a process, from /proc (Linux).
async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
