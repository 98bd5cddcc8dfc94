// Rolling upgrades over real mDNS: a member running this release and one running the previous
// release's discovery code (kept verbatim in test/fixtures/previous-release/) find each other as
// members, the old one takes the new one's summary update without seeing it leave, and sees
// its goodbye. Needs root and iproute2 (the test LAN), as CI has.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initSwarm, joinSwarm } from '../../../src/security/store.js';
import { createTestLan, type TestLan } from '../../helpers/testlan.js';
import { JsonLines, type Line } from './json-lines.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NEW = 'aaaaaaaaaaaaaaa1';
const OLD = 'bbbbbbbbbbbbbbb2';
const PORT = 8766;
const SEE_WITHIN_MS = 5000;

let lan: TestLan;
let dir: string;

beforeAll(async () => {
  lan = await createTestLan({ hosts: 2 });
  dir = await mkdtemp(join(tmpdir(), 'swarmd-mixed-'));
  const { token } = await initSwarm(join(dir, 'new'), NEW);
  await joinSwarm(join(dir, 'old'), OLD, token);
});

afterAll(async () => {
  await lan?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function node(host: number, mode: 'new' | 'previous', id: string) {
  const args = [
    `${FIXTURES}release-node.ts`,
    mode,
    id,
    join(dir, mode === 'new' ? 'new' : 'old'),
    String(PORT),
  ];
  const child = lan.exec(host, process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT });
  return { child, out: new JsonLines(`${mode} node on host ${host}`, child) };
}

const peer = (type: 'up' | 'down', id: string) => (line: Line) =>
  line.event === 'peer' && line['type'] === type && line['id'] === id;

describe('a node of the previous release and a new one', () => {
  it('discover each other as members, and the old one takes summary updates and the goodbye', async () => {
    const fresh = node(0, 'new', NEW);
    const old = node(1, 'previous', OLD);
    await fresh.out.waitFor((l) => l.event === 'started', 10_000, 'new node started');
    await old.out.waitFor((l) => l.event === 'started', 10_000, 'old node started');

    const oldSeen = await fresh.out.waitFor(peer('up', OLD), SEE_WITHIN_MS, 'old node at the new one');
    expect(oldSeen).toMatchObject({ verdict: 'member' });
    expect(oldSeen['summary']).toBeUndefined();
    const newSeen = await old.out.waitFor(peer('up', NEW), SEE_WITHIN_MS, 'new node at the old one');
    expect(newSeen).toMatchObject({ verdict: 'member' });

    // A model loads on the new node: its advert changes in place. The old node's host receives
    // the new TXT; the old code reads it (an unreadable record would be logged and reported down)
    // and, its core being the same, sees no news at all.
    fresh.child.stdin.write('load qwen3:8b\n');
    const updated = await old.out.waitFor(
      (l) =>
        l.event === 'txt' && l['id'] === NEW && (l['txt'] as Record<string, string>)['lm'] === 'qwen3:8b',
      SEE_WITHIN_MS,
      'the update on the old node’s host',
    );
    expect(updated['txt']).toMatchObject({ lc: '1', st: 'active', gn: '1x NVIDIA GeForce RTX 4090' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(old.out.lines.filter((l) => l.event === 'peer' && l['id'] === NEW)).toHaveLength(1);
    expect(old.out.stderr).not.toContain('invalid TXT');

    // The goodbye still reaches the old node.
    fresh.child.stdin.write('stop\n');
    const stopped = await fresh.out.waitFor((l) => l.event === 'stopped', 5000, 'new node stopped');
    const down = await old.out.waitFor(peer('down', NEW), 2000, 'goodbye at the old node');
    expect(down.t - stopped.t).toBeLessThan(2000);
    old.child.stdin.write('stop\n');
    await old.out.waitFor((l) => l.event === 'stopped', 5000, 'old node stopped');
  });
});
