// The security suite's node: a real swarmd run as an unprivileged user made with useradd (CI
// runs as root, and a sandbox shown to hold for root shows little), with a fake
// OPENAI_API_KEY in its environment and a gateway API key in its config file
// (~/.local/swarmd.yaml), its home, default data dir (~/.local/state/swarmd) and the
// test repositories owned by that user under /var/tmp (out of /tmp, which the sandbox covers
// anyway, so what hides them is the sandbox's own rule), a scripted fake Ollama on loopback,
// and swarmctl run as that user.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FakeOllama } from '../fakes/ollama.js';
import { lastUserText } from '../fakes/scripted-replies.js';
import { type SwarmctlResult, swarmctl } from '../helpers/swarmctl.js';
import { type Swarmd, startSwarmd } from '../helpers/swarmd.js';
import { sleep } from '../helpers/wait.js';
import { makeRepo, type TinyRepo } from '../integration/jobs/tiny-repo.js';

/** The user every node of the suite runs as. */
export const SUITE_USER = 'swarmd-sec';
export const FAST = 'small:1b';

/** uid and gid of SUITE_USER, made with useradd the first time. Needs root. */
export function suiteUser(): { uid: number; gid: number } {
  if (process.getuid?.() !== 0) {
    throw new Error(
      `the security suite runs swarmd as an unprivileged user it makes with useradd (${SUITE_USER}): run it as root, as CI does`,
    );
  }
  const id = (flag: string) => spawnSync('id', [flag, SUITE_USER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    // Another test file may make it at the same moment: only the id afterwards counts.
    spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SUITE_USER]);
  }
  const uid = id('-u');
  if (uid.status !== 0) throw new Error(`useradd ${SUITE_USER} failed; is useradd (passwd) installed?`);
  return { uid: Number(uid.stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

/** One swarmd as SUITE_USER, with what the tests plant canaries in. */
export class UnprivilegedNode {
  readonly user = suiteUser();
  /** Everything of this node: home, repositories, canaries. */
  readonly root = mkdtempSync('/var/tmp/swarmd-sec-');
  readonly home = join(this.root, 'home');
  readonly dataDir = join(this.home, '.local', 'state', 'swarmd');
  readonly socket = join(this.dataDir, 'control.sock');
  /** A fake API key in the daemon's environment: no prompt may ever carry it. */
  readonly secret = `sk-canary-${randomBytes(12).toString('hex')}`;
  /** A gateway API key in the config file: no prompt may ever carry it either. */
  readonly gatewayKey = `gateway-canary-${randomBytes(12).toString('hex')}`;
  readonly configFile = join(this.home, '.local', 'swarmd.yaml');
  readonly fake = new FakeOllama({ models: [{ name: FAST }], loaded: [{ name: FAST }] });
  daemon: Swarmd | null = null;
  private readonly env: NodeJS.ProcessEnv;
  private readonly repos: TinyRepo[] = [];

  constructor() {
    mkdirSync(this.home);
    this.env = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: 'C.UTF-8',
      HOME: this.home,
      OPENAI_API_KEY: this.secret,
    };
  }

  /**
   * Start the daemon with `jobs` as its jobs section (and `path` as its PATH, when given);
   * resolves once the fake's model is routable.
   */
  async start(jobs: Record<string, unknown>, path?: string): Promise<void> {
    if (path !== undefined) this.env.PATH = path;
    const { url } = await this.fake.start();
    mkdirSync(dirname(this.configFile), { recursive: true });
    writeFileSync(
      this.configFile,
      JSON.stringify({
        gateway: { apiKeys: [this.gatewayKey] },
        routing: { tiers: { fast: [FAST], deep: [FAST] }, fallback: [] },
        jobs,
      }),
    );
    this.chown(this.root);
    this.daemon = await startSwarmd(
      [
        '--config',
        this.configFile,
        '--no-mdns',
        '--peer.host',
        '127.0.0.1',
        '--port',
        '0',
        '--gateway.port',
        '0',
        '--backends.autoDetect',
        'false',
        '--facts.nvidiaSmi',
        join(this.root, 'no-such-nvidia-smi'),
        '--name',
        'owner',
        '--backend',
        url,
      ],
      { env: this.env, as: this.user },
    );
    for (let i = 0; i < 100; i++) {
      if ((await this.swarmctl(['models', '--json'])).stdout.includes(FAST)) return;
      await sleep(100);
    }
    throw new Error(`the fake's model never became routable:\n${this.daemon.stdout}`);
  }

  /** swarmctl as the node's user; never throws. */
  swarmctl(args: string[], timeout = 120_000): Promise<SwarmctlResult> {
    return swarmctl(['--data-dir', this.dataDir, ...args], {
      env: this.env,
      timeoutMs: timeout,
      as: this.user,
    });
  }

  /** A job with --json: its exit code and report. */
  async run(args: string[]): Promise<{ code: number | null; report: Record<string, unknown> }> {
    const out = await this.swarmctl(['run', ...args, '--json']);
    if (!out.stdout.startsWith('{'))
      throw new Error(`swarmctl run printed no report:\n${out.stdout}\n${out.stderr}`);
    return { code: out.code, report: JSON.parse(out.stdout) };
  }

  /** A git repository of the node's user (see makeRepo), under this node's root. */
  repo(files?: Record<string, string>): TinyRepo {
    const parent = join(this.root, 'repos');
    mkdirSync(parent, { recursive: true });
    const repo = makeRepo(files, { parent });
    this.repos.push(repo);
    this.chown(parent);
    return repo;
  }

  /** Give `path` (recursively) to the node's user. */
  chown(path: string): void {
    execFileSync('chown', ['-R', `${this.user.uid}:${this.user.gid}`, path]);
  }

  /** The user messages the fake was sent since call number `from`. */
  prompts(from = 0): string[] {
    return this.fake.generations.slice(from).map(lastUserText);
  }

  async stop(): Promise<void> {
    await this.daemon?.kill();
    await this.fake.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}
