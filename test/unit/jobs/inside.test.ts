// Repository paths that must stay inside the repository, every symlink followed (inside.ts),
// on a real directory tree with a folder link, file links and a broken link; and the
// allowlisted environment of a verification step (step-env.ts).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileHashInside, readInside, writeProblem } from '../../../src/jobs/io/inside.js';
import { stepEnv } from '../../../src/jobs/rules/step-env.js';

let top: string;
let repo: string;

beforeAll(() => {
  top = mkdtempSync(join(tmpdir(), 'swarmd-inside-'));
  repo = join(top, 'repo');
  mkdirSync(join(repo, 'src'), { recursive: true });
  mkdirSync(join(top, 'private'));
  writeFileSync(join(top, 'private', 'notes.txt'), 'private notes\n');
  writeFileSync(join(repo, 'src', 'a.js'), 'a\n');
  symlinkSync(join(top, 'private'), join(repo, 'docs'));
  symlinkSync(join(top, 'private', 'notes.txt'), join(repo, 'notes.txt'));
  symlinkSync('src/a.js', join(repo, 'alias.js'));
  symlinkSync('src', join(repo, 'lib'));
  symlinkSync(join(top, 'gone'), join(repo, 'broken'));
});

afterAll(() => {
  rmSync(top, { recursive: true, force: true });
});

describe('reads inside the repository', () => {
  it('reads files and links that stay inside; nothing through a link out', () => {
    expect(readInside(repo, 'src/a.js')).toBe('a\n');
    expect(readInside(repo, 'alias.js')).toBe('a\n');
    expect(readInside(repo, 'lib/a.js')).toBe('a\n');
    expect(readInside(repo, 'docs/notes.txt')).toBeNull();
    expect(readInside(repo, 'notes.txt')).toBeNull();
    expect(readInside(repo, 'broken')).toBeNull();
    expect(readInside(repo, 'src')).toBeNull();
    expect(readInside(repo, 'missing.js')).toBeNull();
  });

  it("hashes a file through a link out as 'outside' (never a recorded hash), a missing one as null", () => {
    expect(fileHashInside(repo, 'src/a.js')).toMatch(/^[0-9a-f]{64}$/);
    expect(fileHashInside(repo, 'docs/notes.txt')).toBe('outside');
    expect(fileHashInside(repo, 'missing.js')).toBeNull();
  });
});

describe('writes inside the repository', () => {
  it('allows files, new files and new folders inside, also through a link that stays inside', () => {
    expect(writeProblem(repo, 'src/a.js')).toBeNull();
    expect(writeProblem(repo, 'src/new/deep/b.js')).toBeNull();
    expect(writeProblem(repo, 'lib/c.js')).toBeNull();
  });

  it('refuses a path through a folder link out, naming the link, and a link as the file', () => {
    expect(writeProblem(repo, 'docs/notes.txt')).toMatch(
      /goes through the symlink docs, which leads outside/,
    );
    expect(writeProblem(repo, 'docs/new/x.txt')).toMatch(/symlink docs/);
    expect(writeProblem(repo, 'notes.txt')).toMatch(/"notes\.txt" is a symlink/);
    expect(writeProblem(repo, 'alias.js')).toMatch(/is a symlink/);
    expect(writeProblem(repo, 'broken/x.js')).toMatch(/broken symlink/);
  });
});

describe("a verification step's environment", () => {
  const daemon = {
    PATH: '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    HOME: '/home/me',
    OPENAI_API_KEY: 'sk-secret',
    GITHUB_TOKEN: 'ghp-secret',
    SWARMD_GATEWAY__API_KEYS: 'key',
  };

  it('keeps PATH and the locale, never the daemon secrets; the sandbox sets HOME and TMPDIR', () => {
    const env = stepEnv(daemon, { HOME: '/home/me', TMPDIR: '/tmp' }, {});
    expect(env).toMatchObject({
      PATH: '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      HOME: '/home/me',
    });
    expect(env.TMPDIR).toBe('/tmp');
    expect(env.CI).toBe('1');
    expect(JSON.stringify(env)).not.toMatch(/secret|SWARMD_/);
  });

  it("adds the repository's variables, which cannot move HOME or TMPDIR", () => {
    const env = stepEnv(
      daemon,
      { HOME: '/home/me' },
      { GOFLAGS: '-mod=vendor', HOME: '/root', TMPDIR: '/x' },
    );
    expect(env.GOFLAGS).toBe('-mod=vendor');
    expect(env.HOME).toBe('/home/me');
    expect(env.TMPDIR).toBeUndefined();
  });
});
