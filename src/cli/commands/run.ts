// `swarmctl run "task" --repo .`: submit a coding job to the local daemon and show its progress
// (attempt, tier, model and node, verification step, pass/fail, elapsed) until it ends. The
// files never leave this box; only prompts travel, within the job's privacy. Ctrl-C cancels the
// job (a second Ctrl-C leaves at once and says how to watch or cancel it).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCodes, SwarmError } from '../../errors.js';
import { PRIVACY_ORDER, type Privacy } from '../../inference/types.js';
import type { RunJobInput } from '../../jobs/control.js';
import type { JobEvent, JobReport, StartTier } from '../../jobs/types.js';
import { type CommandOptions, type DaemonCommand, ExitCodes, printJson } from '../types.js';
import { eventLine, readJson, runEnding } from './job-output.js';

/** Submit the job, print its events, end with its report; exit 0 when it passed, 1 otherwise. */
export const runCommand: DaemonCommand = async (client, opts, io) => {
  const input = runInput(opts);
  const controller = new AbortController();
  let jobId: string | null = null;
  let interrupted = 0;
  // Ctrl-C before swarmd named the job: cancel it as soon as its id arrives.
  let cancelPending = false;
  const cancel = (id: string) => {
    io.err(`cancelling job ${id} (Ctrl-C again to leave it running)`);
    client.cancelJob(id).catch(() => undefined);
  };
  const onSigint = () => {
    interrupted++;
    if (interrupted > 1) {
      io.err(
        jobId
          ? `left job ${jobId} running: watch it with swarmctl job ${jobId} --watch, stop it with swarmctl cancel ${jobId}`
          : 'interrupted',
      );
      controller.abort();
      return;
    }
    if (jobId === null) cancelPending = true;
    else cancel(jobId);
  };
  process.on('SIGINT', onSigint);
  try {
    for await (const text of client.runJob(JSON.stringify(input), { signal: controller.signal })) {
      const event = readJson<JobEvent>(text, 'job event');
      jobId = event.jobId;
      if (cancelPending) {
        cancelPending = false;
        cancel(jobId);
      }
      if (!opts.json) io.out(eventLine(event));
      if (event.kind === 'done') break;
    }
  } catch (err) {
    if (controller.signal.aborted) return ExitCodes.FAILED;
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (jobId === null)
    throw new SwarmError(ErrorCodes.CONTROL_FAILED, 'swarmd ended the job stream before the job started');
  const report = readJson<JobReport>((await client.getJob(jobId)).json, 'job report');
  if (opts.json) printJson(io, report);
  else io.out(runEnding(report));
  return report.state === 'passed' ? ExitCodes.OK : ExitCodes.FAILED;
};

/** The RunJob request from the command line (paths resolved here, where the user typed them). */
export function runInput(opts: CommandOptions, cwd = process.cwd()): RunJobInput {
  const task = opts.args[0] ?? '';
  const planFile = text(opts, 'plan');
  if (task.trim() === '' && planFile === undefined) {
    throw new SwarmError(
      ErrorCodes.ARGS_INVALID,
      'run needs a task: swarmctl run "make the failing date test pass" --repo .',
    );
  }
  let planText: string | null = null;
  if (planFile !== undefined) {
    try {
      planText = readFileSync(resolve(cwd, planFile), 'utf8');
    } catch (err) {
      throw new SwarmError(
        ErrorCodes.ARGS_INVALID,
        `--plan ${planFile}: cannot read it (${(err as Error).message})`,
      );
    }
  }
  const tier = (text(opts, 'tier') ?? 'auto') as StartTier;
  if (!['fast', 'deep', 'auto'].includes(tier)) {
    throw new SwarmError(ErrorCodes.ARGS_INVALID, `--tier ${JSON.stringify(tier)}: use fast, deep or auto`);
  }
  const bestOfText = text(opts, 'bestOf') ?? '1';
  const bestOf = Number(bestOfText);
  if (!/^\d+$/.test(bestOfText) || bestOf < 1 || bestOf > 8) {
    throw new SwarmError(
      ErrorCodes.ARGS_INVALID,
      `--best-of ${JSON.stringify(bestOfText)}: use a whole number from 1 to 8`,
    );
  }
  const privacyText = text(opts, 'privacy');
  if (privacyText !== undefined && !PRIVACY_ORDER.includes(privacyText as Privacy)) {
    throw new SwarmError(
      ErrorCodes.ARGS_INVALID,
      `--privacy ${JSON.stringify(privacyText)}: use local, lan or cloud`,
    );
  }
  const verify = opts.options['verify'];
  return {
    task,
    repo: resolve(cwd, text(opts, 'repo') ?? '.'),
    files: (text(opts, 'files') ?? '')
      .split(',')
      .map((file) => file.trim())
      .filter((file) => file !== ''),
    verify: Array.isArray(verify) ? (verify as string[]) : typeof verify === 'string' ? [verify] : [],
    tier,
    bestOf,
    privacy: (privacyText as Privacy | undefined) ?? null,
    planText,
  };
}

function text(opts: CommandOptions, name: string): string | undefined {
  const value = opts.options[name];
  return typeof value === 'string' ? value : undefined;
}
