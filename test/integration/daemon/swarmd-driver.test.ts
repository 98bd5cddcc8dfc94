// The test driver of swarmd processes (test/helpers/swarmd.ts) signals swarmd itself, whatever
// runs it: taskset (which execs it, as the chaos tests pin daemons to CPUs) or a shell that
// stays in between as its parent. A SIGSTOP freezes the process that serves the control
// socket, a kill ends swarmd, and a restart brings up a new one on the same data dir.
// Loopback, mDNS off.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusJson } from '../../../src/cli/json.js';
import { createSandbox, loopbackFlags, type Sandbox } from '../../helpers/sandbox.js';
import { killAllSwarmd, Swarmd, type SwarmdOptions } from '../../helpers/swarmd.js';
import { waitUntil } from '../../helpers/wait.js';

/** The one-letter state of a process (R, S, T, ...), or null once it is gone. */
function procState(pid: number): string | null {
  try {
    return /\)\s+(\S)\s/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

const wrappers: [string, SwarmdOptions][] = [
  ['taskset', { cpus: '0' }],
  // `; exit $?` keeps the shell alive as swarmd's parent (no exec of the last command).
  ['a shell that stays its parent', { wrapper: ['sh', '-c', '"$@"; exit $?', 'sh'] }],
];

describe.each(wrappers)('the swarmd test driver, swarmd started under %s', (_name, wrapping) => {
  let box: Sandbox;
  let daemon: Swarmd;

  const status = async (timeoutMs = 15_000): Promise<StatusJson | null> => {
    const out = await box.swarmctl(['status', '--json'], { timeoutMs });
    return out.code === 0 ? (JSON.parse(out.stdout) as StatusJson) : null;
  };

  beforeAll(async () => {
    box = await createSandbox();
    daemon = new Swarmd([...loopbackFlags(box), '--name', 'driven'], { env: box.env, ...wrapping });
    await daemon.start();
    await daemon.ready();
  }, 60_000);

  afterAll(async () => {
    await killAllSwarmd();
    await box?.remove();
  });

  it('records the PID of swarmd itself, the one its log reports', () => {
    const argv = readFileSync(`/proc/${daemon.pid}/cmdline`, 'utf8').split('\0');
    expect(argv[0]).toBe(process.execPath);
    expect(argv[1]).toMatch(/\/dist\/src\/bin\/swarmd\.js$/);
    expect(daemon.logs().find((line) => line.msg === 'swarmd ready')?.pid).toBe(daemon.pid);
  });

  it('SIGSTOP freezes the process that serves the control socket; SIGCONT thaws it', async () => {
    const before = await status();
    expect(before?.node.name).toBe('driven');
    daemon.signal('SIGSTOP');
    try {
      // Signals arrive asynchronously: the state changes a moment later.
      await waitUntil(() => procState(daemon.pid) === 'T', 'swarmd to be stopped', 2_000, 10);
      expect(await status(8_000)).toBeNull();
    } finally {
      daemon.signal('SIGCONT');
    }
    await waitUntil(() => procState(daemon.pid) !== 'T', 'swarmd to run again', 2_000, 10);
    expect((await status())?.node.id).toBe(before?.node.id);
  }, 60_000);

  it('kill() ends swarmd itself, and restart() brings up a new swarmd on the same data dir', async () => {
    const id = (await status())?.node.id;
    const first = daemon.pid;
    await daemon.kill();
    expect(daemon.running).toBe(false);
    expect(procState(first)).toBeNull();

    await daemon.restart();
    expect(daemon.pid).not.toBe(first);
    expect((await status())?.node.id).toBe(id);
  }, 60_000);

  it('stop() sends SIGTERM to swarmd, which leaves cleanly', async () => {
    const pid = daemon.pid;
    const exit = await daemon.stop();
    expect(exit.code).toBe(0);
    expect(daemon.running).toBe(false);
    expect(procState(pid)).toBeNull();
    expect(daemon.logs().some((line) => line.msg === 'swarmd stopped')).toBe(true);
  }, 60_000);
});
