// Running git for jobs: argv arrays only (paths and messages never pass through a shell), an
// identity for the commits swarmd makes, and no prompts or pagers.
import { ErrorCodes, SwarmError } from '../errors.js';
import { describeRun, runCommand } from '../util/run-command.js';

const IDENTITY = {
  GIT_AUTHOR_NAME: 'swarmd',
  GIT_AUTHOR_EMAIL: 'swarmd@localhost',
  GIT_COMMITTER_NAME: 'swarmd',
  GIT_COMMITTER_EMAIL: 'swarmd@localhost',
  GIT_TERMINAL_PROMPT: '0',
  GIT_PAGER: 'cat',
};

const GIT_TIMEOUT_MS = 120_000;

/** Run git in `cwd`; resolves with stdout, rejects with a JOB_WORKSPACE SwarmError unless `allow` lists the exit code. */
export async function git(
  cwd: string,
  args: readonly string[],
  opts: { env?: Record<string, string>; allow?: readonly number[]; input?: string } = {},
): Promise<{ stdout: string; exitCode: number }> {
  const result = await runCommand('git', args, {
    cwd,
    env: { ...IDENTITY, ...opts.env },
    timeoutMs: GIT_TIMEOUT_MS,
    maxBuffer: 100_000_000,
    ...(opts.input !== undefined && { input: opts.input }),
  });
  const exitCode = result.exitCode ?? -1;
  if (exitCode !== 0 && !(opts.allow ?? []).includes(exitCode)) {
    const why = result.stderr.trim() || describeRun('git', result, GIT_TIMEOUT_MS) || `exit ${exitCode}`;
    throw new SwarmError(
      ErrorCodes.JOB_WORKSPACE,
      `git ${args.slice(0, 3).join(' ')} failed in ${cwd}: ${why}`,
    );
  }
  return { stdout: result.stdout, exitCode };
}
