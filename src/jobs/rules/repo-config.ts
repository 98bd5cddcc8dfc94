// The per-repository job settings: `.swarmd.yaml` in the directory a job works on, section
// `jobs:`. It gives the verification steps (used when `swarmctl run` has no --verify; they
// beat detection), their environment variables, context hints, edit formats, and limits that
// can only tighten this daemon's (a repository may come from anyone: the smaller value
// applies, and it names no variable of the daemon's). Checked with zod; a bad file is refused
// naming the file, the key, the value and what is allowed. Pure: io/repo-config-file.ts reads
// the file (never one that is a symlink out of the repository).
import { parse } from 'yaml';
import { z } from 'zod';
import { ErrorCodes, errorMessage, SwarmError } from '../../errors.js';
import { parseDuration } from '../../util/duration.js';
import type { VerifyStep } from '../types.js';
import { stepsFromCommands } from './detect.js';
import { normalisePath, pathProblem } from './limits.js';
import type { JobSettings } from './settings.js';
import { SANDBOX_VARIABLES } from './step-env.js';

/** The file's name, in the job's repository directory. */
export const REPO_CONFIG_FILE = '.swarmd.yaml';

const format = z.enum(['whole', 'search-replace'], { message: 'expected whole or search-replace' });

const jobsSchema = z.strictObject({
  /** Verification commands, run in order without a shell (as --verify). */
  verify: z.array(z.string().min(1, 'expected a command')).min(1, 'expected at least one command').optional(),
  /** Deadline of each step; at most the daemon's jobs.stepTimeout. */
  stepTimeout: z
    .union([z.string(), z.number()])
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === null || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration such as 30s or 2m' });
        return z.NEVER;
      }
      return ms;
    })
    .optional(),
  /** Files put in every prompt first (after --files). */
  files: z.array(z.string().min(1, 'expected a file path')).optional(),
  /** At most the daemon's jobs.maxFiles. */
  maxFiles: z.number().int().min(1, 'expected at least 1').optional(),
  /** At most the daemon's jobs.maxChangedLines. */
  maxChangedLines: z.number().int().min(1, 'expected at least 1').optional(),
  /** Edit format by model id or tier, over the daemon's jobs.editFormats. */
  editFormats: z.record(z.string().min(1), format).optional(),
  /** Variables the verification steps get, with these values (on top of PATH and the locale). */
  env: z
    .record(
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a variable name (letters, digits, _)')
        .refine((name) => !SANDBOX_VARIABLES.includes(name), {
          message: `${SANDBOX_VARIABLES.join(' and ')} are set by swarmd`,
        }),
      z.union([z.string(), z.number(), z.boolean()], { message: 'expected a text, number or true/false' }),
    )
    .optional(),
});

const fileSchema = z.strictObject({ jobs: jobsSchema.optional() });

/** What a repository's file says, checked. */
export interface RepoJobConfig {
  /** The file it came from. */
  path: string;
  /** Null: the file gives none. */
  steps: VerifyStep[] | null;
  files: string[];
  stepTimeoutMs: number | null;
  maxFiles: number | null;
  maxChangedLines: number | null;
  editFormats: JobSettings['editFormats'];
  env: Record<string, string>;
}

/** Check a `.swarmd.yaml` text (`path` names it in errors). */
export function parseRepoConfig(text: string, path: string): RepoJobConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw invalid(path, `is not valid YAML: ${errorMessage(err)}`);
  }
  const result = fileSchema.safeParse(raw ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
      const allowed = issue.path.length > 0 ? Object.keys(jobsSchema.shape) : ['jobs'];
      throw invalid(
        path,
        `has the unknown key ${issue.keys.map((k) => `${where}${k}`).join(', ')}; allowed: ${allowed.map((k) => `${where}${k}`).join(', ')}`,
      );
    }
    if (issue.code === 'invalid_key') {
      // A bad name in a mapping (jobs.env): say the name and why, not its value.
      const name = String(issue.path.at(-1));
      const why = issue.issues[0]?.message ?? issue.message;
      throw invalid(path, `${issue.path.slice(0, -1).join('.')}: the name ${shown(name)} is refused; ${why}`);
    }
    const key = issue.path.join('.') || '(top)';
    throw invalid(path, `${key}: got ${shown(valueAt(raw, issue.path))}; ${issue.message}`);
  }
  const jobs = result.data.jobs ?? {};
  let steps: VerifyStep[] | null = null;
  if (jobs.verify) {
    try {
      steps = stepsFromCommands(jobs.verify);
    } catch (err) {
      throw invalid(path, `jobs.verify: ${errorMessage(err)}`);
    }
  }
  const files = (jobs.files ?? []).map((file, i) => {
    const problem = pathProblem(file);
    if (problem) throw invalid(path, `jobs.files.${i}: ${problem}`);
    return normalisePath(file);
  });
  return {
    path,
    steps,
    files,
    stepTimeoutMs: jobs.stepTimeout ?? null,
    maxFiles: jobs.maxFiles ?? null,
    maxChangedLines: jobs.maxChangedLines ?? null,
    editFormats: jobs.editFormats ?? {},
    env: Object.fromEntries(Object.entries(jobs.env ?? {}).map(([name, value]) => [name, String(value)])),
  };
}

/** The daemon's settings with a repository's: limits only ever tighter, its edit formats over the daemon's. */
export function settingsWithRepo(settings: JobSettings, repo: RepoJobConfig | null): JobSettings {
  if (!repo) return settings;
  const tighter = (own: number, theirs: number | null) => (theirs === null ? own : Math.min(own, theirs));
  return {
    ...settings,
    stepTimeoutMs: tighter(settings.stepTimeoutMs, repo.stepTimeoutMs),
    maxFiles: tighter(settings.maxFiles, repo.maxFiles),
    maxChangedLines: tighter(settings.maxChangedLines, repo.maxChangedLines),
    editFormats: { ...settings.editFormats, ...repo.editFormats },
    env: { ...settings.env, ...repo.env },
  };
}

/** A bad `.swarmd.yaml`: JOB_INVALID naming the file and what is wrong with it. */
export function invalid(path: string, what: string): SwarmError {
  return new SwarmError(
    ErrorCodes.JOB_INVALID,
    `${path} ${what}; fix the file (or move it away) and run again`,
  );
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
