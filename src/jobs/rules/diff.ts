// Reading unified git diffs: how big a change is and which files it touches. Pure.

/** Lines added plus removed in a unified diff. */
export function countChangedLines(diff: string): number {
  let n = 0;
  for (const line of diff.split('\n')) {
    if (
      (line.startsWith('+') && !line.startsWith('+++')) ||
      (line.startsWith('-') && !line.startsWith('---'))
    )
      n++;
  }
  return n;
}

/** Paths a git diff changes. */
export function filesOfDiff(diff: string): string[] {
  const files: string[] = [];
  for (const match of diff.matchAll(/^diff --git a\/(.+?) b\/(.+)$/gm))
    if (!files.includes(match[2]!)) files.push(match[2]!);
  return files;
}
