// A unit's best-of-n first round: n proposals at once, spread over the swarm's nodes, each
// verified in its own checkout; best-of.ts ranks the passing ones and a reviewer-tier model
// breaks a tie. Without a winner, the smallest failing change feeds the repair loop.

import { bestOfTiers, lintSteps, rankCandidates } from '../rules/best-of.js';
import { initialPrompt, type PromptBase } from '../rules/prompt.js';
import { editFormatFor } from '../rules/settings.js';
import { type AttemptResult, attempt } from './attempt.js';
import { type JobRun, type Placement, type Solved, type Unit, useTier } from './run-context.js';

/** How long a best-of proposal waits for the one before it to be placed on a node. */
const PLACEMENT_WAIT_MS = 1_000;

/** The round's passing winner, or else the applied proposal with the smallest change (or none). */
export interface BestOfOutcome {
  winner: Solved | null;
  bestFailing: AttemptResult | null;
}

/** Best-of-n: n proposals at once, each verified in its own checkout; the best passing one wins. */
export async function bestOfRound(job: JobRun, unit: Unit, base: PromptBase): Promise<BestOfOutcome> {
  const { deps } = job;
  const tiers = bestOfTiers(unit.bestOf, deps.settings.bestOfMix, unit.ladder);
  for (const tier of tiers) useTier(job.report, tier);
  // Spread the proposals over the swarm: each call prefers nodes the earlier ones did not
  // get, so each waits (briefly) until the one before it was handed to a node.
  const lint = lintSteps(unit.steps);
  const used: string[] = [];
  let previous: Promise<void> = Promise.resolve();
  const results = await Promise.all(
    tiers.map((tier, i) => {
      const format = editFormatFor(deps.settings, tier, deps.tierModel(tier));
      const after = previous;
      let placed!: () => void;
      previous = new Promise<void>((resolve) => {
        placed = resolve;
      });
      const placement: Placement = {
        preferOtherThan: used,
        onNode: (nodeId) => {
          if (!used.includes(nodeId)) used.push(nodeId);
          placed();
        },
      };
      return (async () => {
        await within(after, PLACEMENT_WAIT_MS);
        return attempt(job, unit, {
          tier,
          messages: initialPrompt({ ...base, format }),
          format,
          candidate: i + 1,
          advisory: lint,
          placement,
        });
      })().finally(placed);
    }),
  );
  const { ranked, tied } = rankCandidates(
    results.map((r, i) => ({
      index: i + 1,
      passed: r.passed,
      lintClean: r.lintClean,
      changedLines: r.report.changedLines,
    })),
  );
  const pick = (index: number | undefined) => (index === undefined ? null : results[index - 1]!);
  let winner: AttemptResult | null = pick(ranked[0]?.index);
  const second = pick(ranked[1]?.index);
  if (winner && tied && second) winner = await review(job, unit, winner, second);
  for (const r of results) if (r !== winner && r.workspace) await r.workspace.remove();
  job.report.editFailures += results.filter((r) => !r.applied).length;
  if (winner) {
    return {
      winner: {
        passed: true,
        diff: winner.report.diff,
        workspace: winner.workspace,
        message: `best-of-${unit.bestOf}: kept candidate ${winner.report.candidate} of ${results.filter((r) => r.passed).length} passing (${winner.report.tier}: ${winner.report.model})`,
      },
      bestFailing: null,
    };
  }
  const failing = results
    .filter((r) => r.applied)
    .sort((a, b) => a.report.changedLines - b.report.changedLines);
  return { winner: null, bestFailing: failing[0] ?? null };
}

/** Ask a reviewer-tier model to break a tie between two passing candidates; the first on any trouble. */
async function review(job: JobRun, unit: Unit, a: AttemptResult, b: AttemptResult): Promise<AttemptResult> {
  try {
    const answer = await job.deps.complete(
      [
        { role: 'system', content: 'You review code changes. Answer with exactly one letter: A or B.' },
        {
          role: 'user',
          content: `Task: ${unit.task}\n\nBoth changes pass verification. Which is better?\n\n## A\n\`\`\`diff\n${a.report.diff}\n\`\`\`\n\n## B\n\`\`\`diff\n${b.report.diff}\n\`\`\``,
        },
      ],
      'reviewer',
      job.signal,
    );
    return /^\W*B\b/i.test(answer.content.trim()) ? b : a;
  } catch {
    return a;
  }
}

/** Wait for `promise` at most `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
