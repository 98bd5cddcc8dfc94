// The files a model sees: the ones the user named, then files the failing output mentions,
// then files whose names or contents match words of the task and identifiers of the failure,
// most matches first, until the token budget (about 4 characters a token) is spent.
import type { ContextFile } from './prompt.js';

/** What the context is gathered from. */
export interface ContextInput {
  /** git on a checkout of the job's base. */
  git: (
    args: readonly string[],
    opts?: { allow?: readonly number[] },
  ) => Promise<{ stdout: string; exitCode: number }>;
  read: (path: string) => string | null;
  named: readonly string[];
  task: string;
  /** Failing verification output ('' when none). */
  failure: string;
  budgetTokens: number;
}

const STOP = new Set(
  'make that this with from into should would could the and for are not but have when then than test tests pass passes passing fail fails failing failed error errors fix fixes file files code function return returns true false null undefined expected actual line lines node npm run'.split(
    ' ',
  ),
);
const MAX_WORDS = 10;
const MAX_FILE_CHARS = 60_000;
const SKIP =
  /(^|\/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|Cargo\.lock|go\.sum)$|\.(png|jpe?g|gif|ico|pdf|zip|gz|woff2?|min\.js)$/;

/** Words of a text worth searching for: identifiers of 4+ characters, most specific first. */
export function searchWords(text: string): string[] {
  const words = text.match(/[A-Za-z_][A-Za-z0-9_]{3,}/g) ?? [];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const word of words) {
    const key = word.toLowerCase();
    if (STOP.has(key) || seen.has(key)) continue;
    seen.add(key);
    out.push(word);
  }
  // Identifiers with inner capitals or underscores say more than plain words.
  return out.sort((a, b) => specificity(b) - specificity(a)).slice(0, MAX_WORDS);
}

function specificity(word: string): number {
  return (/[a-z][A-Z]|_/.test(word) ? 10 : 0) + Math.min(word.length, 12);
}

/** Repository paths a failure output mentions (`test/date.test.js:12:3`, `./src/a.ts`). */
export function mentionedPaths(output: string, known: ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (const match of output.matchAll(
    /(?:\.\/)?([\w@.-]+(?:\/[\w@.-]+)*\.[A-Za-z0-9]{1,6})(?=[:\s'")]|$)/g,
  )) {
    const path = match[1]!;
    if (known.has(path) && !found.includes(path)) found.push(path);
  }
  return found;
}

/** The context files for a prompt, within the budget. */
export async function gatherContext(input: ContextInput): Promise<ContextFile[]> {
  const listed = (await input.git(['ls-files', '-z'])).stdout.split('\0').filter((p) => p !== '');
  const known = new Set(listed);
  const order: string[] = [...input.named];
  const add = (path: string) => {
    if (!order.includes(path)) order.push(path);
  };
  for (const path of mentionedPaths(input.failure, known)) add(path);
  const words = searchWords(`${input.task}\n${failingLines(input.failure)}`);
  const score = new Map<string, number>();
  for (const path of listed) {
    const base = (path.split('/').pop() ?? '').toLowerCase();
    for (const word of words)
      if (base.includes(word.toLowerCase())) score.set(path, (score.get(path) ?? 0) + 3);
  }
  for (const word of words) {
    const hits = await input.git(['grep', '-l', '-I', '-i', '-F', '-e', word], { allow: [1] });
    for (const path of hits.stdout.split('\n').filter((p) => p !== ''))
      score.set(path, (score.get(path) ?? 0) + 1);
  }
  for (const [path] of [...score].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) add(path);

  const files: ContextFile[] = [];
  let chars = 0;
  const budget = input.budgetTokens * 4;
  for (const path of order) {
    if (SKIP.test(path) && !input.named.includes(path)) continue;
    const content = input.read(path);
    if (content === null || content.length > MAX_FILE_CHARS) continue;
    if (chars + content.length > budget && !input.named.includes(path)) continue;
    files.push({ path, content });
    chars += content.length;
  }
  return files;
}

function failingLines(output: string): string {
  return output
    .split('\n')
    .filter((line) => /fail|error|expected|assert|not ok/i.test(line))
    .join('\n');
}
