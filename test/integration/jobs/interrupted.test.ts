// A job whose daemon stops under it: SIGKILLed mid-verification, the job reads `interrupted`
// (not `running`) after a restart, and the restarted daemon removes the job's scratch dir (the
// user's repository never held a worktree of it); a SIGTERMed daemon ends its
// running job `interrupted` too (not `cancelled`). Real swarmd on loopback (mDNS off), a
// scripted fake Ollama, a real git repository whose verification is slow only for the fix.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeOllama } from '../../fakes/ollama.js';
import { repliesByModel } from '../../fakes/scripted-replies.js';
import { startInBox } from '../../helpers/loopback-swarm.js';
import { createSandbox, type Sandbox, writeConfig } from '../../helpers/sandbox.js';
import { killAllSwarmd, type Swarmd } from '../../helpers/swarmd.js';
import { waitUntil } from '../../helpers/wait.js';
import { FIXED_DATE, makeRepo, type TinyRepo, wholeReply } from './tiny-repo.js';

const FAST = 'small:1b';

let box: Sandbox;
let fake: FakeOllama;
let config: string;
let url: string;
const repos: TinyRepo[] = [];
/** Verification processes the tests made (recorded by their own pid files), killed at the end. */
const pidFiles: string[] = [];

/** Start the daemon and wait until it routes to the fast model. */
async function startDaemon(): Promise<Swarmd> {
  const daemon = await startInBox(box, ['--config', config, '--name', 'owner', '--backend', url]);
  await modelListed();
  return daemon;
}

async function modelListed(): Promise<void> {
  await waitUntil(
    async () => (await box.swarmctl(['models', '--json'])).stdout.includes(FAST),
    'the fast model',
  );
}

/**
 * A repo whose `--verify "node verify.mjs"` fails at once on the buggy code (the baseline) and,
 * on the fixed code, records its pid in `started` and then waits a minute (the attempt).
 */
function slowRepo(): { r: TinyRepo; started: string } {
  const r = makeRepo();
  repos.push(r);
  const started = join(dirname(r.dir), 'started');
  pidFiles.push(started);
  r.write(
    'verify.mjs',
    `import { readFileSync, writeFileSync } from 'node:fs';
if (!readFileSync('src/date.js', 'utf8').includes('padStart')) process.exit(1);
writeFileSync(${JSON.stringify(started)}, String(process.pid));
setTimeout(() => process.exit(0), 60_000);
`,
  );
  r.git('add', '-A');
  r.git('commit', '-q', '-m', 'verify script');
  return { r, started };
}

/** Start a job (swarmctl run in the background) and wait until its attempt is verifying. */
async function jobVerifying(r: TinyRepo, started: string, task: string): Promise<string> {
  fake.behave({ respond: repliesByModel({ [FAST]: [wholeReply({ 'src/date.js': FIXED_DATE })] }) });
  void box.swarmctl(['run', task, '--repo', r.dir, '--verify', 'node verify.mjs']);
  await waitUntil(() => existsSync(started), 'the attempt to be verifying', 60_000);
  const jobs = JSON.parse((await box.swarmctl(['jobs', '--json'])).stdout).jobs as {
    id: string;
    task: string;
  }[];
  return jobs.find((job) => job.task === task)!.id;
}

const worktrees = (r: TinyRepo) =>
  r.git('worktree', 'list', '--porcelain').match(/^worktree /gm)?.length ?? 0;
const scratchDirs = (id: string) =>
  readdirSync(tmpdir()).filter((name) => name.startsWith(`swarmd-job-${id}-`));

function killVerifier(pidFile: string): void {
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
  } catch {
    // already gone
  }
}

beforeAll(async () => {
  box = await createSandbox();
  fake = new FakeOllama({ models: [{ name: FAST }], loaded: [{ name: FAST }] });
  url = (await fake.start()).url;
  config = await writeConfig(box, {
    routing: { tiers: { fast: [FAST], deep: [FAST] }, fallback: [] },
    jobs: { sandbox: 'off', stepTimeout: '120s' },
  });
}, 60_000);

afterEach(async () => {
  await killAllSwarmd();
});

afterAll(async () => {
  await killAllSwarmd();
  for (const file of pidFiles) killVerifier(file);
  await fake?.stop();
  for (const r of repos) r.remove();
  await box?.remove();
});

describe('a job whose daemon stops', () => {
  it('SIGKILL: interrupted after a restart, and its scratch dir is removed', async () => {
    const daemon = await startDaemon();
    const { r, started } = slowRepo();
    const id = await jobVerifying(r, started, 'killed mid-verification');
    // The attempt is a worktree of swarmd's own repository in the scratch dir, never of the user's.
    expect(worktrees(r)).toBe(1);
    expect(scratchDirs(id)).toHaveLength(1);

    await daemon.kill();
    killVerifier(started);
    await daemon.restart();
    await modelListed();

    const report = JSON.parse((await box.swarmctl(['job', id, '--json'])).stdout);
    expect(report.state).toBe('interrupted');
    expect(report.message).toMatch(/interrupted: swarmd stopped while the job ran/);
    expect(report.endedAt).toBeGreaterThan(0);
    const human = await box.swarmctl(['jobs']);
    expect(human.stdout).toMatch(new RegExp(`${id}\\s+interrupted`));
    await waitUntil(() => worktrees(r) === 1 && scratchDirs(id).length === 0, 'the leftovers to go', 15_000);
    // Nothing of the job is left in the repository: no worktree entry, no branch.
    expect(r.git('worktree', 'list')).not.toContain(`swarmd-job-${id}-`);
    expect(r.git('branch', '--list', 'swarm/*')).toBe('');
    await daemon.kill();
  }, 180_000);

  it('SIGTERM: the running job ends interrupted, not cancelled, and leaves nothing behind', async () => {
    const daemon = await startDaemon();
    const { r, started } = slowRepo();
    const id = await jobVerifying(r, started, 'stopped mid-verification');
    await daemon.stop(60_000);
    killVerifier(started);
    const again = await startDaemon();
    const report = JSON.parse((await box.swarmctl(['job', id, '--json'])).stdout);
    expect(report.state).toBe('interrupted');
    expect(report.message).toMatch(/^interrupted: swarmd stopped/);
    expect(worktrees(r)).toBe(1);
    expect(scratchDirs(id)).toHaveLength(0);
    await again.kill();
  }, 180_000);
});
