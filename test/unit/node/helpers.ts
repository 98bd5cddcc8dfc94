// Shared by node/ tests: fixture access, throw-away dirs, and fake nvidia-smi executables.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of a sample under test/fixtures/nvidia-smi. */
export function fixturePath(name: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'nvidia-smi', name);
}

/** Text of a sample under test/fixtures/nvidia-smi, byte for byte. */
export function readFixture(name: string): Promise<string> {
  return readFile(fixturePath(name), 'utf8');
}

/** A fresh temp dir and its cleanup; call cleanup from afterEach. */
export async function makeTempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmd-node-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Write an executable /bin/sh script standing in for nvidia-smi; returns its path. */
export async function writeFakeNvidiaSmi(dir: string, body: string, name = 'nvidia-smi'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return path;
}

/** Single-quote a path for a generated shell script (temp paths hold no quotes). */
export function sh(path: string): string {
  return `'${path}'`;
}
