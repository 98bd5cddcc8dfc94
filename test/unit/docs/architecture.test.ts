// ARCHITECTURE.md's codemap names every folder under src/, and the import invariants it states
// hold: checked by reading the source files' import lines, without loading any of them.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstCells, readRepoFile, repoPath, section } from './markdown.js';

const root = repoPath('');
const codemap = firstCells(section(readRepoFile('ARCHITECTURE.md'), 'Folders'));

/** Every .ts file under a folder of the repository, as repository-relative paths. */
function sourceFiles(folder: string): string[] {
  return readdirSync(repoPath(folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(folder, name));
}

/** What a file imports: `from '…'`, `import '…'` and `import('…')`, type-only imports included. */
function specifiers(text: string): string[] {
  const patterns = [
    /\bfrom\s+['"]([^'"]+)['"]/g,
    /^\s*import\s+['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]!));
}

interface Import {
  file: string;
  /** A repository-relative .ts path for a relative import, else the bare specifier. */
  target: string;
}

/** Every import of every file under the folder, relative ones resolved to a repository path. */
function importsOf(folder: string): Import[] {
  return sourceFiles(folder).flatMap((file) =>
    specifiers(readFileSync(join(root, file), 'utf8')).map((spec) => ({
      file,
      target: spec.startsWith('.')
        ? relative(root, join(root, dirname(file), spec)).replace(/\.js$/, '.ts')
        : spec,
    })),
  );
}

/** The imports of `folder` whose target matches `forbidden`, as "file → target" lines. */
function violations(folder: string, forbidden: RegExp): string[] {
  return importsOf(folder)
    .filter((entry) => forbidden.test(entry.target))
    .map((entry) => `${entry.file} → ${entry.target}`);
}

describe('ARCHITECTURE.md codemap', () => {
  it('names every folder directly under src/', () => {
    const folders = readdirSync(repoPath('src'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `src/${entry.name}/`);
    expect(folders).toContain('src/jobs/');
    const missing = folders.filter((folder) => !codemap.some((cell) => cell.includes(`\`${folder}\``)));
    expect(missing).toEqual([]);
  });

  it('names every file directly under src/', () => {
    const files = readdirSync(repoPath('src'), { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .map((entry) => `src/${entry.name}`);
    expect(files).toContain('src/daemon.ts');
    const missing = files.filter((file) => !codemap.some((cell) => cell.includes(`\`${file}\``)));
    expect(missing).toEqual([]);
  });
});

describe('ARCHITECTURE.md import invariants', () => {
  it('finds the imports it checks (the scanner itself works)', () => {
    const targets = importsOf('src/cli').map((entry) => entry.target);
    expect(targets).toContain('src/cli/control-client.ts');
    expect(targets).toContain('commander');
  });

  it('src/cli never imports membership/, rpc/peer-* or daemon.ts', () => {
    expect(violations('src/cli', /^src\/(membership\/|rpc\/peer-|daemon\.ts$)/)).toEqual([]);
  });

  it('src/scheduling imports no node: I/O module', () => {
    const builtins = new Set(builtinModules);
    const io = importsOf('src/scheduling')
      .filter((entry) => entry.target.startsWith('node:') || builtins.has(entry.target))
      .map((entry) => `${entry.file} → ${entry.target}`);
    expect(io).toEqual([]);
  });

  it('src/jobs never imports rpc/peer-* or membership/', () => {
    expect(violations('src/jobs', /^src\/(membership\/|rpc\/peer-)/)).toEqual([]);
  });

  it('src/jobs/rules is pure: it imports only itself, jobs/types.ts and side-effect-free leaves', () => {
    // Nothing that reads files, runs processes, opens sockets or databases, reads the clock or
    // logs (node:fs, node:child_process, util/run-command, util/logger, io/, run/ ...): only these.
    const pure = new Set([
      'src/jobs/types.ts',
      'src/errors.ts',
      'src/inference/types.ts',
      'src/util/duration.ts',
      'yaml',
      'zod',
    ]);
    const imports = importsOf('src/jobs/rules');
    expect(imports.map((entry) => entry.target)).toEqual(
      expect.arrayContaining(['src/jobs/types.ts', 'src/jobs/rules/limits.ts', 'yaml']),
    );
    const impure = imports
      .filter((entry) => !entry.target.startsWith('src/jobs/rules/') && !pure.has(entry.target))
      .map((entry) => `${entry.file} → ${entry.target}`);
    expect(impure).toEqual([]);
  });

  it('src/gateway never imports membership, peers, backends, scheduling or tasks', () => {
    expect(violations('src/gateway', /^src\/(membership|rpc|backends|scheduling|tasks)\//)).toEqual([]);
  });

  it('src/node, src/backends and src/discovery never import membership/ or rpc/', () => {
    for (const folder of ['src/node', 'src/backends', 'src/discovery']) {
      expect(violations(folder, /^src\/(membership|rpc)\//)).toEqual([]);
    }
  });

  it('src/security never imports membership/, rpc/ or daemon.ts', () => {
    expect(violations('src/security', /^src\/(membership\/|rpc\/|daemon\.ts$)/)).toEqual([]);
  });
});
