// Shared by node/ tests: fixture access, throw-away dirs, and fake nvidia-smi executables.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach } from 'vitest';
import type { GpuInfo } from '../../../src/node/types.js';

/** The GPU that test/fixtures/nvidia-smi/rtx4090.csv reports. */
export const RTX_4090: GpuInfo = {
  index: 0,
  vendor: 'nvidia',
  name: 'NVIDIA GeForce RTX 4090',
  uuid: 'GPU-5b9c2f7e-1a2b-3c4d-5e6f-0123456789ab',
  memoryTotalMiB: 24564,
  memoryUsedMiB: 1234,
  memoryFreeMiB: 22910,
  utilizationPct: 17,
  temperatureC: 45,
  powerW: 61.25,
  unifiedMemory: false,
};

/** Absolute path of a sample under test/fixtures/nvidia-smi. */
export function fixturePath(name: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'nvidia-smi', name);
}

/** Text of a sample under test/fixtures/nvidia-smi, byte for byte. */
export function readFixture(name: string): Promise<string> {
  return readFile(fixturePath(name), 'utf8');
}

/** A fresh temp dir for each test of the enclosing describe, removed after it; `dir` is the current one. */
export function useTempDir(): { readonly dir: string } {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarmd-node-test-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  return {
    get dir() {
      return dir;
    },
  };
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
