// Workspaces: the job's base (HEAD plus the user's uncommitted and untracked changes, as a
// commit that touches neither the user's index nor working tree; for a plain directory, a copy
// made into a scratch git repository) and one git worktree per attempt checked out from it.
// Nothing a model proposes is ever written outside an attempt's own worktree.
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ErrorCodes, SwarmError } from '../errors.js';
import { git } from './git.js';
import { normalisePath, pathProblem } from './limits.js';

/** Where attempts are checked out from. */
export interface Origin {
  /** The user's directory (repository root for a git repository). */
  userDir: string;
  /** The user's directory is a git repository (the result is also left as a branch). */
  isGit: boolean;
  /** The git repository worktrees are added to: the user's own, or the scratch copy. */
  gitDir: string;
  /** The commit every attempt starts from. */
  base: string;
  /** Scratch directory of this job (temp index, copy, worktrees). */
  scratch: string;
}

const SKIP_COPY = new Set(['node_modules', '.git']);
/** A job's scratch dir is `<tmpdir>/swarmd-job-<id>-XXXXXX`. */
const SCRATCH_PREFIX = 'swarmd-job-';

/** Snapshot the user's directory as a commit; creates a scratch dir the caller removes with dropOrigin. */
export async function snapshot(dir: string, jobId: string): Promise<Origin> {
  const scratch = await mkdtemp(join(tmpdir(), `${SCRATCH_PREFIX}${jobId}-`));
  try {
    const top = await git(dir, ['rev-parse', '--show-toplevel'], { allow: [128] });
    if (top.exitCode === 0) {
      const userDir = realpathSync(top.stdout.trim());
      const env = { GIT_INDEX_FILE: join(scratch, 'index') };
      const head = await git(userDir, ['rev-parse', '--verify', '-q', 'HEAD'], { allow: [1] });
      const parent = head.exitCode === 0 ? head.stdout.trim() : null;
      if (parent) await git(userDir, ['read-tree', parent], { env });
      await git(userDir, ['add', '-A', '--', '.'], { env });
      const tree = (await git(userDir, ['write-tree'], { env })).stdout.trim();
      const base = (
        await git(userDir, [
          'commit-tree',
          tree,
          ...(parent ? ['-p', parent] : []),
          '-m',
          `swarmd job ${jobId}: base (HEAD with uncommitted changes)`,
        ])
      ).stdout.trim();
      return { userDir, isGit: true, gitDir: userDir, base, scratch };
    }
    const userDir = realpathSync(dir);
    const copy = join(scratch, 'origin');
    await cp(userDir, copy, {
      recursive: true,
      filter: (source) => !SKIP_COPY.has(source.split(sep).pop() ?? ''),
    });
    await git(copy, ['init', '-q']);
    const base = await commitEverything(copy, ['.'], `swarmd job ${jobId}: base`);
    return { userDir, isGit: false, gitDir: copy, base, scratch };
  } catch (err) {
    await rm(scratch, { recursive: true, force: true });
    throw err;
  }
}

/** Remove the scratch dir and every worktree the job added to the user's repository. */
export async function dropOrigin(origin: Origin): Promise<void> {
  await rm(origin.scratch, { recursive: true, force: true });
  await git(origin.gitDir, ['worktree', 'prune'], { allow: [128] }).catch(() => undefined);
}

/**
 * Remove what a job killed mid-run left behind (its scratch dir with the worktrees in it) and
 * prune the worktree entries that pointed there from the repository. Never throws.
 */
export async function dropLeftovers(jobId: string, repo: string): Promise<void> {
  const prefix = `${SCRATCH_PREFIX}${jobId}-`;
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(prefix)))
    await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
  if (existsSync(repo)) await git(repo, ['worktree', 'prune'], { allow: [128] }).catch(() => undefined);
}

/** One attempt's checkout. */
export class Workspace {
  readonly dir: string;
  readonly base: string;
  private readonly origin: Origin;

  private constructor(origin: Origin, dir: string, base: string) {
    this.origin = origin;
    this.dir = dir;
    this.base = base;
  }

