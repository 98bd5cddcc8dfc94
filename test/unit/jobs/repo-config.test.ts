// The per-repository file (.swarmd.yaml, section jobs:): checked with zod, errors name the
// file, the key, the value and what is allowed; limits only tighten the daemon's.
import { describe, expect, it } from 'vitest';
import { SwarmError } from '../../../src/errors.js';
import { parseRepoConfig, settingsWithRepo } from '../../../src/jobs/rules/repo-config.js';
import type { JobSettings } from '../../../src/jobs/rules/settings.js';
import { thrown } from '../../helpers/expect-error.js';

const FILE = '/repo/.swarmd.yaml';

const daemon: JobSettings = {
  sandbox: { mode: 'off', readOnly: [] },
  env: {},
  attemptsPerTier: 2,
  maxAttempts: 3,
  maxEditFailures: 4,
  maxFiles: 3,
  maxChangedLines: 200,
  stepTimeoutMs: 300_000,
  contextTokens: 12_000,
  escalation: ['fast', 'deep'],
  editFormats: { deep: 'search-replace' },
  bestOfMix: ['fast', 'fast', 'deep'],
  maxConcurrent: 2,
};

const refusal = (text: string) => thrown(() => parseRepoConfig(text, FILE), SwarmError);

describe('.swarmd.yaml', () => {
  it('reads verify steps (argv, no shell), files, limits and edit formats', () => {
    const config = parseRepoConfig(
      `jobs:
  verify: ["npm run lint", "node --test 'test/a b.js'"]
  stepTimeout: 30s
  files: [./src//date.js]
  maxFiles: 1
  maxChangedLines: 50
  editFormats: { fast: search-replace }
`,
      FILE,
    );
    expect(config.steps).toEqual([
      { name: 'npm run lint', argv: ['npm', 'run', 'lint'] },
      { name: 'node --test test/a b.js', argv: ['node', '--test', 'test/a b.js'] },
    ]);
    expect(config).toMatchObject({
      files: ['src/date.js'],
      stepTimeoutMs: 30_000,
      maxFiles: 1,
      maxChangedLines: 50,
      editFormats: { fast: 'search-replace' },
    });
  });

  it('env: the variables verification gets, as text; HOME, TMPDIR and bad names refused', () => {
    const config = parseRepoConfig(
      'jobs:\n  env: { GOFLAGS: -mod=vendor, RETRIES: 3, STRICT: true }\n',
      FILE,
    );
    expect(config.env).toEqual({ GOFLAGS: '-mod=vendor', RETRIES: '3', STRICT: 'true' });
    expect(settingsWithRepo(daemon, config).env).toEqual(config.env);
    expect(parseRepoConfig('jobs: {}\n', FILE).env).toEqual({});
    expect(refusal('jobs:\n  env: { HOME: /root }\n').message).toMatch(
      /jobs\.env.*HOME and TMPDIR are set by swarmd/,
    );
    expect(refusal('jobs:\n  env: { "A-B": x }\n').message).toMatch(/jobs\.env.*expected a variable name/);
    expect(refusal('jobs:\n  env: { A: [1] }\n').message).toContain('jobs.env.A: got [1]; expected a text');
  });

  it('an empty file or one without jobs gives nothing', () => {
    expect(parseRepoConfig('', FILE)).toMatchObject({ steps: null, files: [], maxFiles: null });
    expect(parseRepoConfig('jobs: {}\n', FILE).steps).toBeNull();
  });

  it('limits only tighten the daemon, edit formats go over its own', () => {
    const tight = settingsWithRepo(
      daemon,
      parseRepoConfig('jobs:\n  maxFiles: 1\n  maxChangedLines: 9999\n  stepTimeout: 1h\n', FILE),
    );
    expect(tight).toMatchObject({ maxFiles: 1, maxChangedLines: 200, stepTimeoutMs: 300_000 });
    const formats = settingsWithRepo(
      daemon,
      parseRepoConfig('jobs:\n  editFormats: { fast: search-replace }\n', FILE),
    );
    expect(formats.editFormats).toEqual({ deep: 'search-replace', fast: 'search-replace' });
    expect(settingsWithRepo(daemon, null)).toBe(daemon);
  });

  it('a bad file is refused naming the file, the key, the value and what is allowed', () => {
    const wrongType = refusal('jobs:\n  maxFiles: lots\n');
    expect(wrongType.code).toBe('SWARM_ERR_JOB_INVALID');
    expect(wrongType.message).toContain(FILE);
    expect(wrongType.message).toContain('jobs.maxFiles: got "lots"');
    expect(wrongType.message).toMatch(/expected number/);

    const unknown = refusal('jobs:\n  verfy: ["npm test"]\n');
    expect(unknown.message).toContain('unknown key jobs.verfy');
    expect(unknown.message).toContain('jobs.verify');

    const format = refusal('jobs:\n  editFormats: { fast: diff }\n');
    expect(format.message).toContain('jobs.editFormats.fast: got "diff"; expected whole or search-replace');

    const timeout = refusal('jobs:\n  stepTimeout: soon\n');
    expect(timeout.message).toContain('jobs.stepTimeout: got "soon"');

    const shell = refusal('jobs:\n  verify: ["npm test && rm -rf /"]\n');
    expect(shell.message).toContain('jobs.verify');
    expect(shell.message).toContain('shell operator');

    expect(refusal('jobs:\n  files: [../outside.js]\n').message).toContain('jobs.files.0');
    expect(refusal('top: [1\n').message).toContain('not valid YAML');
    expect(refusal('other: 1\n').message).toContain('unknown key other; allowed: jobs');
  });
});
