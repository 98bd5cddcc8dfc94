// The daemon's log goes to stdout in batches: a line must still show up promptly when nothing
// follows it (journald shows it, tests wait for 'swarmd ready'), and the lines logged just
// before the process exits must not be lost with the batch.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** Run a script that uses createLogger('info'); collect stdout lines with their arrival times. */
function run(script: string): Promise<{ lines: Array<{ msg: string; atMs: number }>; code: number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const started = performance.now();
  const lines: Array<{ msg: string; atMs: number }> = [];
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    for (const part of parts)
      lines.push({ msg: (JSON.parse(part) as { msg: string }).msg, atMs: performance.now() - started });
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ lines, code })));
}

const IMPORT = `import { createLogger } from './src/util/logger.ts'; const log = createLogger('info');`;

describe('the daemon logger', () => {
  it('writes a lone line within a few milliseconds, while the process keeps running', async () => {
    const { lines } = await run(`${IMPORT}
      log.info('first'); const t = performance.now();
      setTimeout(() => { log.info('second'); setTimeout(() => process.exit(0), 1500); }, 1500);`);
    expect(lines.map((line) => line.msg)).toEqual(['first', 'second']);
    // 'second' was logged 1.5 s after 'first' and 1.5 s before the exit: it came out on its own.
    expect(lines[1]!.atMs - lines[0]!.atMs).toBeGreaterThan(1000);
    expect(lines[1]!.atMs - lines[0]!.atMs).toBeLessThan(2500);
  });

  it('loses none of the lines logged just before an exit', async () => {
    const { lines, code } = await run(`${IMPORT}
      for (let i = 0; i < 500; i++) log.info('line ' + i);
      process.exit(7);`);
    expect(code).toBe(7);
    expect(lines).toHaveLength(500);
    expect(lines.at(-1)!.msg).toBe('line 499');
  });
});
