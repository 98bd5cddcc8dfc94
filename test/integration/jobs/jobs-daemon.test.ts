// Coding jobs end to end: a real swarmd on loopback (mDNS off) with a scripted fake Ollama
// holding a fast model (small:1b) and a deep one (big:8b), and real swarmctl processes. Each
// test makes a real git repository with a failing `npm test`, scripts the model's reply per
// attempt, and reads what every prompt carried from the fake's log.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeOllama } from '../../fakes/ollama.js';
import { lastUserText, repliesByModel } from '../../fakes/scripted-replies.js';
import { startInBox } from '../../helpers/loopback-swarm.js';
import { createSandbox, type Sandbox, writeConfig } from '../../helpers/sandbox.js';
import { startSwarmctl } from '../../helpers/swarmctl.js';
import { killAllSwarmd } from '../../helpers/swarmd.js';
import { sleep, waitUntil } from '../../helpers/wait.js';
import {
  BUGGY_DATE,
  FIXED_DATE,
  makeRepo,
  PACKAGE_JSON,
  searchReplaceReply,
  type TinyRepo,
  wholeReply,
  wrongDate,
} from './tiny-repo.js';

const FAST = 'small:1b';
const DEEP = 'big:8b';

let box: Sandbox;
let fake: FakeOllama;
const repos: TinyRepo[] = [];

function repo(...args: Parameters<typeof makeRepo>): TinyRepo {
  const made = makeRepo(...args);
  repos.push(made);
  return made;
}

/** swarmctl as the test box's user (jobs may run long); never throws. */
const swarmctl = (args: string[]) => box.swarmctl(args, { timeoutMs: 120_000 });

