// Threat: the box has no sandbox, and verification would run code a model wrote unconfined.
// A real swarmd (an unprivileged user's) whose PATH holds no bwrap refuses a job with
// jobs.sandbox auto before anything runs or any model is asked, saying what to do, and
// `swarmctl doctor` fails its job sandbox check with the same advice.
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnprivilegedNode } from './unprivileged-node.js';

const node = new UnprivilegedNode();

beforeAll(async () => {
  // A PATH with git but without bubblewrap.
  const bin = join(node.root, 'bin');
  mkdirSync(bin);
  symlinkSync('/usr/bin/git', join(bin, 'git'));
  await node.start({ sandbox: { mode: 'auto', readOnly: [] } }, bin);
}, 60_000);

afterAll(async () => {
  await node.stop();
});

describe('a box without bubblewrap', () => {
  it('refuses a job (SWARM_ERR_JOB_SANDBOX) before anything runs, naming the fix', async () => {
    const repo = node.repo();
    node.chown(repo.dir);
    const from = node.fake.generations.length;
    const out = await node.swarmctl([
      'run',
      'fix the date',
      '--repo',
      repo.dir,
      '--verify',
      'node --test test/',
      '--json',
    ]);
    expect(out.code).toBe(1);
    const error = JSON.parse(out.stdout).error as { code: string; message: string };
    expect(error.code).toBe('SWARM_ERR_JOB_SANDBOX');
    expect(error.message).toContain('bubblewrap (bwrap) is not installed');
    expect(error.message).toContain('jobs.sandbox: off');
    expect(node.fake.generations.length).toBe(from);
    expect(JSON.parse((await node.swarmctl(['jobs', '--json'])).stdout).jobs).toEqual([]);
  });

  it('swarmctl doctor fails its job sandbox check and says what to do', async () => {
    const out = await node.swarmctl(['doctor', '--json']);
    const check = (JSON.parse(out.stdout).checks as { name: string; status: string; fix: string }[]).find(
      (c) => c.name === 'job sandbox',
    );
    expect(check).toMatchObject({ status: 'fail', fix: expect.stringContaining('install bubblewrap') });
    expect(out.code).toBe(1);
  });
});
