import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { initSwarm, joinSwarm, watchCredentials } from '../../../src/security/store.js';
import { sleep } from '../../helpers/wait.js';

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmd-watch-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('watchCredentials', () => {
  it('fires after a join done later, even when the data dir did not exist yet', async () => {
    const root = await tempDir();
    const dataDir = join(root, 'not-yet');
    const onChange = vi.fn();
    // Nothing can be watched yet: the poll notices the data dir appear and arms the watchers.
    cleanups.push(watchCredentials(dataDir, onChange, { debounceMs: 20, pollMs: 200 }));
    const { token } = await initSwarm(await tempDir(), 'aaaaaaaaaaaaaaaa');
    await joinSwarm(dataDir, 'bbbbbbbbbbbbbbbb', token);
    await vi.waitFor(() => expect(onChange).toHaveBeenCalledTimes(1), { timeout: 3000 });
  });

  it('fires on a change of an existing file (by fs.watch: the poll is a minute) but not at start', async () => {
    const dataDir = await tempDir();
    await initSwarm(dataDir, 'aaaaaaaaaaaaaaaa');
    const onChange = vi.fn();
    cleanups.push(watchCredentials(dataDir, onChange, { debounceMs: 20, pollMs: 60_000 }));
    await sleep(100);
    expect(onChange).not.toHaveBeenCalled();
    await initSwarm(dataDir, 'aaaaaaaaaaaaaaaa', { force: true });
    await vi.waitFor(() => expect(onChange).toHaveBeenCalledTimes(1), { timeout: 3000 });
  });

  it('stops firing once stopped', async () => {
    const dataDir = await tempDir();
    const onChange = vi.fn();
    const stop = watchCredentials(dataDir, onChange, { debounceMs: 10, pollMs: 50 });
    stop();
    await initSwarm(dataDir, 'aaaaaaaaaaaaaaaa');
    await sleep(200);
    expect(onChange).not.toHaveBeenCalled();
  });
});
