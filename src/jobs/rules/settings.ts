// The jobs section of the config, as the job runner reads it (durations in ms). Pure.
import type { Tier } from '../../inference/types.js';
import type { EditFormat } from '../types.js';

/** jobs.sandbox.mode. */
export type SandboxMode = 'auto' | 'off';

/** jobs.sandbox (io/sandbox.ts builds the sandbox from it). */
export interface SandboxSettings {
  mode: SandboxMode;
  /** Paths a step may read inside the sandbox (`~/` is the daemon's home); missing ones are skipped. */
  readOnly: readonly string[];
}

/** jobs.* after validation. */
export interface JobSettings {
  sandbox: SandboxSettings;
  /** Variables verification steps get from the repository's `.swarmd.yaml` (none from the daemon's config). */
  env: Readonly<Record<string, string>>;
  attemptsPerTier: number;
  maxAttempts: number;
  maxEditFailures: number;
  maxFiles: number;
  maxChangedLines: number;
  stepTimeoutMs: number;
  contextTokens: number;
  /** Tiers a job climbs, in order (cloud used only when the job's privacy is cloud). */
  escalation: readonly Tier[];
  /** Edit format by model id or tier; a tier not listed: fast → whole, others → search-replace. */
  editFormats: Readonly<Record<string, EditFormat>>;
  bestOfMix: readonly Tier[];
  maxConcurrent: number;
}

/** The edit format for a call on `tier` whose likely model is `model` (the tier's first configured one). */
export function editFormatFor(
  settings: Pick<JobSettings, 'editFormats'>,
  tier: Tier,
  model: string | null,
): EditFormat {
  const formats = settings.editFormats;
  if (model !== null && Object.hasOwn(formats, model)) return formats[model]!;
  if (Object.hasOwn(formats, tier)) return formats[tier]!;
  return tier === 'fast' ? 'whole' : 'search-replace';
}
