import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NVIDIA_SMI_QUERY_ARGS, parseNvidiaSmiCsv, queryNvidiaGpus } from '../../../src/node/nvidia-smi.js';
import { fixturePath, readFixture, sh, useTempDir, writeFakeNvidiaSmi } from './helpers.js';

describe('queryNvidiaGpus', () => {
  const temp = useTempDir();

  it('runs the binary with the query arguments, no shell, and parses its output', async () => {
    const argsFile = join(temp.dir, 'args');
    const binary = await writeFakeNvidiaSmi(
      temp.dir,
      `for a in "$@"; do printf '%s\\n' "$a" >> ${sh(argsFile)}; done\ncat ${sh(fixturePath('h100x2.csv'))}`,
    );
    const result = await queryNvidiaGpus({ binary, timeoutMs: 5000 });
    expect(result.error).toBeNull();
    expect(result.gpus).toEqual(parseNvidiaSmiCsv(await readFixture('h100x2.csv')));
    expect((await readFile(argsFile, 'utf8')).trimEnd().split('\n')).toEqual([...NVIDIA_SMI_QUERY_ARGS]);
  });

  it('reports no GPUs and no error when nvidia-smi is not installed', async () => {
    const result = await queryNvidiaGpus({ binary: join(temp.dir, 'no-such-nvidia-smi'), timeoutMs: 5000 });
    expect(result).toEqual({ gpus: [], error: null });
  });

  it('reports the exit code and the first stderr line when the driver is not loaded', async () => {
    const binary = await writeFakeNvidiaSmi(
      temp.dir,
      `cat ${sh(fixturePath('driver-not-loaded.txt'))} >&2\nexit 9`,
    );
    const result = await queryNvidiaGpus({ binary, timeoutMs: 5000 });
    expect(result.gpus).toEqual([]);
    expect(result.error).toContain('exited with code 9');
    expect(result.error).toContain(
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver",
    );
  });

  it('falls back to stdout for the reason when stderr is empty', async () => {
    const binary = await writeFakeNvidiaSmi(
      temp.dir,
      `cat ${sh(fixturePath('driver-not-loaded.txt'))}\nexit 9`,
    );
    const result = await queryNvidiaGpus({ binary, timeoutMs: 5000 });
    expect(result.gpus).toEqual([]);
    expect(result.error).toContain('NVIDIA-SMI has failed');
  });

  it('treats "No devices were found" as no GPUs, not an error', async () => {
    const binary = await writeFakeNvidiaSmi(temp.dir, `cat ${sh(fixturePath('no-devices.txt'))}\nexit 6`);
    expect(await queryNvidiaGpus({ binary, timeoutMs: 5000 })).toEqual({ gpus: [], error: null });
  });

  it('gives up after the timeout with an error', async () => {
    const binary = await writeFakeNvidiaSmi(temp.dir, 'exec sleep 5');
    const result = await queryNvidiaGpus({ binary, timeoutMs: 150 });
    expect(result.gpus).toEqual([]);
    expect(result.error).toContain('150ms');
  });

  it('stops when the signal aborts', async () => {
    const binary = await writeFakeNvidiaSmi(temp.dir, 'exec sleep 5');
    const controller = new AbortController();
    const pending = queryNvidiaGpus({ binary, timeoutMs: 5000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const result = await pending;
    expect(result.gpus).toEqual([]);
    expect(result.error).toContain('canceled');
  });

  it('keeps the readable GPUs and reports the unreadable lines', async () => {
    const binary = await writeFakeNvidiaSmi(temp.dir, `cat ${sh(fixturePath('malformed.csv'))}`);
    const result = await queryNvidiaGpus({ binary, timeoutMs: 5000 });
    expect(result.gpus.map((g) => g.index)).toEqual([0, 3]);
    expect(result.error).toContain('3 unreadable line(s)');
  });
});
