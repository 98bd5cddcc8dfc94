// runCommand runs real processes: output, exit codes, timeouts with a forced kill, cancellation,
// stdin, the output cap, and the case that used to end the daemon: a spawn with no free file
// handle (EMFILE), which must come back as a result while the process carries on.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRun, runCommand } from '../../../src/util/run-command.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('runCommand', () => {
  it('returns stdout, stderr, both interleaved, and the exit code; argv is never a shell', async () => {
    const result = await runCommand(
      'sh',
      ['-c', 'printf one; printf two >&2; sleep 0.05; printf three; exit 3', '$(touch nowhere)'],
      { timeoutMs: 5_000 },
    );
    expect(result).toMatchObject({ stdout: 'onethree', stderr: 'two', exitCode: 3, errorCode: null });
    expect(result.all).toBe('onetwothree');
    expect(describeRun('sh', result, 5_000)).toBe('sh exited with code 3');
  });

  it('reports a missing executable as ENOENT', async () => {
    const result = await runCommand('/nonexistent/nvidia-smi', [], { timeoutMs: 5_000 });
    expect(result).toMatchObject({ exitCode: null, errorCode: 'ENOENT' });
  });

  it('stops a command at the timeout, with SIGKILL when it ignores SIGTERM', async () => {
    const result = await runCommand('sh', ['-c', "trap '' TERM; while :; do sleep 0.05; done"], {
      timeoutMs: 100,
      forceKillAfterMs: 200,
    });
    expect(result).toMatchObject({ timedOut: true, signal: 'SIGKILL', exitCode: null });
  });

  it('stops a command when its signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const result = await runCommand('sleep', ['5'], { timeoutMs: 5_000, signal: controller.signal });
    expect(result).toMatchObject({ canceled: true, timedOut: false, signal: 'SIGTERM' });
  });

  it('writes `input` to stdin', async () => {
    const result = await runCommand('cat', [], { timeoutMs: 5_000, input: 'patch text\n' });
    expect(result).toMatchObject({ stdout: 'patch text\n', exitCode: 0 });
  });

  it('stops a command that prints more than maxBuffer, keeping what fit', async () => {
    const result = await runCommand('yes', [], { timeoutMs: 5_000, maxBuffer: 64 * 1024 });
    expect(result.overflowed).toBe(true);
    expect(result.stdout.length).toBeLessThanOrEqual(64 * 1024);
  });

  it('out of file handles (EMFILE): nvidia-smi and any command come back as results, and the process lives on', async () => {
    // A process under `ulimit -n 256` uses up its file handles, then runs commands; it prints
    // what came back and exits 0 only if nothing crashed it.
    const script = `
      import { openSync, closeSync } from 'node:fs';
      import { runCommand } from './src/util/run-command.ts';
      import { queryNvidiaGpus } from './src/node/nvidia-smi.ts';
      // Once before, so that whatever it loads is loaded before the handles run out.
      await queryNvidiaGpus({ binary: '/nonexistent/nvidia-smi', timeoutMs: 2000 });
      const held = [];
      try { for (;;) held.push(openSync('/dev/null', 'r')); } catch {}
      const run = await runCommand('true', [], { timeoutMs: 2000 });
      const gpus = await queryNvidiaGpus({ binary: '/nonexistent/nvidia-smi', timeoutMs: 2000 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const fd of held) closeSync(fd);
      const after = await runCommand('true', [], { timeoutMs: 2000 });
      console.log(JSON.stringify({ held: held.length, run: run.errorCode, gpus, after: after.exitCode }));`;
    const child = spawn(
      'bash',
      ['-c', 'ulimit -n 256 && exec "$0" --import tsx --input-type=module -e "$1"', process.execPath, script],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout.trim()) as {
      held: number;
      run: string;
      gpus: { gpus: unknown[]; error: string };
      after: number;
    };
    expect(report.held).toBeGreaterThan(100);
    expect(report.run).toBe('EMFILE');
    expect(report.gpus.gpus).toEqual([]);
    expect(report.gpus.error).toContain('EMFILE');
    expect(report.after).toBe(0);
  }, 20_000);
});
