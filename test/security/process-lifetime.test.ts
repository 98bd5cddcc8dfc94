// Threat: a process started by verification outlives it, with the daemon's rights and out of
// its sight. A step's processes end with the step (its process group; under bubblewrap its
// PID namespace, which a child that makes its own session cannot leave), with a timeout, and
// with the daemon: a verification step whose child detached itself is gone once a real swarmd,
// run as an unprivileged user, is SIGKILLed mid-step. Processes are found by a marker in their
// command line, and any the test finds left over are killed by PID.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseSandbox, type Sandbox } from '../../src/jobs/io/sandbox.js';
import { runSteps } from '../../src/jobs/io/verify.js';
import type { SandboxMode } from '../../src/jobs/rules/settings.js';
import { repliesByModel } from '../fakes/scripted-replies.js';
import { waitUntil } from '../helpers/wait.js';
import { FIXED_DATE, makeRepo, type TinyRepo, wholeReply } from '../integration/jobs/tiny-repo.js';
import { FAST, UnprivilegedNode } from './unprivileged-node.js';

/** PIDs of processes whose command line holds `marker`. */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) pids.push(Number(name));
    } catch {
      // it ended while we looked
    }
  }
  return pids;
}

const markers: string[] = [];
function newMarker(): string {
  const marker = `swarmd-leftover-${randomBytes(6).toString('hex')}`;
  markers.push(marker);
  return marker;
}

/**
 * A node script that starts a child (`<marker>-child` in its command line; its own session when
 * `detached`), then runs `then`.
 */
function leaveChild(marker: string, detached: boolean, then: string): string {
  return `const { spawn } = require('node:child_process');
spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', ${JSON.stringify(`${marker}-child`)}], { detached: ${detached}, stdio: 'ignore' }).unref();
${then}`;
}

async function sandboxFor(mode: SandboxMode): Promise<Sandbox> {
  const choice = await chooseSandbox({ mode, readOnly: [] }, { home: homedir(), hidden: [] });
  if (!choice.ok) throw new Error(`no sandbox: ${choice.reason}`);
  return choice.sandbox;
}

const repos: TinyRepo[] = [];
let node: UnprivilegedNode | null = null;

afterAll(async () => {
  for (const marker of markers) for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
  await node?.stop();
  for (const repo of repos) repo.remove();
});

describe("a step's processes end with the step", () => {
  const cases: [SandboxMode, string, boolean][] = [
    ['off', 'its process group', false],
    ['auto', 'bubblewrap, even a child in its own session', true],
  ];
  for (const [mode, what, detached] of cases) {
    it(`sandbox ${mode}: ${what}, when the step exits and when it times out`, async () => {
      const repo = makeRepo({ 'README.md': 'x\n' }, { git: false });
      repos.push(repo);
      const sandbox = await sandboxFor(mode);
      const mounts = { workspace: repo.dir, readOnly: [] };
      const exits = newMarker();
      const passed = await runSteps(
        [{ name: 'exits', argv: [process.execPath, '-e', leaveChild(exits, detached, 'process.exit(0)')] }],
        { mounts, sandbox, timeoutMs: 30_000 },
      );
      expect(passed.ok).toBe(true);
      await waitUntil(() => processesWith(exits).length === 0, `no process with ${exits}`, 5_000);

      const hangs = newMarker();
      const stopped = await runSteps(
        [
          {
            name: 'hangs',
            argv: [process.execPath, '-e', leaveChild(hangs, detached, 'setInterval(() => {}, 1000)')],
          },
        ],
        { mounts, sandbox, timeoutMs: 1_500 },
      );
      expect(stopped.output).toMatch(/was stopped after 1500 ms/);
      await waitUntil(() => processesWith(hangs).length === 0, `no process with ${hangs}`, 5_000);
    });
  }
});

describe('verification dies with the daemon', () => {
  it('a step and the child it detached are gone once swarmd is SIGKILLed mid-step', async () => {
    node = new UnprivilegedNode();
    await node.start({ sandbox: { mode: 'auto', readOnly: [] }, stepTimeout: '120s' });
    const marker = newMarker();
    const repo = node.repo();
    // Fails at once on the buggy code (the baseline); on the fix, leaves a child and waits.
    repo.write(
      'verify.cjs',
      `if (!require('node:fs').readFileSync('src/date.js', 'utf8').includes('padStart')) process.exit(1);
${leaveChild(marker, true, 'setTimeout(() => process.exit(0), 120000);')}`,
    );
    repo.git('add', '-A');
    repo.git('commit', '-q', '-m', 'verify script');
    node.chown(repo.dir);
    node.fake.behave({ respond: repliesByModel({ [FAST]: [wholeReply({ 'src/date.js': FIXED_DATE })] }) });
    void node.swarmctl(['run', 'fix the date', '--repo', repo.dir, '--verify', `node verify.cjs ${marker}`]);
    // The step (`node verify.cjs <marker>`) runs, and so does the child it left.
    await waitUntil(
      () => processesWith(`${marker}-child`).length === 1,
      'the step to leave its child',
      60_000,
    );

    const jobs = JSON.parse((await node.swarmctl(['jobs', '--json'])).stdout).jobs as { id: string }[];
    await node.daemon!.kill();
    await waitUntil(() => processesWith(marker).length === 0, 'the step and its child to die', 10_000);
    // A killed daemon leaves its job's scratch dir (the next start would remove it; none comes).
    for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(`swarmd-job-${jobs[0]!.id}-`)))
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
  });
});
