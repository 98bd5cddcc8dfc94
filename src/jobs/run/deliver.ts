// Delivery of a passing change: left as a patch file and, in a git repository, as a branch whose
// commit is that patch applied to the base (made by swarmd in the user's repository, so nothing
// else of the attempt's checkout comes along), with the base's hash of each touched file so a
// later apply can tell whether the user changed it since. The user's working tree is not touched.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git } from '../io/git.js';
import { commitPatch, textHash, type Workspace } from '../io/workspace.js';
import { countChangedLines, filesOfDiff } from '../rules/diff.js';
import type { JobRun } from './run-context.js';

/** Leave the passing change as a branch (git repositories) and a patch file; removes `ws`. */
export async function deliver(job: JobRun, ws: Workspace, diff: string): Promise<void> {
  const { origin, report } = job;
  const files = filesOfDiff(diff);
  const baseHashes: Record<string, string | null> = {};
  for (const file of files) {
    const shown = await git(origin.gitDir, ['show', `${origin.base}:${file}`], { allow: [128] });
    baseHashes[file] = textHash(shown.exitCode === 0 ? shown.stdout : null);
  }
  mkdirSync(job.deps.patchDir, { recursive: true, mode: 0o700 });
  const patchPath = join(job.deps.patchDir, `${report.id}.patch`);
  writeFileSync(patchPath, diff, { mode: 0o600 });
  let branch: string | null = null;
  if (origin.isGit) {
    branch = `swarm/job-${report.id}`;
    const message = `swarmd job ${report.id}: ${job.spec.task.split('\n')[0]!.slice(0, 72)}`;
    await git(origin.userDir, ['branch', '-f', branch, await commitPatch(origin, diff, message)]);
  }
  report.result = {
    branch,
    patchPath,
    diff,
    files,
    changedLines: countChangedLines(diff),
    applied: false,
    baseHashes,
  };
  await ws.remove();
}
