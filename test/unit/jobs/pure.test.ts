// The pure parts of coding jobs: loop decisions, edit parsing and applying, patch limits,
// output trimming, step detection and command splitting, plan checking and scheduling, best-of ranking.
import { describe, expect, it } from 'vitest';
import { bestOfTiers, lintSteps, rankCandidates } from '../../../src/jobs/rules/best-of.js';
import { detectSteps, type RepoFiles, splitCommand } from '../../../src/jobs/rules/detect.js';
import { applyEdits, parseEdits } from '../../../src/jobs/rules/edit.js';
import { changedLines, checkLimits, pathProblem } from '../../../src/jobs/rules/limits.js';
import { decide, initialState, type LoopLimits, ladderFor } from '../../../src/jobs/rules/loop.js';
import { parsePlan, type SubtaskStatus, startable } from '../../../src/jobs/rules/plan.js';
import { failureFingerprint, trimOutput } from '../../../src/jobs/rules/trim.js';

const limits: LoopLimits = { attemptsPerTier: 2, maxAttempts: 3, maxEditFailures: 3 };
const fail = (patch: string, failure: string) => ({ kind: 'failed' as const, patch, failure });

describe('loop', () => {
  it('retries, escalates after 2 failures on a tier, stops after 3', () => {
    let s = initialState(['fast', 'deep']);
    let step = decide(s, fail('p1', 'f1'), limits);
    expect(step.move.kind).toBe('retry');
    step = decide(step.state, fail('p2', 'f2'), limits);
    expect(step.move.kind).toBe('escalate');
    expect(step.state.tierIndex).toBe(1);
    step = decide(step.state, fail('p3', 'f3'), limits);
    expect(step.move.kind).toBe('stop');
    s = step.state;
    expect(s.solveAttempts).toBe(3);
  });

  it('the same failure twice in a row escalates at once; edit failures are counted apart', () => {
    let step = decide(initialState(['fast', 'deep']), { kind: 'edit-failed' }, limits);
    expect(step.move.kind).toBe('retry');
    expect(step.state.solveAttempts).toBe(0);
    step = decide(step.state, fail('p1', 'same'), { ...limits, attemptsPerTier: 5, maxAttempts: 9 });
    step = decide(step.state, fail('p2', 'same'), { ...limits, attemptsPerTier: 5, maxAttempts: 9 });
    expect(step.move).toMatchObject({ kind: 'escalate', reason: expect.stringMatching(/twice in a row/) });
  });

  it('stops after maxEditFailures edits that did not apply', () => {
    let state = initialState(['fast']);
    let move = '';
    for (let i = 0; i < 3; i++)
      ({
        state,
        move: { kind: move },
      } = decide(state, { kind: 'edit-failed' }, limits));
    expect(move).toBe('stop');
  });

  it('the ladder starts at the asked tier and has cloud only when allowed', () => {
    expect(ladderFor('auto', ['fast', 'deep', 'cloud'], false)).toEqual(['fast', 'deep']);
    expect(ladderFor('deep', ['fast', 'deep', 'cloud'], true)).toEqual(['deep', 'cloud']);
  });
});

describe('edits', () => {
  it('parses whole files and applies them', () => {
    const parsed = parseEdits('Here:\nFILE: src/a.js\n```js\nexport const a = 1;\n```\n', 'whole');
    expect(parsed).toEqual({
      ok: true,
      edits: [{ kind: 'whole', path: 'src/a.js', content: 'export const a = 1;\n' }],
    });
  });

  it('applies SEARCH/REPLACE and says precisely what did not match', () => {
    const reply = 'src/a.js\n<<<<<<< SEARCH\nconst a = 0;\n=======\nconst a = 1;\n>>>>>>> REPLACE\n';
    const parsed = parseEdits(reply, 'search-replace');
    if (!parsed.ok) throw new Error(parsed.problem);
    const ok = applyEdits(parsed.edits, () => 'x\nconst a = 0;\ny\n');
    expect(ok.ok && ok.files.get('src/a.js')?.after).toBe('x\nconst a = 1;\ny\n');
    const bad = applyEdits(parsed.edits, () => 'nothing like it\n');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.problem).toMatch(/did not match .*src\/a\.js/);
  });

  it('says what is missing when the reply holds no edit', () => {
    expect(parseEdits('I think you should fix it.', 'whole')).toMatchObject({ ok: false });
  });
});

describe('limits', () => {
  it('refuses paths outside the repository', () => {
    expect(pathProblem('../x.js')).toMatch(/leaves the repository/);
    expect(pathProblem('/etc/passwd')).toMatch(/absolute/);
    expect(pathProblem('.git/config')).toMatch(/\.git/);
    expect(pathProblem('src/a.js')).toBeNull();
  });

  it('counts changed lines exactly and refuses too many files or lines', () => {
    expect(changedLines('a\nb\nc\n', 'a\nB\nc\n')).toBe(2);
    expect(changedLines(null, 'a\nb\n')).toBe(3);
    const four = ['a', 'b', 'c', 'd'].map((p) => ({ path: `${p}.js`, before: null, after: 'x' }));
    expect(checkLimits(four, { maxFiles: 3, maxChangedLines: 200 })).toMatch(/at most 3 files/);
    const big = [{ path: 'a.js', before: '', after: 'x\n'.repeat(300) }];
    expect(checkLimits(big, { maxFiles: 3, maxChangedLines: 200 })).toMatch(/at most 200 changed lines/);
  });
});

