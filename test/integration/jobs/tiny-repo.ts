// Tiny real repositories for job tests: plain JS whose `npm test` runs `node --test` offline
// with no dependencies, committed in a fresh git repository in a temp dir, with a failing test.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The buggy date helper: months and days are not zero-padded. */
export const BUGGY_DATE = `export function formatDate(d) {
  return \`\${d.getUTCFullYear()}-\${d.getUTCMonth() + 1}-\${d.getUTCDate()}\`;
}
`;

export const DATE_TEST = `import assert from 'node:assert/strict';
import test from 'node:test';
import { formatDate } from '../src/date.js';

test('formats a date as YYYY-MM-DD', () => {
  assert.equal(formatDate(new Date(Date.UTC(2024, 0, 5))), '2024-01-05');
});
`;

export const PACKAGE_JSON = `${JSON.stringify(
  { name: 'tiny', version: '1.0.0', private: true, type: 'module', scripts: { test: 'node --test test/' } },
  null,
  2,
)}\n`;

/** A repository on disk. */
export interface TinyRepo {
  dir: string;
  read(path: string): string;
  write(path: string, content: string): void;
  git(...args: string[]): string;
  remove(): void;
}

/**
 * A git repository with `files` committed (default: the failing date project), in a new dir
 * under `opts.parent` (default the temp dir).
 */
export function makeRepo(
  files: Record<string, string> = {
    'package.json': PACKAGE_JSON,
    'src/date.js': BUGGY_DATE,
    'test/date.test.js': DATE_TEST,
  },
  opts: { git?: boolean; parent?: string } = {},
): TinyRepo {
  const root = mkdtempSync(join(opts.parent ?? tmpdir(), 'swarmd-job-repo-'));
  const dir = join(root, 'repo');
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@t',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@t',
        // The security suite hands its repositories to another user; the test still reads them.
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'safe.directory',
        GIT_CONFIG_VALUE_0: '*',
      },
    });
  const write = (path: string, content: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  mkdirSync(dir);
  for (const [path, content] of Object.entries(files)) write(path, content);
  if (opts.git !== false) {
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'initial');
  }
  return {
    dir,
    read: (path) => readFileSync(join(dir, path), 'utf8'),
    write,
    git,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** A whole-file reply (the `whole` edit format) for one or more files. */
export function wholeReply(files: Record<string, string>): string {
  return Object.entries(files)
    .map(([path, content]) => `FILE: ${path}\n\`\`\`js\n${content.replace(/\n$/, '')}\n\`\`\``)
    .join('\n\n');
}

/** A SEARCH/REPLACE reply. */
export function searchReplaceReply(path: string, search: string, replace: string): string {
  return `${path}\n<<<<<<< SEARCH\n${search.replace(/\n$/, '')}\n=======\n${replace.replace(/\n$/, '')}\n>>>>>>> REPLACE`;
}

/** date.js returning `value` for every date, with a marker comment only the model's reply carries. */
export function wrongDate(value: string, marker: string): string {
  return `// ${marker}\nexport function formatDate(d) {\n  return '${value}';\n}\n`;
}

export const FIXED_DATE = `export function formatDate(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return \`\${d.getUTCFullYear()}-\${pad(d.getUTCMonth() + 1)}-\${pad(d.getUTCDate())}\`;
}
`;
