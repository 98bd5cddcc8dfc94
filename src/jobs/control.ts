// The job RPCs of SwarmControl (control socket only): read what `swarmctl run` sent, hand it
// to the JobService, and stream its events back as JSON text.
import type { JobControlHandlers } from '../control/server.js';
import { ErrorCodes, SwarmError } from '../errors.js';
import type { Privacy } from '../inference/types.js';
import type { JobEventMessage, RunJobRequest } from '../rpc/wire.js';
import { stepsFromCommands } from './rules/detect.js';
import { normalisePath, pathProblem } from './rules/limits.js';
import { parsePlan } from './rules/plan.js';
import type { JobService } from './service.js';
import type { JobSpec, StartTier } from './types.js';

/** What `swarmctl run` sends (RunJobRequest.spec_json). */
export interface RunJobInput {
  task: string;
  repo: string;
  files?: string[];
  verify?: string[];
  tier?: StartTier;
  bestOf?: number;
  privacy?: Privacy | null;
  /** The plan file's text (`--plan`), parsed and checked here. */
  planText?: string | null;
}

/** The job handlers over a service; `maxConcurrent` is jobs.maxConcurrent. */
export function jobControlHandlers(service: JobService, maxConcurrent: number): JobControlHandlers {
  async function* stream(events: AsyncIterable<unknown>): AsyncGenerator<JobEventMessage> {
    for await (const event of events) yield { json: JSON.stringify(event) };
  }
  return {
    runJob: (request, signal) =>
      (async function* () {
        const report = await service.submit(specFrom(request, maxConcurrent));
        yield* stream(service.watch(report.id, signal));
      })(),
    watchJob: (request, signal) => {
      service.get(request.id);
      return stream(service.watch(request.id, signal));
    },
    listJobs: () => ({ json: JSON.stringify({ jobs: service.list() }) }),
    getJob: (request) => ({ json: JSON.stringify(service.get(request.id)) }),
    cancelJob: async (request) => ({ json: JSON.stringify(await service.cancel(request.id)) }),
    applyJob: async (request) => ({ json: JSON.stringify(await service.apply(request.id)) }),
  };
}

/** A JobSpec from RunJobRequest, every field checked. */
export function specFrom(request: RunJobRequest, maxConcurrent: number): JobSpec {
  let input: RunJobInput;
  try {
    input = JSON.parse(request.specJson) as RunJobInput;
  } catch {
    throw new SwarmError(
      ErrorCodes.JOB_INVALID,
      'the job request is not JSON: swarmctl and swarmd are different versions?',
    );
  }
  const plan = typeof input.planText === 'string' ? parsePlan(input.planText, maxConcurrent) : null;
  for (const subtask of plan?.subtasks ?? []) stepsFromCommands(subtask.verify);
  const files = (input.files ?? []).map((file) => {
    const problem = pathProblem(file);
    if (problem) throw new SwarmError(ErrorCodes.JOB_INVALID, `--files: ${problem}`);
    return normalisePath(file);
  });
  const task =
    typeof input.task === 'string' && input.task.trim() !== ''
      ? input.task
      : plan
        ? `plan: ${plan.subtasks.map((s) => s.id).join(', ')}`
        : '';
  return {
    task,
    repo: input.repo,
    files,
    verify: input.verify ?? [],
    tier: input.tier ?? 'auto',
    bestOf: input.bestOf ?? 1,
    privacy: input.privacy ?? null,
    plan,
  };
}
