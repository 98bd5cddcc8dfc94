// Workspaces: the job's base (HEAD plus the user's uncommitted and untracked changes, as a
// commit made with a temporary index, touching neither the user's index nor working tree; for a
// plain directory, a copy committed into a scratch repository), fetched into swarmd's own
// repository in the job's scratch dir, and one worktree of that repository per attempt. The
// user's repository is never an attempt's git dir, so code run in an attempt cannot plant hooks
// or config in it; and swarmd's own git commands on an attempt name its git dir and work tree
// explicitly, never trusting the attempt's `.git` (which that code may have replaced). Reads and
// writes follow every symlink and stay inside the workspace; the delivered commit is the patch
// applied to the base in the user's repository, never an object made inside an attempt.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ErrorCodes, SwarmError } from '../../errors.js';
import { normalisePath, pathProblem } from '../rules/limits.js';
import { git } from './git.js';
import { readInside, writeProblem } from './inside.js';

/** Where attempts are checked out from. */
export interface Origin {
  /** The user's directory (repository root for a git repository). */
  userDir: string;
  /** The user's directory is a git repository (the result is also left as a branch). */
  isGit: boolean;
  /** swarmd's own git directory in the scratch dir, which every attempt is a worktree of. */
  gitDir: string;
  /** The commit every attempt starts from (in the user's repository too, when it is one). */
  base: string;
  /** Scratch directory of this job (temp index, swarmd's repository, worktrees); a real path. */
  scratch: string;
}

const SKIP_COPY = new Set(['node_modules', '.git']);
/** A job's scratch dir is `<tmpdir>/swarmd-job-<id>-XXXXXX`. */
const SCRATCH_PREFIX = 'swarmd-job-';

/** Snapshot the user's directory as a commit; creates a scratch dir the caller removes with dropOrigin. */
export async function snapshot(dir: string, jobId: string): Promise<Origin> {
  // Real, so the sandbox binds and a step's working directory name the same path.
  const scratch = realpathSync(await mkdtemp(join(tmpdir(), `${SCRATCH_PREFIX}${jobId}-`)));
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
      // Only the base's tree is copied: attempts need no history, and the copy is cheap.
      const gitDir = join(scratch, 'git');
      await git(scratch, ['init', '-q', '--bare', gitDir]);
      await git(gitDir, ['-c', 'protocol.version=2', 'fetch', '-q', '--no-tags', '--depth=1', userDir, base]);
      return { userDir, isGit: true, gitDir, base, scratch };
    }
    const userDir = realpathSync(dir);
    const copy = join(scratch, 'origin');
    await cp(userDir, copy, {
      recursive: true,
      // Links stay as they are (not re-pointed at the user's directory); reads check them.
      verbatimSymlinks: true,
      filter: (source) => !SKIP_COPY.has(source.split(sep).pop() ?? ''),
    });
    await git(copy, ['init', '-q']);
    const base = await commitEverything(copy, {}, ['.'], `swarmd job ${jobId}: base`);
    return { userDir, isGit: false, gitDir: join(copy, '.git'), base, scratch };
  } catch (err) {
    await rm(scratch, { recursive: true, force: true });
    throw err;
  }
}

/** Remove the scratch dir: swarmd's repository and every worktree of the job. */
export async function dropOrigin(origin: Origin): Promise<void> {
  await rm(origin.scratch, { recursive: true, force: true });
}

/**
 * Remove what a job killed mid-run left behind (its scratch dir with the worktrees in it), and
 * prune worktree entries in the repository (left there by jobs of swarmd versions that added
 * attempts to it). Never throws.
 */
export async function dropLeftovers(jobId: string, repo: string): Promise<void> {
  const prefix = `${SCRATCH_PREFIX}${jobId}-`;
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(prefix)))
    await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
  if (existsSync(repo)) await git(repo, ['worktree', 'prune'], { allow: [128] }).catch(() => undefined);
}

/**
 * The branch content of a passing change: `diff` applied to the base in the user's repository
 * (with a temporary index), committed there; returns the commit id. Built from the patch alone,
 * so nothing an attempt left in its checkout or its git objects reaches the user's repository.
 */
export async function commitPatch(origin: Origin, diff: string, message: string): Promise<string> {
  const env = { GIT_INDEX_FILE: join(origin.scratch, 'deliver-index') };
  await git(origin.userDir, ['read-tree', origin.base], { env });
  if (diff.trim() !== '') await git(origin.userDir, ['apply', '--cached', '-'], { env, input: diff });
  const tree = (await git(origin.userDir, ['write-tree'], { env })).stdout.trim();
  return (
    await git(origin.userDir, [
      '-c',
      'commit.gpgsign=false',
      'commit-tree',
      tree,
      '-p',
      origin.base,
      '-m',
      message,
    ])
  ).stdout.trim();
}

/** One attempt's checkout. */
export class Workspace {
  readonly dir: string;
  readonly base: string;
  private readonly origin: Origin;
  /** How swarmd's git commands find this checkout: its git dir and work tree, named. */
  private readonly env: Record<string, string>;

