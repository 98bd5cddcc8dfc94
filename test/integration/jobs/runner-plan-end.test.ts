// The runner on its own (no daemon): a plan cancelled while its first subtask waits on the
// model leaves no subtask reading `running` in the report.
import { afterAll, describe, expect, it } from 'vitest';
import { FileLocks } from '../../../src/jobs/run/locks.js';
import { runJob } from '../../../src/jobs/run/runner.js';
import type { JobReport, JobSpec } from '../../../src/jobs/types.js';
import { silentLogger } from '../../../src/util/logger.js';
import { makeRepo, type TinyRepo } from './tiny-repo.js';

const repos: TinyRepo[] = [];
afterAll(() => {
  for (const r of repos) r.remove();
});

describe('runner: a plan that ends early', () => {
  it('marks running and waiting subtasks with the job state when it is cancelled', async () => {
    const r = makeRepo();
    repos.push(r);
    const steps = [{ name: 'npm test', argv: ['npm', 'test'] }];
    const spec: JobSpec = {
      task: 'plan',
      repo: r.dir,
      files: [],
      verify: [],
      tier: 'fast',
      bestOf: 1,
      privacy: 'local',
      plan: {
        maxConcurrent: 1,
        subtasks: [
          { id: 'first', task: 'do one', files: ['src/date.js'], verify: [], dependsOn: [] },
          { id: 'second', task: 'do two', files: ['src/date.js'], verify: [], dependsOn: ['first'] },
        ],
      },
    };
    const report = {
      id: 'planend1',
      state: 'running',
      steps,
      attempts: [],
      subtasks: [],
      tiersUsed: ['fast'],
      tokens: { prompt: 0, completion: 0 },
    } as unknown as JobReport;
    const abort = new AbortController();
    let asked!: () => void;
    const modelAsked = new Promise<void>((resolve) => {
      asked = resolve;
    });
    const done = runJob(
      spec,
      report,
      {
        logger: silentLogger,
        complete: (_messages, _tier, signal) => {
          asked();
          return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
        },
        locks: new FileLocks(),
        sandbox: { kind: 'none', env: {}, wrap: (argv) => [...argv] },
        settings: {
          sandbox: { mode: 'off', readOnly: [] },
          env: {},
          attemptsPerTier: 2,
          maxAttempts: 3,
          maxEditFailures: 4,
          maxFiles: 3,
          maxChangedLines: 200,
          stepTimeoutMs: 60_000,
          contextTokens: 4_000,
          escalation: ['fast'],
          editFormats: {},
          bestOfMix: ['fast'],
          maxConcurrent: 1,
        },
        tierModel: () => null,
        patchDir: r.dir,
        emit: () => undefined,
        save: () => undefined,
      },
      abort.signal,
    );
    await modelAsked;
    abort.abort(new Error('cancelled by the user'));
    await done;
    expect(report.state).toBe('cancelled');
    expect(report.subtasks.map((s) => [s.id, s.state])).toEqual([
      ['first', 'cancelled'],
      ['second', 'cancelled'],
    ]);
    expect(report.subtasks[1]!.message).toMatch(/^never started/);
  }, 60_000);
});
