// Verification steps found in a repository: package.json scripts (lint, typecheck, build,
// test, in that order), Cargo, Go, pytest, or a Makefile `test` target. A user's `--verify`
// commands are split into argv here too, without a shell: quotes group words, nothing is
// expanded, and shell operators are refused rather than run. Pure: the repository's files are
// read through the caller's RepoFiles (io/inside.ts filesInside).
import { ErrorCodes, SwarmError } from '../../errors.js';
import type { VerifyStep } from '../types.js';

/** How detection sees a repository: by repo-relative path. */
export interface RepoFiles {
  /** The path exists (a file or a directory). */
  exists: (path: string) => boolean;
  /** A regular file's text, null when there is none. */
  read: (path: string) => string | null;
}

const NPM_SCRIPTS = ['lint', 'typecheck', 'build', 'test'] as const;

/** The verification steps a repository declares; empty when nothing is found. */
export function detectSteps(repo: RepoFiles): VerifyStep[] {
  const pkg = readJson(repo, 'package.json');
  if (pkg) {
    const scripts = (pkg['scripts'] ?? {}) as Record<string, unknown>;
    const steps = NPM_SCRIPTS.filter((name) => typeof scripts[name] === 'string').map((name) => ({
      name,
      argv: name === 'test' ? ['npm', 'test', '--silent'] : ['npm', 'run', name, '--silent'],
    }));
    if (steps.length > 0) return steps;
  }
  if (repo.exists('Cargo.toml')) {
    return [
      { name: 'build', argv: ['cargo', 'build', '--offline'] },
      { name: 'test', argv: ['cargo', 'test', '--offline'] },
    ];
  }
  if (repo.exists('go.mod')) {
    return [
      { name: 'build', argv: ['go', 'build', './...'] },
      { name: 'test', argv: ['go', 'test', './...'] },
    ];
  }
  if (usesPytest(repo)) return [{ name: 'test', argv: ['python3', '-m', 'pytest', '-q'] }];
  const makefile = repo.read('Makefile');
  if (makefile !== null && /^test\s*:/m.test(makefile)) return [{ name: 'test', argv: ['make', 'test'] }];
  return [];
}

function usesPytest(repo: RepoFiles): boolean {
  if (repo.exists('pytest.ini') || repo.exists('conftest.py')) return true;
  if (/\[tool\.pytest/.test(repo.read('pyproject.toml') ?? '')) return true;
  if (/\[tool:pytest\]/.test(repo.read('setup.cfg') ?? '')) return true;
  return repo.exists('tox.ini') && /\[pytest\]/.test(repo.read('tox.ini') ?? '');
}

/** `--verify` commands as steps, each split into argv without a shell. */
export function stepsFromCommands(commands: readonly string[]): VerifyStep[] {
  return commands.map((command) => {
    const argv = splitCommand(command);
    return { name: argv.slice(0, 3).join(' '), argv };
  });
}

/** Split a command line into words like a shell would, with quotes, but run nothing and expand nothing. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < command.length) word += command[++i];
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (/[|&;<>`$(){}]/.test(c)) {
      throw new SwarmError(
        ErrorCodes.JOB_INVALID,
        `verify command ${JSON.stringify(command)} uses the shell operator ${JSON.stringify(c)}; commands run without a shell: give each command as its own --verify (or put it in a script)`,
      );
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) {
    throw new SwarmError(
      ErrorCodes.JOB_INVALID,
      `verify command ${JSON.stringify(command)} has an unclosed ${quote}`,
    );
  }
  if (inWord) words.push(word);
  if (words.length === 0) throw new SwarmError(ErrorCodes.JOB_INVALID, 'a verify command is empty');
  return words;
}

function readJson(repo: RepoFiles, name: string): Record<string, unknown> | null {
  const text = repo.read(name);
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
