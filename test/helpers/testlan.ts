// A private LAN of network namespaces for multi-node tests, built with scripts/testlan/up.sh.
// Each call picks its own namespace names, so test files running in parallel never collide.
import { type ChildProcessWithoutNullStreams, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const SCRIPTS = fileURLToPath(new URL('../../scripts/testlan/', import.meta.url));

/** One host of the test LAN. */
export interface TestLanHost {
  /** Network namespace name. */
  ns: string;
  /** Its IPv4 address on the LAN (interface veth0). */
  address: string;
}

/** A running test LAN; call destroy() in afterAll or a finally block. */
export interface TestLan {
  hosts: TestLanHost[];
  /** Spawn `cmd args` inside host `index` (0-based) with `ip netns exec`; stdio is piped. */
  exec(
    index: number,
    cmd: string,
    args: string[],
    opts?: { env?: NodeJS.ProcessEnv; cwd?: string },
  ): ChildProcessWithoutNullStreams;
  /** Run `cmd args` inside host `index` to its end; rejects with its output when it fails. */
  run(index: number, cmd: string, args: string[]): Promise<void>;
  /** End what runs inside the LAN and delete its namespaces. Safe to call twice. */
  destroy(): Promise<void>;
}

/** Why the test LAN cannot be built here, or null when it can (root and iproute2). */
export function testLanUnavailableReason(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'the test LAN needs root (network namespaces); CI runs as root';
  const ip = spawnSync('ip', ['-V'], { stdio: 'ignore' });
  if (ip.error || ip.status !== 0) return 'the `ip` command (iproute2) is missing: install iproute2';
  return null;
}

/** True when the test LAN can be built here (root and the `ip` command). */
export function testLanAvailable(): boolean {
  return testLanUnavailableReason() === null;
}

/** Throw a clear error when the test LAN cannot be built: such tests must fail, not skip. */
export function requireTestLan(): void {
  const reason = testLanUnavailableReason();
  if (reason) throw new Error(`multi-node test cannot run: ${reason}`);
}

/** Build a LAN of `hosts` namespaces (with the multicast route unless mcastRoute is false). */
export async function createTestLan(opts: { hosts: number; mcastRoute?: boolean }): Promise<TestLan> {
  requireTestLan();
  const prefix = freePrefix();
  const env = {
    ...process.env,
    PREFIX: prefix,
    BRNS: `${prefix}-br`,
    NET: `10.203.${randomInt(10, 251)}`,
    MCAST_ROUTE: opts.mcastRoute === false ? '0' : '1',
  };
  const count = String(opts.hosts);
  const children = new Set<ChildProcessWithoutNullStreams>();
  let destroyed = false;

  const down = (): Promise<void> =>
    new Promise((resolve) => {
      const child = spawn(`${SCRIPTS}down.sh`, [count], { env, stdio: 'ignore' });
      child.once('error', () => resolve());
      child.once('exit', () => resolve());
    });

  await new Promise<void>((resolve, reject) => {
    const child = spawn(`${SCRIPTS}up.sh`, [count], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`scripts/testlan/up.sh failed (${code}): ${stderr.trim()}`)),
    );
  });

  const hosts = Array.from({ length: opts.hosts }, (_, i) => ({
    ns: `${prefix}${i + 1}`,
    address: `${env.NET}.${i + 1}`,
  }));

  const lan: TestLan = {
    hosts,
    exec(index, cmd, args, execOpts = {}) {
      const host = hosts[index];
      if (!host) throw new Error(`no host ${index} in a test LAN of ${hosts.length}`);
      const child = spawn('ip', ['netns', 'exec', host.ns, cmd, ...args], {
        env: execOpts.env ?? process.env,
        cwd: execOpts.cwd,
        stdio: 'pipe',
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    run(index, cmd, args) {
      const child = lan.exec(index, cmd, args);
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      return new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${output}`)),
        );
      });
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      // Ask politely first so processes can send their mDNS goodbyes; down.sh kills the rest.
      for (const child of children) child.kill('SIGTERM');
      await Promise.race([
        Promise.all([...children].map((c) => new Promise((resolve) => c.once('exit', resolve)))),
        new Promise((resolve) => setTimeout(resolve, 2000)),
      ]);
      await down();
    },
  };
  return lan;
}

// A prefix such as "t3f9a" that no existing namespace uses, so up.sh's clean-up of stale
// namespaces of the same names can never touch another test's LAN.
export function freePrefix(): string {
  const existing = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const names = new Set(existing.split('\n').map((line) => line.split(' ')[0]));
  for (;;) {
    const prefix = `t${randomBytes(2).toString('hex')}`;
    if (![...names].some((name) => name?.startsWith(prefix))) return prefix;
  }
}
