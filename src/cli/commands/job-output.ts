// How swarmctl shows coding jobs: one line per progress event, the end of a run, the job
// table, and a full report. Pure: JSON in, text out.

import { ErrorCodes, SwarmError } from '../../errors.js';
import type { JobEvent, JobReport, JobSummary } from '../../jobs/types.js';
import { plainTable } from '../../util/table.js';

/** Parse JSON text the daemon sent, or say the two programs disagree. */
export function readJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new SwarmError(
      ErrorCodes.CONTROL_FAILED,
      `swarmd sent a ${what} swarmctl cannot read (${(err as Error).message}): swarmctl and swarmd are different versions?`,
    );
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`.padStart(7);
}

/** One progress line: elapsed, attempt, tier, model and node, subtask, pass/fail, what happened. */
export function eventLine(event: JobEvent): string {
  const parts = [`[${seconds(event.elapsedMs)}]`];
  if (event.subtask) parts.push(`(${event.subtask})`);
  if (event.attempt !== null) parts.push(`#${event.attempt}`);
  if (event.tier) parts.push(event.tier);
  if (event.model) parts.push(`${event.model}@${event.node ?? '?'}`);
  const mark = event.ok === true ? '✓ ' : event.ok === false ? '✗ ' : '';
  parts.push(`${mark}${event.message}`);
  return parts.join(' ');
}

/** What `swarmctl run` prints when the job ends. */
export function runEnding(report: JobReport): string {
  const lines = [`job ${report.id} ${report.state}: ${report.message}`];
  lines.push(
    `attempts: ${report.solveAttempts} verified, ${report.editFailures} edit(s) not applied · tiers ${report.tiersUsed.join(' → ') || '-'} · sandbox ${report.sandbox} · tokens ${report.tokens.prompt} in, ${report.tokens.completion} out · cost $${report.costUsd.toFixed(4)}`,
  );
  if (report.result) {
    lines.push(
      `change: ${report.result.files.join(', ')} (${report.result.changedLines} lines)${report.result.branch ? ` · branch ${report.result.branch}` : ''} · patch ${report.result.patchPath}`,
    );
    lines.push(`apply it to your working tree with: swarmctl apply ${report.id}`);
  } else if (report.lastFailure) {
    lines.push(`last failure (${report.lastFailure.step}): see swarmctl job ${report.id}`);
  }
  return lines.join('\n');
}

/** The `swarmctl jobs` table. */
export function jobsTable(jobs: readonly JobSummary[], now: number): string {
  if (jobs.length === 0) return 'no jobs yet: start one with swarmctl run "what to do" --repo .';
  return plainTable(
    ['ID', 'STATE', 'ATTEMPTS', 'STARTED', 'RESULT', 'TASK'],
    jobs.map((job) => [
      job.id,
      job.state,
      String(job.solveAttempts),
      `${Math.round((now - job.createdAt) / 1000)}s ago`,
      job.applied ? 'applied' : (job.branch ?? '-'),
      job.task.length > 50 ? `${job.task.slice(0, 49)}…` : job.task,
    ]),
  );
}

/** The full `swarmctl job <id>` report. */
export function reportText(report: JobReport): string {
  const lines = [
    `job ${report.id}: ${report.state} — ${report.message}`,
    `task: ${report.task}`,
    `repo: ${report.repo} · privacy ${report.privacy} · sandbox ${report.sandbox} · steps ${report.steps.map((s) => s.argv.join(' ')).join(', ')}`,
    `attempts: ${report.solveAttempts} verified, ${report.editFailures} edit(s) not applied · tiers ${report.tiersUsed.join(' → ') || '-'} · tokens ${report.tokens.prompt} in, ${report.tokens.completion} out · cost $${report.costUsd.toFixed(4)}`,
  ];
  if (report.attempts.length > 0) {
    lines.push(
      '',
      plainTable(
        ['#', 'SUBTASK', 'TIER', 'MODEL', 'NODE', 'OUTCOME', 'STEP', 'LINES', 'TIME'],
        report.attempts.map((a) => [
          a.candidate ? `${a.n} (c${a.candidate})` : String(a.n),
          a.subtask ?? '-',
          a.tier,
          a.model || '-',
          a.node || '-',
          a.outcome,
          a.failedStep ?? '-',
          String(a.changedLines),
          seconds(a.ms).trim(),
        ]),
      ),
    );
  }
  for (const subtask of report.subtasks)
    lines.push(`subtask ${subtask.id}: ${subtask.state} — ${subtask.message}`);
  if (report.lastFailure && report.state !== 'passed') {
    lines.push('', `last failure (${report.lastFailure.step}):`, report.lastFailure.output);
  }
  if (report.result) {
    lines.push(
      '',
      `change${report.result.applied ? ' (applied)' : ''}: ${report.result.branch ? `branch ${report.result.branch} · ` : ''}patch ${report.result.patchPath}`,
      report.result.diff.trimEnd(),
    );
  } else if (report.bestCandidateDiff) {
    lines.push('', 'best candidate diff:', report.bestCandidateDiff.trimEnd());
  }
  return lines.join('\n');
}
