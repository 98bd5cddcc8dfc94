// Plans (`swarmctl run --plan plan.yaml`): subtasks with dependsOn, checked with zod and for
// cycles, and the pure scheduling rule: a subtask may start once every dependency passed,
// fewer than maxConcurrent run, and no running subtask shares one of its files.
import { parse } from 'yaml';
import { z } from 'zod';
import { ErrorCodes, SwarmError } from '../../errors.js';
import type { JobPlan, PlanSubtask } from '../types.js';
import { normalisePath, pathProblem } from './limits.js';

const subtaskSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'expected a short id of letters, digits, - and _'),
  task: z.string().min(1, 'expected the subtask in words'),
  files: z.array(z.string().min(1)).default([]),
  verify: z.array(z.string().min(1)).default([]),
  dependsOn: z.array(z.string()).default([]),
});

const planSchema = z.strictObject({
  maxConcurrent: z.number().int().min(1).max(16).optional(),
  subtasks: z.array(subtaskSchema).min(1, 'a plan needs at least one subtask'),
});

/** Parse and check a plan file's text; maxConcurrent defaults to `defaultConcurrent`. */
export function parsePlan(text: string, defaultConcurrent: number): JobPlan {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new SwarmError(ErrorCodes.JOB_INVALID, `the plan is not valid YAML: ${(err as Error).message}`);
  }
  const result = planSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new SwarmError(
      ErrorCodes.JOB_INVALID,
      `the plan is invalid at ${issue.path.join('.') || '(top)'}: ${issue.message}`,
    );
  }
  const subtasks: PlanSubtask[] = result.data.subtasks.map((s) => ({
    ...s,
    files: s.files.map(checkedPath),
  }));
  const ids = new Set<string>();
  for (const s of subtasks) {
    if (ids.has(s.id)) throw new SwarmError(ErrorCodes.JOB_INVALID, `the plan names subtask "${s.id}" twice`);
    ids.add(s.id);
  }
  for (const s of subtasks) {
    for (const dep of s.dependsOn) {
      if (!ids.has(dep))
        throw new SwarmError(
          ErrorCodes.JOB_INVALID,
          `subtask "${s.id}" depends on "${dep}", which the plan does not have`,
        );
    }
  }
  const cycle = findCycle(subtasks);
  if (cycle)
    throw new SwarmError(
      ErrorCodes.JOB_INVALID,
      `the plan's dependencies form a cycle: ${cycle.join(' → ')}`,
    );
  return { maxConcurrent: result.data.maxConcurrent ?? defaultConcurrent, subtasks };
}

function checkedPath(path: string): string {
  const problem = pathProblem(path);
  if (problem) throw new SwarmError(ErrorCodes.JOB_INVALID, `plan file ${problem}`);
  return normalisePath(path);
}

function findCycle(subtasks: readonly PlanSubtask[]): string[] | null {
  const byId = new Map(subtasks.map((s) => [s.id, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === 'done') return null;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of byId.get(id)!.dependsOn) {
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(id, 'done');
    return null;
  };
  for (const s of subtasks) {
    const found = visit(s.id);
    if (found) return found;
  }
  return null;
}

/** Where each subtask is, for scheduling. */
export type SubtaskStatus = 'waiting' | 'running' | 'passed' | 'failed' | 'skipped';

/** The subtasks that may start now, in plan order. */
export function startable(plan: JobPlan, status: ReadonlyMap<string, SubtaskStatus>): PlanSubtask[] {
  const running = plan.subtasks.filter((s) => status.get(s.id) === 'running');
  const busy = new Set(running.flatMap((s) => s.files));
  let slots = plan.maxConcurrent - running.length;
  const out: PlanSubtask[] = [];
  for (const s of plan.subtasks) {
    if (slots <= 0) break;
    if (status.get(s.id) !== 'waiting') continue;
    if (!s.dependsOn.every((dep) => status.get(dep) === 'passed')) continue;
    if (s.files.some((file) => busy.has(file))) continue;
    out.push(s);
    for (const file of s.files) busy.add(file);
    slots--;
  }
  return out;
}

/** Subtasks that can never start because a dependency failed or was skipped. */
export function blocked(plan: JobPlan, status: ReadonlyMap<string, SubtaskStatus>): PlanSubtask[] {
  return plan.subtasks.filter(
    (s) =>
      status.get(s.id) === 'waiting' &&
      s.dependsOn.some((dep) => status.get(dep) === 'failed' || status.get(dep) === 'skipped'),
  );
}
