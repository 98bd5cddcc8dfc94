// Best-of-n: which tiers the n parallel proposals use, and which passing candidate is kept —
// lint-clean first, then the smallest diff; a tie left after that may go to a reviewer. Pure.
import type { Tier } from '../../inference/types.js';
import type { VerifyStep } from '../types.js';

/**
 * The lint steps of a job, by name: in best-of they only rank candidates (a lint failure does not
 * fail one). A step is lint when its name or one of its words says so (`lint`, `npm run lint`,
 * `eslint .`, `golangci-lint run`, `ruff check`), whether detected, from --verify or .swarmd.yaml.
 */
export function lintSteps(steps: readonly VerifyStep[]): string[] {
  const lint = (word: string) => /lint/i.test(word) || /^(ruff|clippy|biome)$/i.test(word);
  return steps.filter((step) => lint(step.name) || step.argv.some(lint)).map((step) => step.name);
}

/**
 * The tier of each of n proposals: the configured mix, repeated as needed, keeping only the tiers
 * on the job's ladder (its start tier and above, cloud only where privacy allows): `--tier deep
 * --best-of 3` is three deep proposals, not the mix's fast ones. A mix with none of them uses
 * the start tier.
 */
export function bestOfTiers(n: number, mix: readonly Tier[], ladder: readonly Tier[]): Tier[] {
  const onLadder = mix.filter((tier) => ladder.includes(tier));
  const source = onLadder.length > 0 ? onLadder : [ladder[0] ?? 'fast'];
  return Array.from({ length: n }, (_, i) => source[i % source.length]!);
}

/** A verified candidate. */
export interface Candidate {
  index: number;
  passed: boolean;
  lintClean: boolean;
  changedLines: number;
}

/** Passing candidates best first; `tied` is true when the first two cannot be told apart. */
export function rankCandidates<T extends Candidate>(
  candidates: readonly T[],
): { ranked: T[]; tied: boolean } {
  const ranked = candidates
    .filter((c) => c.passed)
    .sort(
      (a, b) =>
        Number(b.lintClean) - Number(a.lintClean) || a.changedLines - b.changedLines || a.index - b.index,
    );
  const [first, second] = ranked;
  const tied =
    first !== undefined &&
    second !== undefined &&
    first.lintClean === second.lintClean &&
    first.changedLines === second.changedLines;
  return { ranked, tied };
}