/** Run a job with --json and return its report. */
async function runJob(args: string[]) {
  const out = await swarmctl(['run', ...args, '--json']);
  expect(out.stdout, out.stderr).toMatch(/^\{/);
  return { code: out.code, report: JSON.parse(out.stdout), stderr: out.stderr };
}

/** The user prompts the fake received since `from`, in order, with the model each asked. */
function promptsSince(from: number): { model: string; text: string }[] {
  return fake.generations.slice(from).map((g) => ({ model: g.model ?? '', text: lastUserText(g) }));
}

beforeAll(async () => {
  box = await createSandbox();
  fake = new FakeOllama({
    models: [{ name: FAST }, { name: DEEP }],
    loaded: [{ name: FAST }, { name: DEEP }],
  });
  const { url } = await fake.start();
  const config = await writeConfig(box, {
    routing: { tiers: { fast: [FAST], deep: [DEEP] }, fallback: [] },
    jobs: { sandbox: 'off', stepTimeout: '60s' },
  });
  await startInBox(box, ['--config', config, '--name', 'owner', '--backend', url]);
  // The backend is probed once before the fake's models are routable.
  await waitUntil(async () => {
    const models = await swarmctl(['models', '--json']);
    return models.stdout.includes(FAST) && models.stdout.includes(DEEP);
  }, 'both models to be routable');
}, 60_000);

afterEach(() => {
  fake.behave({ respond: null, firstTokenDelayMs: 0 });
});

afterAll(async () => {
  await killAllSwarmd();
  await fake?.stop();
  for (const r of repos) r.remove();
  await box?.remove();
});

describe('swarmctl run: a single job', () => {
  it('a fix on attempt 1 passes, leaves a branch and a patch, and apply writes it', async () => {
    const r = repo();
    fake.behave({ respond: repliesByModel({ [FAST]: [wholeReply({ 'src/date.js': FIXED_DATE })] }) });
    const out = await swarmctl([
      'run',
      'make the failing date test pass',
      '--repo',
      r.dir,
      '--files',
      'src/date.js',
    ]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    // Live progress: attempt, tier, model@node, steps, pass.
    expect(out.stdout).toMatch(/#1 fast small:1b@owner ✓ small:1b on owner answered/);
    expect(out.stdout).toMatch(/#1 fast ✓ test passed/);
    const id = /job (\w+) passed/.exec(out.stdout)?.[1];
    expect(id).toBeDefined();
    expect(out.stdout).toContain(`swarmctl apply ${id}`);

    const job = await swarmctl(['job', id!, '--json']);
    expect(job.code).toBe(0);
    const report = JSON.parse(job.stdout);
    expect(report.state).toBe('passed');
    expect(report.solveAttempts).toBe(1);
    expect(report.attempts).toHaveLength(1);
    expect(report.attempts[0]).toMatchObject({ tier: 'fast', model: FAST, node: 'owner', outcome: 'passed' });
    expect(report.sandbox).toBe('none');
    expect(report.result.branch).toBe(`swarm/job-${id}`);
    expect(report.result.files).toEqual(['src/date.js']);
    // The user's working tree is untouched until apply; the branch holds the fix.
    expect(r.read('src/date.js')).toBe(BUGGY_DATE);
    expect(r.git('show', `swarm/job-${id}:src/date.js`)).toBe(FIXED_DATE);
    expect(existsSync(report.result.patchPath)).toBe(true);

    // The model call was an ordinary routed request: a ledger row for client job:<id>.
    const usage = JSON.parse((await swarmctl(['usage', '--json', '--by', 'client'])).stdout);
    expect(usage.groups.map((g: { key: string }) => g.key)).toContain(`job:${id}`);

    const applied = await swarmctl(['apply', id!]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(r.read('src/date.js')).toBe(FIXED_DATE);
    const again = await swarmctl(['apply', id!, '--json']);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout).error.code).toBe('SWARM_ERR_JOB_STATE');
  }, 120_000);

  it('apply refuses, writing nothing, when the file changed since the job started', async () => {
    const r = repo();
    fake.behave({ respond: repliesByModel({ [FAST]: [wholeReply({ 'src/date.js': FIXED_DATE })] }) });
    const { code, report } = await runJob(['fix the date test', '--repo', r.dir]);
    expect(code).toBe(0);
    r.write('src/date.js', `${BUGGY_DATE}// my own uncommitted work\n`);
    const out = await swarmctl(['apply', report.id, '--json']);
    expect(out.code).toBe(1);
    expect(JSON.parse(out.stdout).error.code).toBe('SWARM_ERR_JOB_APPLY_CONFLICT');
    expect(r.read('src/date.js')).toBe(`${BUGGY_DATE}// my own uncommitted work\n`);
  }, 120_000);

  it('two wrong fixes escalate to deep, which fixes it; prompts carry the failure, the escalated one no transcript', async () => {
    const r = repo();
    const from = fake.generations.length;
    fake.behave({
      respond: repliesByModel({
        [FAST]: [
          wholeReply({ 'src/date.js': wrongDate('wrong-one', 'small-model-idea-1') }),
          wholeReply({ 'src/date.js': wrongDate('wrong-two', 'small-model-idea-2') }),
        ],
        [DEEP]: [
          searchReplaceReply(
            'src/date.js',
            BUGGY_DATE.split('\n')[1]!,
            FIXED_DATE.split('\n').slice(1, 3).join('\n'),
          ),
        ],
      }),
    });
    const { code, report } = await runJob(['make the failing date test pass', '--repo', r.dir]);
    expect(code).toBe(0);
    expect(report.state).toBe('passed');
    expect(report.tiersUsed).toEqual(['fast', 'deep']);
    expect(report.attempts.map((a: { tier: string; outcome: string }) => [a.tier, a.outcome])).toEqual([
      ['fast', 'failed'],
      ['fast', 'failed'],
      ['deep', 'passed'],
    ]);
    const prompts = promptsSince(from);
    expect(prompts.map((p) => p.model)).toEqual([FAST, FAST, DEEP]);
    // The retry carries the failing test output of the first fix.
    expect(prompts[1]!.text).toContain('Verification failed after your change');
    expect(prompts[1]!.text).toContain("'wrong-one'");
    // The escalated prompt: fresh, with the last failure's summary, none of the small model's words.
    expect(prompts[2]!.text).toContain('Earlier attempts');
    expect(prompts[2]!.text).toContain("'wrong-two'");
    expect(prompts[2]!.text).not.toContain('small-model-idea');
    expect(prompts[2]!.text).not.toContain('Your previous change');
    expect(r.git('show', `swarm/job-${report.id}:src/date.js`)).toContain('padStart');
  }, 120_000);

  it('three failures stop with a report: what was tried, by which model, what failed last, the best diff', async () => {
    const r = repo();
    fake.behave({
      respond: repliesByModel({
        [FAST]: [
          wholeReply({ 'src/date.js': wrongDate('wrong-one', 'a') }),
          wholeReply({ 'src/date.js': wrongDate('wrong-two', 'b') }),
        ],
        [DEEP]: [wholeReply({ 'src/date.js': wrongDate('wrong-three', 'c') })],
      }),
    });
    const { code, report } = await runJob(['make the failing date test pass', '--repo', r.dir]);
    expect(code).toBe(1);
    expect(report.state).toBe('failed');
    expect(report.solveAttempts).toBe(3);
    expect(report.message).toMatch(/after 3 attempts/);
    expect(report.attempts.map((a: { model: string }) => a.model)).toEqual([FAST, FAST, DEEP]);
    expect(report.lastFailure.step).toBe('test');
    expect(report.lastFailure.output).toContain('wrong-three');
    expect(report.bestCandidateDiff).toContain('src/date.js');
    expect(report.result).toBeNull();
    expect(r.git('branch', '--list', 'swarm/*')).not.toContain(report.id);
    const human = await swarmctl(['job', report.id]);
    expect(human.stdout).toContain('last failure (test)');
    expect(human.stdout).toContain('best candidate diff');
  }, 120_000);

  it('an edit that does not apply is fed back and counted apart from solve attempts', async () => {
    const r = repo();
    const from = fake.generations.length;
    fake.behave({
      respond: repliesByModel({
        [DEEP]: [
          searchReplaceReply('src/date.js', 'return d.toString();', "return 'x';"),
          wholeReply({ 'src/date.js': FIXED_DATE }),
        ],
      }),
    });
    const { code, report } = await runJob(['fix the date format', '--repo', r.dir, '--tier', 'deep']);
    expect(code).toBe(0);
    expect(report.editFailures).toBe(1);
    expect(report.solveAttempts).toBe(1);
    expect(report.attempts[0].outcome).toBe('edit-failed');
    const prompts = promptsSince(from);
    expect(prompts[1]!.text).toContain('could not be applied');
    expect(prompts[1]!.text).toContain('did not match');
  }, 120_000);

  it('an edit touching ../ or over the limits is refused back to the model', async () => {
    const r = repo();
    const outside = join(dirname(r.dir), 'escape.js');
    const from = fake.generations.length;
    const many = Object.fromEntries(
      ['a', 'b', 'c', 'd'].map((n) => [`src/${n}.js`, `export const ${n} = 1;\n`]),
    );
    const huge = `${FIXED_DATE}${Array.from({ length: 250 }, (_, i) => `// line ${i}`).join('\n')}\n`;
    fake.behave({
      respond: repliesByModel({
        [FAST]: [
          wholeReply({ '../escape.js': 'export const owned = true;\n' }),
          wholeReply(many),
          wholeReply({ 'src/date.js': huge }),
          wholeReply({ 'src/date.js': FIXED_DATE }),
        ],
      }),
    });
    const { code, report } = await runJob(['fix the date test', '--repo', r.dir]);
    expect(code).toBe(0);
    expect(existsSync(outside)).toBe(false);
    expect(report.attempts.map((a: { outcome: string }) => a.outcome)).toEqual([
      'refused',
      'refused',
      'refused',
      'passed',
    ]);
    expect(report.editFailures).toBe(3);
    const prompts = promptsSince(from);
    expect(prompts[1]!.text).toMatch(/leaves the repository/);
    expect(prompts[2]!.text).toMatch(/at most 3 files/);
    expect(prompts[3]!.text).toMatch(/at most 200 changed lines/);
  }, 120_000);

  it('a task full of shell metacharacters runs nothing', async () => {
    const r = repo();
    const scratch = mkdtempSync(join(tmpdir(), 'swarmd-canary-'));
    const canary = join(scratch, 'canary');
    try {
      const task = `fix it; touch ${canary} && $(touch ${canary}) \`touch ${canary}\` | touch ${canary} > ${canary}`;
      fake.behave({ respond: repliesByModel({ [FAST]: [wholeReply({ 'src/date.js': FIXED_DATE })] }) });
      const { code, report } = await runJob([task, '--repo', r.dir, '--files', 'src/date.js']);
      expect(code).toBe(0);
      expect(report.task).toBe(task);
      // A --verify with shell operators is refused, not run through a shell.
      const refused = await swarmctl([
        'run',
        'x',
        '--repo',
        r.dir,
        '--verify',
        `touch ${canary}; true`,
        '--json',
      ]);
      expect(refused.code).toBe(2);
      expect(JSON.parse(refused.stdout).error.code).toBe('SWARM_ERR_JOB_INVALID');
      expect(existsSync(canary)).toBe(false);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('swarmctl run: best-of, plans, jobs and cancel', () => {
  it('best-of-3 asks for three proposals at once and keeps the passing one with the smallest diff', async () => {
    const r = repo();
    const from = fake.generations.length;
    const padded = `${FIXED_DATE}// extra-candidate-line-1\n// extra-candidate-line-2\n`;
    fake.behave({
      firstTokenDelayMs: 500,
      respond: repliesByModel({
        [FAST]: [
          wholeReply({ 'src/date.js': wrongDate('wrong-one', 'w') }),
          wholeReply({ 'src/date.js': padded }),
        ],
        [DEEP]: [
          searchReplaceReply(
            'src/date.js',
            BUGGY_DATE.split('\n')[1]!,
            FIXED_DATE.split('\n').slice(1, 3).join('\n'),
          ),
        ],
      }),
    });
    const before = fake.maxInflightSeen;
    const { code, report } = await runJob([
      'make the failing date test pass',
      '--repo',
      r.dir,
      '--best-of',
      '3',
    ]);
    expect(code).toBe(0);
    expect(report.state).toBe('passed');
    expect(
      promptsSince(from)
        .map((p) => p.model)
        .sort(),
    ).toEqual([DEEP, FAST, FAST]);
    expect(Math.max(before, fake.maxInflightSeen)).toBeGreaterThanOrEqual(3);
    expect(report.attempts.map((a: { candidate: number }) => a.candidate).sort()).toEqual([1, 2, 3]);
    expect(report.attempts.filter((a: { outcome: string }) => a.outcome === 'passed')).toHaveLength(2);
    expect(report.message).toMatch(/best-of-3: kept candidate \d of 2 passing \(deep: big:8b\)/);
    expect(report.result.diff).not.toContain('extra-candidate-line');
    expect(r.git('show', `swarm/job-${report.id}:src/date.js`)).toBe(FIXED_DATE);
  }, 120_000);

  it('a plan runs its two independent subtasks at once and the dependent one after, then verifies all', async () => {
    const r = repo({
      'package.json': PACKAGE_JSON,
      'src/a.js': 'export const a = () => 0;\n',
      'src/b.js': 'export const b = () => 0;\n',
      'src/c.js': "import { a } from './a.js';\nimport { b } from './b.js';\nexport const c = () => 0;\n",
      'test/a.test.js': unitTest('a', 1),
      'test/b.test.js': unitTest('b', 2),
      'test/c.test.js': unitTest('c', 21),
    });
    const plan = join(dirname(r.dir), 'plan.yaml');
    writeFileSync(
      plan,
      `maxConcurrent: 2
subtasks:
  - id: fix-a
    task: make a return one
    files: [src/a.js]
    verify: ["node --test test/a.test.js"]
  - id: fix-b
    task: make b return two
    files: [src/b.js]
    verify: ["node --test test/b.test.js"]
  - id: fix-c
    task: make c combine a and b
    files: [src/c.js]
    verify: ["node --test test/c.test.js"]
    dependsOn: [fix-a, fix-b]
`,
    );
    const from = fake.generations.length;
    fake.behave({
      firstTokenDelayMs: 1000,
      respond: (record) => {
        const text = lastUserText(record);
        if (text.includes('make a return one'))
          return wholeReply({ 'src/a.js': 'export const a = () => 1;\n' });
        if (text.includes('make b return two'))
          return wholeReply({ 'src/b.js': 'export const b = () => 2;\n' });
        return wholeReply({
          'src/c.js':
            "import { a } from './a.js';\nimport { b } from './b.js';\nexport const c = () => a() + b() * 10;\n",
        });
      },
    });
    const { code, report } = await runJob(['--plan', plan, '--repo', r.dir]);
    expect(report.message).toMatch(/all 3 subtasks passed/);
    expect(code).toBe(0);
    const calls = fake.generations.slice(from);
    const of = (words: string) => calls.find((g) => lastUserText(g).includes(words))!;
    const [a, b, c] = [of('make a return one'), of('make b return two'), of('make c combine')];
    // Observed overlap of the independent subtasks' model calls...
    expect(Math.max(a.startedAt, b.startedAt)).toBeLessThan(Math.min(a.endedAt!, b.endedAt!));
    // ...and the dependent one only after both.
    expect(c.startedAt).toBeGreaterThanOrEqual(Math.max(a.endedAt!, b.endedAt!));
    expect(report.subtasks.map((s: { id: string; state: string }) => [s.id, s.state])).toEqual([
      ['fix-a', 'passed'],
      ['fix-b', 'passed'],
      ['fix-c', 'passed'],
    ]);
    expect(report.result.files.sort()).toEqual(['src/a.js', 'src/b.js', 'src/c.js']);
  }, 120_000);

  it('jobs lists the jobs; cancel stops a running one and the run ends', async () => {
    const r = repo();
    fake.behave({ firstTokenDelayMs: 30_000, respond: () => wholeReply({ 'src/date.js': FIXED_DATE }) });
    const running = swarmctl(['run', 'slow job', '--repo', r.dir]);
    let id = '';
    await waitUntil(
      async () => {
        const list = JSON.parse((await swarmctl(['jobs', '--json'])).stdout) as {
          jobs: { id: string; state: string; task: string }[];
        };
        id = list.jobs.find((job) => job.task === 'slow job' && job.state === 'running')?.id ?? '';
        return id !== '';
      },
      'the job to run',
      60_000,
      200,
    );
    const cancelled = await swarmctl(['cancel', id, '--json']);
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.stdout).state).toBe('cancelled');
    const run = await running;
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`job ${id} cancelled`));
    const table = await swarmctl(['jobs']);
    expect(table.stdout).toMatch(new RegExp(`${id}\\s+cancelled`));
    const unknown = await swarmctl(['job', 'nosuchjob', '--json']);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout).error.code).toBe('SWARM_ERR_JOB_NOT_FOUND');
  }, 120_000);
});

describe('swarmctl run: the repository file .swarmd.yaml', () => {
  /** A repo whose .swarmd.yaml verifies with a step that records it ran, then npm test. */
  function repoWithFile(yaml: (recorder: string) => string) {
    const r = repo();
    const log = join(dirname(r.dir), 'ran.log');
    r.write(
      'scripts/record.mjs',
      `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(log)}, 'ran\\n');\n`,
    );
    r.write('.swarmd.yaml', yaml('node scripts/record.mjs'));
    const ran = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0);
    return { r, ran };
  }

  it('its verify steps are used instead of the detected ones, and its files go in the prompt', async () => {
    const { r, ran } = repoWithFile(
      (recorder) => `jobs:\n  verify: ["${recorder}", "npm test"]\n  files: [docs/hint.md]\n`,
    );
    r.write('docs/hint.md', 'hint-marker-7f3a\n');
    const from = fake.generations.length;
    fake.behave({ respond: repliesByModel({ [FAST]: [wholeReply({ 'src/date.js': FIXED_DATE })] }) });
    const { code, report } = await runJob(['fix it', '--repo', r.dir]);
    expect(code).toBe(0);
    expect(report.steps).toEqual([
      { name: 'node scripts/record.mjs', argv: ['node', 'scripts/record.mjs'] },
      { name: 'npm test', argv: ['npm', 'test'] },
    ]);
    // Baseline and the attempt each ran the recording step.
    expect(ran()).toBe(2);
    // A file nothing else points at is in the prompt: the file's `files` hint.
    expect(promptsSince(from)[0]!.text).toContain('hint-marker-7f3a');
  }, 120_000);

  it('--verify beats the file', async () => {
    const { r, ran } = repoWithFile((recorder) => `jobs:\n  verify: ["${recorder}"]\n`);
    fake.behave({ respond: repliesByModel({ [FAST]: [wholeReply({ 'src/date.js': FIXED_DATE })] }) });
    const { code, report } = await runJob(['fix it', '--repo', r.dir, '--verify', 'npm test']);
    expect(code).toBe(0);
    expect(report.steps.map((s: { name: string }) => s.name)).toEqual(['npm test']);
    expect(ran()).toBe(0);
  }, 120_000);

  it('a bad file is refused naming the file, key and value, and nothing runs', async () => {
    const { r, ran } = repoWithFile((recorder) => `jobs:\n  verify: ["${recorder}"]\n  maxFiles: plenty\n`);
    const from = fake.generations.length;
    const before = JSON.parse((await swarmctl(['jobs', '--json'])).stdout).jobs.length;
    const out = await swarmctl(['run', 'fix it', '--repo', r.dir, '--json']);
    expect(out.code).toBe(2);
    const error = JSON.parse(out.stdout).error;
    expect(error.code).toBe('SWARM_ERR_JOB_INVALID');
    expect(error.message).toContain(join(r.dir, '.swarmd.yaml'));
    expect(error.message).toContain('jobs.maxFiles: got "plenty"');
    const human = await swarmctl(['run', 'fix it', '--repo', r.dir]);
    expect(human.code).toBe(2);
    expect(human.stderr).toContain('.swarmd.yaml jobs.maxFiles');
    expect(ran()).toBe(0);
    expect(fake.generations.length).toBe(from);
    expect(JSON.parse((await swarmctl(['jobs', '--json'])).stdout).jobs.length).toBe(before);
  }, 120_000);
});

describe('swarmctl run: Ctrl-C', () => {
  it('the first Ctrl-C cancels the job; swarmctl says so and exits non-zero', async () => {
    const r = repo();
    fake.behave({ firstTokenDelayMs: 30_000, respond: () => wholeReply({ 'src/date.js': FIXED_DATE }) });
    const run = await startSwarmctl(['--data-dir', box.dataDir, 'run', 'ctrl-c job', '--repo', r.dir], {
      env: box.env,
      timeoutMs: 120_000,
    });
    const { child } = run;
    try {
      // Wait (up to 30 s) until the model call is under way (the job is past its baseline).
      await waitUntil(() => /answered|attempt 1/.test(run.stdout), 'the model call', 30_000, 100).catch(
        () => undefined, // a Ctrl-C before it must cancel the job all the same
      );
      const id = /job (\w+) started/.exec(run.stdout)?.[1];
      expect(id, run.stdout + run.stderr).toBeDefined();
      child.kill('SIGINT');
      const code = await Promise.race([
        run.done.then((end) => end.code),
        sleep(60_000).then(() => 'timeout'),
      ]);
      expect(code).toBe(1);
      const { stdout, stderr } = run;
      expect(stderr).toContain(`cancelling job ${id}`);
      expect(stdout).toMatch(new RegExp(`job ${id} cancelled`));
      const job = await swarmctl(['job', id!, '--json']);
      expect(JSON.parse(job.stdout).state).toBe('cancelled');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});

function unitTest(name: string, want: number): string {
  return `import assert from 'node:assert/strict';
import test from 'node:test';
import { ${name} } from '../src/${name}.js';

test('${name}', () => {
  assert.equal(${name}(), ${want});
});
`;
}
