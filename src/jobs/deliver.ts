// Delivery of a passing change: committed in its checkout, left as a branch in a git repository
// and as a patch file, with the base's hash of each touched file so a later apply can tell
// whether the user changed it since. The user's working tree is not touched here.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countChangedLines, filesOfDiff } from './diff.js';
import { git } from './git.js';
import type { JobRun } from './run-context.js';
import { textHash, type Workspace } from './workspace.js';

/** Leave the passing change as a branch (git repositories) and a patch file; removes `ws`. */
export async function deliver(job: JobRun, ws: Workspace, diff: string): Promise<void> {
  const { origin, report } = job;
  const files = filesOfDiff(diff);
  const baseHashes: Record<string, string | null> = {};
  for (const file of files) {
    const shown = await git(origin.gitDir, ['show', `${origin.base}:${file}`], { allow: [128] });
    baseHashes[file] = textHash(shown.exitCode === 0 ? shown.stdout : null);
  }
  const commit = await ws.commit(`swarmd job ${report.id}: ${job.spec.task.split('\n')[0]!.slice(0, 72)}`);
  mkdirSync(job.deps.patchDir, { recursive: true, mode: 0o700 });
  const patchPath = join(job.deps.patchDir, `${report.id}.patch`);
  writeFileSync(patchPath, diff, { mode: 0o600 });
  let branch: string | null = null;
  if (origin.isGit) {
    branch = `swarm/job-${report.id}`;
    await git(origin.userDir, ['branch', '-f', branch, commit]);
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
