// Running git for jobs: argv arrays only (paths and messages never pass through a shell), an
// identity for the commits swarmd makes, no prompts or pagers, and no hooks or fsmonitor: git
// here is swarmd's own tool, and must run nothing a repository (or code run in one) configured.
import { ErrorCodes, SwarmError } from '../../errors.js';
import { describeRun, runCommand } from '../../util/run-command.js';

/** Settings before every command: no hook runs, no fsmonitor command starts. */
const NOTHING_RUNS = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false'];

const IDENTITY = {
  GIT_AUTHOR_NAME: 'swarmd',
  GIT_AUTHOR_EMAIL: 'swarmd@localhost',
  GIT_COMMITTER_NAME: 'swarmd',
  GIT_COMMITTER_EMAIL: 'swarmd@localhost',
  GIT_TERMINAL_PROMPT: '0',
  GIT_PAGER: 'cat',
};

/** Run git in `cwd`; resolves with stdout, rejects with a JOB_WORKSPACE SwarmError unless `allow` lists the exit code. */
export async function git(
  cwd: string,
  args: readonly string[],
  opts: { env?: Record<string, string>; allow?: readonly number[]; input?: string } = {},
): Promise<{ stdout: string; exitCode: number }> {
  const result = await runCommand('git', [...NOTHING_RUNS, ...args], {
    cwd,
    env: { ...IDENTITY, ...opts.env },
    timeoutMs: 120_000,
    maxBuffer: 100_000_000,
    ...(opts.input !== undefined && { input: opts.input }),
  });
  const exitCode = result.exitCode ?? -1;
  if (exitCode !== 0 && !(opts.allow ?? []).includes(exitCode)) {
    throw new SwarmError(
      ErrorCodes.JOB_WORKSPACE,
      `git ${args.slice(0, 3).join(' ')} failed in ${cwd}: ${result.stderr.trim() || describeRun('git', result, 120_000)}`,
    );
  }
  return { stdout: result.stdout, exitCode };
}