describe('trim', () => {
  it('puts the failing part first and stays within the bound', () => {
    const noise = Array.from({ length: 400 }, (_, i) => `ok ${i} fine`).join('\n');
    const out = trimOutput(
      `${noise}\nnot ok 401 - date\n  expected: '2024-01-05'\n${noise}\n[npm test exited with code 1]`,
      1000,
    );
    expect(out.length).toBeLessThanOrEqual(1000);
    expect(out.indexOf('not ok 401')).toBeLessThan(out.indexOf('exited with code 1'));
    expect(failureFingerprint('took 12.5ms')).toBe(failureFingerprint('took 80.1ms'));
  });
});

/** A repository as detection sees it, from file texts in memory (a null text: a directory). */
function repoOf(files: Record<string, string | null>): RepoFiles {
  return { exists: (path) => Object.hasOwn(files, path), read: (path) => files[path] ?? null };
}

describe('verify commands', () => {
  it('detects the steps a repository declares, package.json scripts first and in order', () => {
    const scripts = { test: 'node --test', lint: 'biome check', start: 'node .' };
    expect(
      detectSteps(repoOf({ 'package.json': JSON.stringify({ scripts }), 'Cargo.toml': '' })).map(
        (s) => s.argv,
      ),
    ).toEqual([
      ['npm', 'run', 'lint', '--silent'],
      ['npm', 'test', '--silent'],
    ]);
    expect(detectSteps(repoOf({ 'Cargo.toml': '' })).map((s) => s.name)).toEqual(['build', 'test']);
    expect(detectSteps(repoOf({ 'pyproject.toml': '[tool.pytest.ini_options]\n' }))[0]!.argv).toEqual([
      'python3',
      '-m',
      'pytest',
      '-q',
    ]);
    expect(detectSteps(repoOf({ Makefile: 'build:\n\tcc a.c\ntest: build\n\t./a\n' }))).toEqual([
      { name: 'test', argv: ['make', 'test'] },
    ]);
    // A package.json that is not JSON, or a Makefile that is a directory, declares nothing.
    expect(detectSteps(repoOf({ 'package.json': '{', Makefile: null }))).toEqual([]);
  });

  it('splits with quotes and refuses shell operators', () => {
    expect(splitCommand(`node --test "test/a b.js" 'x'`)).toEqual(['node', '--test', 'test/a b.js', 'x']);
    for (const bad of ['a; b', 'a && b', 'a | b', 'echo $(id)', 'echo `id`', 'a > f']) {
      expect(() => splitCommand(bad)).toThrow(expect.objectContaining({ code: 'SWARM_ERR_JOB_INVALID' }));
    }
  });
});

describe('plans', () => {
  const text = `subtasks:
  - { id: a, task: do a, files: [x.js] }
  - { id: b, task: do b, files: [x.js] }
  - { id: c, task: do c, files: [y.js] }
  - { id: d, task: do d, dependsOn: [a, c] }
`;
  it('runs independent subtasks up to maxConcurrent, never two on the same file, dependents after', () => {
    const plan = parsePlan(text, 3);
    const status = new Map<string, SubtaskStatus>(plan.subtasks.map((s) => [s.id, 'waiting']));
    expect(startable(plan, status).map((s) => s.id)).toEqual(['a', 'c']);
    status.set('a', 'passed');
    status.set('c', 'running');
    expect(startable(plan, status).map((s) => s.id)).toEqual(['b']);
    status.set('c', 'passed');
    expect(startable(plan, status).map((s) => s.id)).toEqual(['b', 'd']);
  });

  it('refuses cycles, unknown dependencies and paths outside the repository', () => {
    expect(() =>
      parsePlan('subtasks:\n  - {id: a, task: t, dependsOn: [b]}\n  - {id: b, task: t, dependsOn: [a]}\n', 2),
    ).toThrow(/cycle/);
    expect(() => parsePlan('subtasks:\n  - {id: a, task: t, dependsOn: [zz]}\n', 2)).toThrow(/does not have/);
    expect(() => parsePlan('subtasks:\n  - {id: a, task: t, files: [../x]}\n', 2)).toThrow(
      /leaves the repository/,
    );
  });
});

describe('best-of', () => {
  it('keeps the proposals at or above the start tier: --tier deep --best-of 3 is three deep ones', () => {
    expect(bestOfTiers(3, ['fast', 'fast', 'deep'], ['deep'])).toEqual(['deep', 'deep', 'deep']);
    expect(bestOfTiers(2, ['fast', 'cloud'], ['fast', 'deep'])).toEqual(['fast', 'fast']);
    expect(bestOfTiers(2, ['fast'], ['deep', 'cloud'])).toEqual(['deep', 'deep']);
  });

  it('mixes tiers and keeps lint-clean, then the smallest passing diff', () => {
    expect(bestOfTiers(4, ['fast', 'fast', 'deep'], ['fast', 'deep'])).toEqual([
      'fast',
      'fast',
      'deep',
      'fast',
    ]);
    const { ranked } = rankCandidates([
      { index: 1, passed: true, lintClean: false, changedLines: 1 },
      { index: 2, passed: true, lintClean: true, changedLines: 9 },
      { index: 3, passed: true, lintClean: true, changedLines: 4 },
      { index: 4, passed: false, lintClean: true, changedLines: 1 },
    ]);
    expect(ranked.map((c) => c.index)).toEqual([3, 2, 1]);
  });

  it('finds the lint steps however the steps were given', () => {
    const step = (command: string) => ({ name: command, argv: command.split(' ') });
    expect(
      lintSteps([
        { name: 'lint', argv: ['npm', 'run', 'lint', '--silent'] },
        step('npm run lint'),
        step('npx eslint .'),
        step('golangci-lint run'),
        step('ruff check .'),
        step('npm test'),
        step('cargo build --offline'),
      ]),
    ).toEqual(['lint', 'npm run lint', 'npx eslint .', 'golangci-lint run', 'ruff check .']);
  });
});
