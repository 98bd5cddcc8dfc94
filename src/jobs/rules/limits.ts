// Patch limits a proposal must keep: paths inside the repository (no absolute paths, no `..`,
// nothing under .git), at most maxFiles files and maxChangedLines changed lines. Pure: a
// refusal says what was over the limit so the model can try a smaller change.

/** The limits of one proposal. */
export interface PatchLimits {
  maxFiles: number;
  maxChangedLines: number;
}

/** A file as a proposal leaves it: the content before (null: new file) and after. */
export interface FileChange {
  path: string;
  before: string | null;
  after: string;
}

/** Why a path may not be written, or null when it may. */
export function pathProblem(path: string): string | null {
  if (path === '' || path.includes('\0')) return `"${path}" is not a file path`;
  if (path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:/.test(path))
    return `"${path}" is an absolute path; use a path relative to the repository root`;
  const parts = path.split(/[\\/]+/);
  if (parts.includes('..')) return `"${path}" leaves the repository (..); stay inside it`;
  if (parts.some((part) => part.toLowerCase() === '.git'))
    return `"${path}" is inside .git; change only the repository's files`;
  return null;
}

/** Normalise a repo-relative path (`./a//b` → `a/b`); the caller checks pathProblem first. */
export function normalisePath(path: string): string {
  return path
    .split(/[\\/]+/)
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

/** Lines added plus lines removed between two texts (exact for files up to a few thousand lines). */
export function changedLines(before: string | null, after: string): number {
  const a = before === null || before === '' ? [] : before.split('\n');
  const b = after === '' ? [] : after.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  if (midA.length === 0 || midB.length === 0 || midA.length * midB.length > 4_000_000)
    return midA.length + midB.length;
  // Longest common subsequence of the middle: what is neither added nor removed.
  let prev = new Uint32Array(midB.length + 1);
  let row = new Uint32Array(midB.length + 1);
  for (let i = 1; i <= midA.length; i++) {
    for (let j = 1; j <= midB.length; j++) {
      row[j] = midA[i - 1] === midB[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, row[j - 1]!);
    }
    [prev, row] = [row, prev];
  }
  const common = prev[midB.length]!;
  return midA.length + midB.length - 2 * common;
}

/** Why a proposal is refused, or null when it is within the limits. */
export function checkLimits(changes: readonly FileChange[], limits: PatchLimits): string | null {
  for (const change of changes) {
    const problem = pathProblem(change.path);
    if (problem) return problem;
  }
  const changed = changes.filter((change) => change.before !== change.after);
  if (changed.length > limits.maxFiles) {
    return `the change touches ${changed.length} files (${changed
      .map((c) => c.path)
      .join(', ')}); at most ${limits.maxFiles} files per attempt are allowed: change fewer files`;
  }
  const lines = changed.reduce((sum, change) => sum + changedLines(change.before, change.after), 0);
  if (lines > limits.maxChangedLines) {
    return `the change adds or removes ${lines} lines; at most ${limits.maxChangedLines} changed lines per attempt are allowed: make a smaller change`;
  }
  return null;
}