  /** Check out `base` (default the job's base) into a new worktree named `name` under the scratch dir. */
  static async open(origin: Origin, name: string, base = origin.base): Promise<Workspace> {
    const dir = join(origin.scratch, name);
    await git(origin.gitDir, ['worktree', 'add', '--detach', '-q', dir, base]);
    // Dependencies the user installed (ignored by git) are shared, read as they are.
    const modules = join(origin.userDir, 'node_modules');
    if (existsSync(modules) && !existsSync(join(dir, 'node_modules')))
      symlinkSync(modules, join(dir, 'node_modules'));
    return new Workspace(origin, dir, base);
  }

  /** A file's content (null when absent or not a regular file). */
  read(path: string): string | null {
    const full = this.resolveInside(path);
    try {
      if (!lstatSync(full).isFile()) return null;
      return readFileSync(full, 'utf8');
    } catch {
      return null;
    }
  }

  /** Write a file, refusing anything that would land outside the workspace (.., absolute, symlinks). */
  write(path: string, content: string): void {
    const full = this.resolveInside(path);
    mkdirSync(dirname(full), { recursive: true });
    const parent = realpathSync(dirname(full));
    const root = realpathSync(this.dir);
    if (parent !== root && !parent.startsWith(root + sep)) {
      throw new SwarmError(ErrorCodes.JOB_WORKSPACE, `${path} leads outside the workspace through a symlink`);
    }
    if (existsSync(full) && lstatSync(full).isSymbolicLink()) {
      throw new SwarmError(
        ErrorCodes.JOB_WORKSPACE,
        `${path} is a symlink; swarmd does not write through links`,
      );
    }
    writeFileSync(full, content);
  }

  /** The change against the base as a git patch (binary-safe), '' when nothing changed. */
  async diff(): Promise<string> {
    await git(this.dir, ['add', '-A', '--', '.', ':(exclude)node_modules']);
    return (await git(this.dir, ['diff', '--cached', '--binary', this.base])).stdout;
  }

  /** Commit the change; returns the commit id. */
  async commit(message: string): Promise<string> {
    return commitEverything(this.dir, ['.', ':(exclude)node_modules'], message);
  }

  /** Apply a patch made against this workspace's base (plan subtasks into the combined result). */
  async applyPatch(patch: string): Promise<void> {
    if (patch.trim() === '') return;
    await git(this.dir, ['apply', '--index', '--3way', '-'], { input: patch });
  }

  /** Remove the worktree. Safe to call twice. */
  async remove(): Promise<void> {
    await git(this.origin.gitDir, ['worktree', 'remove', '--force', this.dir], { allow: [128] }).catch(
      () => undefined,
    );
    await rm(this.dir, { recursive: true, force: true });
  }

  private resolveInside(path: string): string {
    const problem = pathProblem(path);
    if (problem) throw new SwarmError(ErrorCodes.JOB_WORKSPACE, problem);
    const full = resolve(this.dir, normalisePath(path));
    const rel = relative(this.dir, full);
    if (rel.startsWith('..') || rel === '')
      throw new SwarmError(ErrorCodes.JOB_WORKSPACE, `${path} is not inside the workspace`);
    return full;
  }
}

/** sha256 of a file's content, null when it does not exist (to see whether the user changed it since). */
export function fileHash(path: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return null;
  }
}

/** sha256 of a text, as fileHash computes it for a file holding it. */
export function textHash(text: string | null): string | null {
  return text === null ? null : createHash('sha256').update(text).digest('hex');
}

/**
 * Stage `paths` and commit them in `dir`; returns the commit id. The user's hooks and commit
 * signing stay out of it: these are swarmd's own scratch commits.
 */
async function commitEverything(dir: string, paths: string[], message: string): Promise<string> {
  await git(dir, ['add', '-A', '--', ...paths]);
  await git(dir, [
    '-c',
    'commit.gpgsign=false',
    'commit',
    '-q',
    '--no-verify',
    '--allow-empty',
    '-m',
    message,
  ]);
  return (await git(dir, ['rev-parse', 'HEAD'])).stdout.trim();
}