  private constructor(origin: Origin, dir: string, base: string, gitDir: string) {
    this.origin = origin;
    this.dir = dir;
    this.base = base;
    this.env = { GIT_DIR: gitDir, GIT_WORK_TREE: dir };
  }

  /** Check out `base` (default the job's base) into a new worktree named `name` under the scratch dir. */
  static async open(origin: Origin, name: string, base = origin.base): Promise<Workspace> {
    const dir = join(origin.scratch, name);
    await git(origin.gitDir, ['worktree', 'add', '--detach', '-q', dir, base]);
    // Read once now, before anything runs in the checkout: `gitdir: <its own git dir>`.
    const pointer = /^gitdir: (.+)$/m.exec(readFileSync(join(dir, '.git'), 'utf8'))?.[1]?.trim();
    if (!pointer)
      throw new SwarmError(ErrorCodes.JOB_WORKSPACE, `git worktree add left no .git file in ${dir}`);
    const gitDir = isAbsolute(pointer) ? pointer : resolve(dir, pointer);
    // Dependencies the user installed (ignored by git) are shared, read as they are.
    const modules = join(origin.userDir, 'node_modules');
    if (existsSync(modules) && !existsSync(join(dir, 'node_modules')))
      symlinkSync(modules, join(dir, 'node_modules'));
    return new Workspace(origin, dir, base, gitDir);
  }

  /** What verification in this checkout may read besides the system: swarmd's git dir, linked node_modules. */
  readOnlyPaths(): string[] {
    const modules = join(this.origin.userDir, 'node_modules');
    return [this.origin.gitDir, ...(existsSync(modules) ? [modules] : [])];
  }

  /** Run git on this checkout, with its git dir and work tree named (its `.git` is not trusted). */
  git(args: readonly string[], opts: { allow?: readonly number[]; input?: string } = {}) {
    return git(this.dir, args, { ...opts, env: this.env });
  }

  /** A file's content (null when absent, not a regular file, or resolving outside the workspace). */
  read(path: string): string | null {
    return readInside(this.dir, this.relativePath(path));
  }

  /** Why `path` may not be written (outside, through a symlink, a symlink itself), or null. */
  writeProblem(path: string): string | null {
    const problem = pathProblem(path);
    if (problem) return problem;
    return writeProblem(this.dir, this.relativePath(path));
  }

  /** Write a file; throws JOB_WORKSPACE where writeProblem names a problem. */
  write(path: string, content: string): void {
    const problem = this.writeProblem(path);
    if (problem) throw new SwarmError(ErrorCodes.JOB_WORKSPACE, problem);
    const full = join(this.dir, this.relativePath(path));
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }

  /** The change against the base as a git patch (binary-safe), '' when nothing changed. */
  async diff(): Promise<string> {
    await this.git(['add', '-A', '--', '.', ':(exclude)node_modules']);
    return (await this.git(['diff', '--cached', '--binary', this.base])).stdout;
  }

  /** Commit the change; returns the commit id. */
  async commit(message: string): Promise<string> {
    return commitEverything(this.dir, this.env, ['.', ':(exclude)node_modules'], message);
  }

  /** Apply a patch made against this workspace's base (plan subtasks into the combined result). */
  async applyPatch(patch: string): Promise<void> {
    if (patch.trim() === '') return;
    await this.git(['apply', '--index', '--3way', '-'], { input: patch });
  }

  /** Remove the checkout and its worktree entry. Safe to call twice. */
  async remove(): Promise<void> {
    // Nothing is run in the checkout: its `.git` may not be what git put there.
    await rm(this.dir, { recursive: true, force: true });
    await git(this.origin.gitDir, ['worktree', 'prune'], { allow: [128] }).catch(() => undefined);
  }

  /** `path` as a clean path relative to the workspace; throws JOB_WORKSPACE for one that leaves it. */
  private relativePath(path: string): string {
    const problem = pathProblem(path);
    if (problem) throw new SwarmError(ErrorCodes.JOB_WORKSPACE, problem);
    const rel = relative(this.dir, resolve(this.dir, normalisePath(path)));
    if (rel.startsWith('..') || rel === '')
      throw new SwarmError(ErrorCodes.JOB_WORKSPACE, `${path} is not inside the workspace`);
    return rel;
  }
}

/** sha256 of a text, as inside.ts fileHashInside computes it for a file holding it. */
export function textHash(text: string | null): string | null {
  return text === null ? null : createHash('sha256').update(text).digest('hex');
}

/**
 * Stage `paths` and commit them in `dir` (`env` names its git dir); returns the commit id. The
 * user's hooks and commit signing stay out of it: these are swarmd's own scratch commits.
 */
async function commitEverything(
  dir: string,
  env: Record<string, string>,
  paths: string[],
  message: string,
): Promise<string> {
  await git(dir, ['add', '-A', '--', ...paths], { env });
  await git(
    dir,
    ['-c', 'commit.gpgsign=false', 'commit', '-q', '--no-verify', '--allow-empty', '-m', message],
    { env },
  );
  return (await git(dir, ['rev-parse', 'HEAD'], { env })).stdout.trim();
}
