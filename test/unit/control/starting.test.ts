import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { markStarting, startingDaemonPid, startingMarkerPath } from '../../../src/control/starting.js';

const dir = mkdtempSync(join(tmpdir(), 'swarmd-starting-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the starting marker', () => {
  it('names this process while it starts, in a data dir it creates, and is gone once taken back', async () => {
    const socket = join(dir, 'fresh', 'control.sock');
    const unmark = await markStarting(socket);
    expect(await readFile(startingMarkerPath(socket), 'utf8')).toBe(`${process.pid}\n`);
    expect(await startingDaemonPid(socket)).toBe(process.pid);
    await unmark();
    expect(await startingDaemonPid(socket)).toBeNull();
  });

  it('is not taken for a starting daemon when its process is gone or the file holds no pid', async () => {
    const socket = join(dir, 'control.sock');
    writeFileSync(startingMarkerPath(socket), '2147483646\n');
    expect(await startingDaemonPid(socket)).toBeNull();
    writeFileSync(startingMarkerPath(socket), 'garbage\n');
    expect(await startingDaemonPid(socket)).toBeNull();
  });

  it("leaves another daemon's marker alone when taking its own back", async () => {
    const socket = join(dir, 'shared.sock');
    const unmark = await markStarting(socket);
    writeFileSync(startingMarkerPath(socket), `${process.ppid}\n`);
    await unmark();
    expect(await readFile(startingMarkerPath(socket), 'utf8')).toBe(`${process.ppid}\n`);
  });
});
