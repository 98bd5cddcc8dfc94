// Paths of a repository that stay inside it, every symlink followed. A committed folder link
// (docs -> ~/.ssh), or one made by code under verification, must not lead a read into a prompt
// or a write onto the user's files. Callers have checked the path itself (limits.ts pathProblem).
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { RepoFiles } from '../rules/detect.js';

/** `path` is `root` or below it (both real paths). */
function within(root: string, path: string): boolean {
  return path === root || path.startsWith(root + sep);
}

/** The real path of `rel` under `root` when it exists and resolves inside `root`; else null. */
export function realInside(root: string, rel: string): string | null {
  try {
    const real = realpathSync(resolve(root, rel));
    return within(realpathSync(root), real) ? real : null;
  } catch {
    return null;
  }
}

/** A regular file's text under `root`, null when missing, not a file, or outside `root`. */
export function readInside(root: string, rel: string): string | null {
  const real = realInside(root, rel);
  try {
    return real !== null && statSync(real).isFile() ? readFileSync(real, 'utf8') : null;
  } catch {
    return null;
  }
}

/** `rel` exists under `root` and resolves inside it. */
export function existsInside(root: string, rel: string): boolean {
  return realInside(root, rel) !== null;
}

/** The files under `root` as step detection reads them: only what resolves inside `root`. */
export function filesInside(root: string): RepoFiles {
  return { exists: (rel) => existsInside(root, rel), read: (rel) => readInside(root, rel) };
}

/**
 * Why writing `rel` under `root` would not write the file it names, or null when it may be
 * written: a directory on its way that is a symlink out of `root`, or a symlink as the file.
 */
export function writeProblem(root: string, rel: string): string | null {
  const top = realpathSync(root);
  const full = resolve(root, rel);
  // The nearest part of the path that exists decides where the write lands.
  let existing = dirname(full);
  while (lstatSync(existing, { throwIfNoEntry: false }) === undefined) existing = dirname(existing);
  let real: string;
  try {
    real = realpathSync(existing);
  } catch {
    return `"${rel}" goes through a broken symlink; change only files inside the repository`;
  }
  if (!within(top, real)) {
    const link = firstLink(root, relative(root, existing));
    return `"${rel}" goes through the symlink ${link ?? relative(root, existing)}, which leads outside the repository; change only files inside it`;
  }
  if (lstatSync(full, { throwIfNoEntry: false })?.isSymbolicLink()) {
    return `"${rel}" is a symlink; swarmd does not write through links: change the file it points to, if that is inside the repository`;
  }
  return null;
}

/** The first part of `rel` (under `root`) that is a symlink, as a repository path. */
function firstLink(root: string, rel: string): string | null {
  const parts = rel.split(sep);
  for (let i = 1; i <= parts.length; i++) {
    const path = parts.slice(0, i).join(sep);
    if (lstatSync(join(root, path), { throwIfNoEntry: false })?.isSymbolicLink()) return path;
  }
  return null;
}

/**
 * sha256 of a file's content under `root`; null when it does not exist, `outside` when it
 * resolves outside `root` (equal to no recorded hash, so it reads as changed).
 */
export function fileHashInside(root: string, rel: string): string | null {
  const full = resolve(root, rel);
  if (lstatSync(full, { throwIfNoEntry: false }) === undefined) return null;
  const real = realInside(root, rel);
  if (real === null) return 'outside';
  try {
    return createHash('sha256').update(readFileSync(real)).digest('hex');
  } catch {
    return null;
  }
}
