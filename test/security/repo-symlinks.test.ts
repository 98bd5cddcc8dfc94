// Threat: a repository's symlinks lead swarmd's own reads and writes outside it. A committed
// folder symlink (docs -> a private folder) and a file symlink (secret.txt -> a file in it),
// both named in `.swarmd.yaml` files, put nothing of that folder in any prompt; an edit through
// either is refused back to the model with the reason, and the job goes on to pass; a
// `.swarmd.yaml` that is itself a link out of the repository is refused. Real swarmd run as an
// unprivileged user, scripted fake model.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repliesByModel } from '../fakes/scripted-replies.js';
import { FIXED_DATE, wholeReply } from '../integration/jobs/tiny-repo.js';
import { FAST, UnprivilegedNode } from './unprivileged-node.js';

const node = new UnprivilegedNode();
const outside = join(node.root, 'private');
const NOTES = 'outside-marker-9c2d: what ~/.ssh would hold\n';

beforeAll(async () => {
  mkdirSync(outside);
  writeFileSync(join(outside, 'notes.txt'), NOTES);
  writeFileSync(join(outside, 'swarmd.yaml'), 'jobs:\n  maxFiles: outside-marker-9c2d\n');
  await node.start({ sandbox: { mode: 'auto', readOnly: [] }, stepTimeout: '60s' });
}, 60_000);

afterAll(async () => {
  await node.stop();
});

describe('symlinks in the repository', () => {
  it('a folder or file link out of it is never read into a prompt, and an edit through one is refused and fed back', async () => {
    const repo = node.repo();
    symlinkSync(outside, join(repo.dir, 'docs'));
    symlinkSync(join(outside, 'notes.txt'), join(repo.dir, 'secret.txt'));
    repo.write(
      '.swarmd.yaml',
      'jobs:\n  verify: ["node --test test/"]\n  files: [docs/notes.txt, secret.txt]\n',
    );
    repo.git('add', '-A');
    repo.git('commit', '-q', '-m', 'links out');
    node.chown(repo.dir);
    const from = node.fake.generations.length;
    node.fake.behave({
      respond: repliesByModel({
        [FAST]: [
          wholeReply({ 'docs/notes.txt': 'overwritten through the folder link\n' }),
          wholeReply({ 'secret.txt': 'overwritten through the file link\n' }),
          wholeReply({ 'src/date.js': FIXED_DATE }),
        ],
      }),
    });
    const { code, report } = await node.run(['make the date test pass', '--repo', repo.dir]);
    const attempts = report.attempts as { outcome: string; detail: string }[];
    expect(attempts.map((a) => a.outcome)).toEqual(['refused', 'refused', 'passed']);
    expect(attempts[0]!.detail).toMatch(/goes through the symlink docs, which leads outside the repository/);
    expect(attempts[1]!.detail).toMatch(/"secret\.txt" is a symlink/);
    expect(report.editFailures).toBe(2);
    expect(code).toBe(0);
    const prompts = node.prompts(from);
    expect(prompts).toHaveLength(3);
    for (const prompt of prompts) expect(prompt).not.toContain('outside-marker-9c2d');
    expect(prompts[1]).toContain('leads outside the repository');
    expect(prompts[2]).toContain('swarmd does not write through links');
    expect(readFileSync(join(outside, 'notes.txt'), 'utf8')).toBe(NOTES);
  });

  it('a .swarmd.yaml that links out of the repository is refused, and nothing runs', async () => {
    const repo = node.repo();
    symlinkSync(join(outside, 'swarmd.yaml'), join(repo.dir, '.swarmd.yaml'));
    node.chown(repo.dir);
    const from = node.fake.generations.length;
    const out = await node.swarmctl(['run', 'fix it', '--repo', repo.dir, '--json']);
    expect(out.code).toBe(2);
    const error = JSON.parse(out.stdout).error as { code: string; message: string };
    expect(error.code).toBe('SWARM_ERR_JOB_INVALID');
    expect(error.message).toMatch(
      /\.swarmd\.yaml cannot be read: it is not a regular file inside the repository/,
    );
    expect(error.message).not.toContain('outside-marker-9c2d');
    expect(node.fake.generations.length).toBe(from);
  });
});
