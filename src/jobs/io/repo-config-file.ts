// Reading a repository's `.swarmd.yaml` (rules/repo-config.ts checks what it says). A file that
// is a symlink out of the repository, or not a regular file, is refused rather than read.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { invalid, parseRepoConfig, REPO_CONFIG_FILE, type RepoJobConfig } from '../rules/repo-config.js';
import { readInside } from './inside.js';

/** Read `.swarmd.yaml` of `dir`; null when there is none. Throws JOB_INVALID for a bad file. */
export function readRepoConfig(dir: string): RepoJobConfig | null {
  const path = join(dir, REPO_CONFIG_FILE);
  if (lstatSync(path, { throwIfNoEntry: false }) === undefined) return null;
  const text = readInside(dir, REPO_CONFIG_FILE);
  if (text === null)
    throw invalid(
      path,
      'cannot be read: it is not a regular file inside the repository (a symlink out of it?)',
    );
  return parseRepoConfig(text, path);
}
