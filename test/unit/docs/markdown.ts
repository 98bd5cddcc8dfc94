// Reading the project's Markdown for the doc tests: a `## ` section and the first cell of its
// table rows. Plain string work, no Markdown parser: the docs keep tables simple on purpose.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of a file or folder at the repository root. */
export function repoPath(relative: string): string {
  return fileURLToPath(new URL(`../../../${relative}`, import.meta.url));
}

/** The text of a file at the repository root. */
export function readRepoFile(relative: string): string {
  return readFileSync(repoPath(relative), 'utf8');
}

/** The body of the `## <heading>` section, up to the next `## ` heading; throws when absent. */
export function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`no "## ${heading}" section`);
  const bodyStart = start + heading.length + 5;
  const next = markdown.indexOf('\n## ', bodyStart);
  return markdown.slice(bodyStart, next === -1 ? undefined : next);
}

/** The first cell of every table row in the text (header and separator rows included). */
export function firstCells(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) => line.split(/(?<!\\)\|/)[1]?.trim() ?? '');
}
