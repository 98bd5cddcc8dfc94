// gaming.autoPause with a real swarmd: a running process of a listed name pauses the node (the
// reason shows in `swarmctl nodes`), and it resumes once the process is gone for the quiet
// period; a fake nvidia-smi on the path whose `-q -x` report shows a game holding VRAM pauses
// it too. `swarmctl pause` is never ended by the watcher.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeSeenBy, startInBox } from '../../helpers/loopback-swarm.js';
import { createSandbox, type Sandbox, writeConfig } from '../../helpers/sandbox.js';
import { killAllSwarmd } from '../../helpers/swarmd.js';
import { sleep, waitUntil } from '../../helpers/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await killAllSwarmd();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** This node as its own daemon lists it. */
const self = (sandbox: Sandbox) => nodeSeenBy(sandbox, (node) => node.self);

async function startNode(autoPause: Record<string, unknown>, extraFlags: string[] = []) {
  const sandbox = await createSandbox();
  cleanups.push(() => sandbox.remove());
  const config = await writeConfig(sandbox, { version: 1, gaming: { autoPause } });
  const node = await startInBox(sandbox, ['--config', config, '--name', 'gamer', ...extraFlags]);
  return { sandbox, node };
}

/** A dummy "game": /bin/sleep copied under the given name, running. */
async function startDummy(dir: string, name: string): Promise<ChildProcess> {
  const path = join(dir, name);
  await copyFile('/bin/sleep', path);
  await chmod(path, 0o755);
  const child = spawn(path, ['120'], { stdio: 'ignore' });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

describe('gaming.autoPause', () => {
  it('pauses while a listed process runs and resumes after the quiet period', async () => {
    const game = `swgame-${randomBytes(2).toString('hex')}`;
    const { sandbox } = await startNode({ processes: [game], quietPeriod: '1500ms', checkInterval: '200ms' });
    expect((await self(sandbox))?.activity).toBe('active');

    const dummy = await startDummy(sandbox.dir, game);
    await waitUntil(
      async () => (await self(sandbox))?.activity === 'paused',
      'the node to pause',
      10_000,
      100,
    );
    expect((await self(sandbox))?.activityReason).toBe(`gaming: ${game}`);
    expect((await sandbox.swarmctl(['nodes'])).stdout).toContain(`paused (gaming: ${game})`);

    dummy.kill('SIGKILL');
    const killedAt = Date.now();
    await waitUntil(
      async () => (await self(sandbox))?.activity === 'active',
      'the node to resume',
      15_000,
      100,
    );
    // Not before the quiet period (less one check interval: the last busy look came before the kill).
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(1_200);
  });

  it('never ends a manual pause, and resume leaves a running game paused', async () => {
    const game = `swgame-${randomBytes(2).toString('hex')}`;
    const { sandbox } = await startNode({ processes: [game], quietPeriod: '300ms', checkInterval: '100ms' });
    expect((await sandbox.swarmctl(['pause'])).code).toBe(0);
    const dummy = await startDummy(sandbox.dir, game);
    await sleep(600);
    expect((await self(sandbox))?.activityReason).toBe('manual');
    dummy.kill('SIGKILL');
    await sleep(1_200);
    expect((await self(sandbox))?.activity).toBe('paused');
    expect((await self(sandbox))?.activityReason).toBe('manual');

    await startDummy(sandbox.dir, game);
    await sleep(600);
    const resumed = await sandbox.swarmctl(['resume', '--json']);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ activity: 'paused', reason: `gaming: ${game}` });
    expect((await sandbox.swarmctl(['resume'])).stdout).toContain('still paused');
  });

  it('pauses while nvidia-smi -q -x shows a game holding more VRAM than the threshold', async () => {
    const smiSandbox = await createSandbox();
    cleanups.push(() => smiSandbox.remove());
    const dir = smiSandbox.dir;
    const smi = join(dir, 'nvidia-smi');
    const xml = `<?xml version="1.0" ?>
<nvidia_smi_log><gpu id="00000000:01:00.0">
<utilization><gpu_util>12 %</gpu_util></utilization>
<processes>
<process_info><pid>2211</pid><type>G</type><process_name>/usr/lib/xorg/Xorg</process_name><used_memory>300 MiB</used_memory></process_info>
<process_info><pid>4242</pid><type>G</type><process_name>/games/Q &amp; A/game.x86_64</process_name><used_memory>6144 MiB</used_memory></process_info>
</processes></gpu></nvidia_smi_log>`;
    await writeFile(
      smi,
      `#!/bin/sh
if [ "$1" = "-q" ]; then cat <<'XML'
${xml}
XML
else echo "0, NVIDIA GeForce RTX 3090, GPU-5b9c2f7e-1a2b-3c4d-5e6f-0123456789ab, 24576, 6444, 18132, 12, 45, [N/A]"
fi
`,
    );
    await chmod(smi, 0o755);
    const { sandbox } = await startNode({ vramThresholdMib: 4096, checkInterval: '200ms' }, [
      '--facts.nvidiaSmi',
      smi,
    ]);
    await waitUntil(
      async () => (await self(sandbox))?.activity === 'paused',
      'the node to pause',
      10_000,
      100,
    );
    expect((await self(sandbox))?.activityReason).toBe('gaming: 6.3 GiB VRAM used by game.x86_64 and 1 more');
  });
});
