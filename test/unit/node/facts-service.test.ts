import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeFactsService } from '../../../src/node/facts-service.js';
import type { NodeFacts } from '../../../src/node/types.js';
import { createLogger, silentLogger } from '../../../src/util/logger.js';
import { sleep, waitUntil } from '../../helpers/wait.js';
import { fixturePath, readFixture, sh, useTempDir, writeFakeNvidiaSmi } from './helpers.js';

// The fake nvidia-smi appends a line to `runs` on every call, so tests can count refreshes.
async function countRuns(dir: string): Promise<number> {
  const text = await readFile(join(dir, 'runs'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).length;
}

function nvidiaGpus(facts: NodeFacts) {
  return facts.gpus.filter((g) => g.vendor === 'nvidia');
}

// pino lines written by the service, parsed.
function captureLogs(): { lines: Array<Record<string, unknown>>; logger: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('info', { write: (msg: string) => lines.push(JSON.parse(msg)) });
  return { lines, logger };
}

describe('NodeFactsService', () => {
  const temp = useTempDir();
  const services: NodeFactsService[] = [];
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
  });

  function makeService(nvidiaSmi: string, logger = silentLogger, queryTimeoutMs = 5000): NodeFactsService {
    const service = new NodeFactsService({ logger }, { refreshIntervalMs: 20, nvidiaSmi, queryTimeoutMs });
    services.push(service);
    return service;
  }

  it('has GPUs once start() resolves and tells listeners when VRAM use changes', async () => {
    const out = join(temp.dir, 'out.csv');
    const original = await readFixture('rtx4090.csv');
    await writeFile(out, original);
    const service = makeService(
      await writeFakeNvidiaSmi(temp.dir, `echo run >> ${sh(join(temp.dir, 'runs'))}\ncat ${sh(out)}`),
    );
    await service.start();
    expect(nvidiaGpus(service.current()).map((g) => g.memoryUsedMiB)).toEqual([1234]);

    const seen: NodeFacts[] = [];
    const unsubscribe = service.onChange((facts) => seen.push(facts));
    await writeFile(out, original.replace('1234, 22910', '20000, 4144'));
    await waitUntil(
      () => seen.some((f) => nvidiaGpus(f)[0]?.memoryUsedMiB === 20000),
      'onChange with the new VRAM use',
      5_000,
    );
    expect(nvidiaGpus(service.current())[0]?.memoryFreeMiB).toBe(4144);

    unsubscribe();
    const before = seen.length;
    await writeFile(out, await readFixture('h100x2.csv'));
    await waitUntil(() => nvidiaGpus(service.current()).length === 2, 'the H100s to be read', 5_000);
    expect(seen.length).toBe(before);

    await service.stop();
    await service.stop();
  });

  it('fills the memory total of a GB10 from system RAM', async () => {
    const service = makeService(await writeFakeNvidiaSmi(temp.dir, `cat ${sh(fixturePath('gb10.csv'))}`));
    await service.start();
    const [gb10] = nvidiaGpus(service.current());
    const ramMiB = Math.floor(service.current().system.memTotalBytes / 1024 / 1024);
    expect(gb10).toMatchObject({ unifiedMemory: true, memoryTotalMiB: ramMiB, memoryUsedMiB: null });
  });

  it('logs a failing nvidia-smi once, however often it fails, and its recovery once', async () => {
    const { lines, logger } = captureLogs();
    const ok = join(temp.dir, 'ok');
    const script = await writeFakeNvidiaSmi(
      temp.dir,
      [
        `echo run >> ${sh(join(temp.dir, 'runs'))}`,
        `if [ -f ${sh(ok)} ]; then cat ${sh(fixturePath('rtx4090.csv'))}; exit 0; fi`,
        `cat ${sh(fixturePath('driver-not-loaded.txt'))} >&2`,
        'exit 9',
      ].join('\n'),
    );
    const service = makeService(script, logger);
    await service.start();
    await waitUntil(async () => (await countRuns(temp.dir)) >= 5, 'several failed refreshes', 5_000);
    const fromSmi = () => lines.filter((l) => l['source'] === 'nvidia-smi');
    expect(fromSmi().filter((l) => l['level'] === 40)).toHaveLength(1);
    expect(nvidiaGpus(service.current())).toEqual([]);

    await writeFile(ok, '');
    await waitUntil(() => nvidiaGpus(service.current()).length === 1, 'the GPU to appear', 5_000);
    const runs = await countRuns(temp.dir);
    await waitUntil(async () => (await countRuns(temp.dir)) >= runs + 3, 'more good refreshes', 5_000);
    expect(fromSmi().filter((l) => l['level'] === 30)).toHaveLength(1);
    expect(fromSmi().filter((l) => l['level'] === 40)).toHaveLength(1);
  });

  it('never overlaps refreshes and fires onChange at most once per refresh', async () => {
    const lock = join(temp.dir, 'lock');
    const overlap = join(temp.dir, 'overlap');
    const script = await writeFakeNvidiaSmi(
      temp.dir,
      [
        `mkdir ${sh(lock)} 2>/dev/null || echo overlap >> ${sh(overlap)}`,
        `echo run >> ${sh(join(temp.dir, 'runs'))}`,
        // A different VRAM reading every time, so every refresh is a change.
        `printf '0, NVIDIA L4, GPU-01234567-89ab-cdef-0123-456789abcdef, 23034, %s, 1000, 0, 29, 16.42\\n' "$$"`,
        'sleep 0.05',
        `rmdir ${sh(lock)}`,
      ].join('\n'),
    );
    const service = makeService(script);
    let changes = 0;
    service.onChange(() => changes++);
    await service.start();
    await waitUntil(async () => (await countRuns(temp.dir)) >= 6, 'several refreshes', 5_000);
    await service.stop();
    expect(existsSync(overlap)).toBe(false);
    expect(changes).toBeGreaterThanOrEqual(5);
    expect(changes).toBeLessThanOrEqual(await countRuns(temp.dir));
  });

  it('stops refreshing after stop(), and stop() twice is fine', async () => {
    const service = makeService(
      await writeFakeNvidiaSmi(
        temp.dir,
        `echo run >> ${sh(join(temp.dir, 'runs'))}\ncat ${sh(fixturePath('rtx4090.csv'))}`,
      ),
    );
    await service.start();
    await waitUntil(async () => (await countRuns(temp.dir)) >= 3, 'a few refreshes', 5_000);
    await service.stop();
    await service.stop();
    const after = await countRuns(temp.dir);
    await sleep(200);
    expect(await countRuns(temp.dir)).toBe(after);
  });

  it('does not let an nvidia-smi that never finishes hold up start()', async () => {
    const done = join(temp.dir, 'done');
    // The background child keeps stdout open, so the run outlives its timeout.
    const script = await writeFakeNvidiaSmi(temp.dir, `(sleep 4; touch ${sh(done)}) &\nexit 0`);
    const service = makeService(script, silentLogger, 100);
    await service.start();
    expect(existsSync(done)).toBe(false);
    expect(nvidiaGpus(service.current())).toEqual([]);
    expect(service.current().system.memTotalBytes).toBeGreaterThan(0);
  });
});
