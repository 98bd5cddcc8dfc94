// Swarm trust end to end: three nodes paired with one token form a swarm; a fourth with
// another token on the same LAN is seen by none of them and cannot call them; plaintext
// and certificate-less connections are refused (and logged once per peer); after
// `swarmctl remove`, the rest keep working and the removed node is shut out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodesJson } from '../../src/cli/json.js';
import { ROOT } from '../helpers/build.js';
import { SwarmNode, untilView } from '../helpers/swarm-node.js';
import { createTestLan, type TestLan } from '../helpers/testlan.js';
import { sleep } from '../helpers/wait.js';

const UNAVAILABLE = 14;
const PERMISSION_DENIED = 7;

let lan: TestLan;
const nodes: SwarmNode[] = [];
const ids: string[] = [];

const state = (view: NodesJson, id: string) => view.nodes.find((node) => node.id === id)?.state;

/** Run the peer probe inside host `from`; returns the outcome of each call. */
function probe(from: number, args: string[]): Promise<{ ok: boolean; code: number | null }[]> {
  return new Promise((resolve, reject) => {
    const child = lan.exec(
      from,
      process.execPath,
      ['--import', 'tsx', 'test/helpers/peer-probe.ts', ...args],
      { cwd: ROOT },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`probe failed (${code}): ${err}`));
      else resolve((JSON.parse(out.trim()) as { results: { ok: boolean; code: number | null }[] }).results);
    });
  });
}

/** Log lines of a node (JSON) that match. */
function logLines(node: SwarmNode, match: (entry: Record<string, unknown>) => boolean) {
  return node.daemon.logs().filter(match);
}

beforeAll(async () => {
  lan = await createTestLan({ hosts: 4 });
  const names = ['alpha', 'bravo', 'charlie', 'stranger'];
  for (const [index, name] of names.entries()) {
    nodes.push(
      await SwarmNode.create(lan, index, {
        name,
        gpuName: 'NVIDIA GeForce RTX 4090',
        models: ['m'],
        loaded: [],
      }),
    );
  }
  const token = await nodes[0]!.init();
  await nodes[1]!.join(token);
  await nodes[2]!.join(token);
  await nodes[3]!.init(); // a swarm of its own
  await Promise.all(nodes.map((node) => node.start()));
  for (const node of nodes) ids.push((await node.nodes()).self);
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.destroy()));
  await lan?.destroy();
});

describe('swarm trust in a test LAN', () => {
  it('three nodes with one token form a swarm; the fourth is seen by none of them', async () => {
    const [a, b, c, d] = nodes as [SwarmNode, SwarmNode, SwarmNode, SwarmNode];
    for (const observer of [a, b, c]) {
      const others = ids.slice(0, 3).filter((id) => id !== ids[nodes.indexOf(observer)]);
      const view = await untilView(
        observer,
        (v) => others.every((id) => state(v, id) === 'alive'),
        10_000,
        'members alive',
      );
      expect(view.paired).toBe(true);
      expect(view.nodes.map((node) => node.id)).not.toContain(ids[3]);
    }
    // The stranger is listed as visible on the LAN (not a member), never dialled.
    const fromA = await a.nodes();
    expect(fromA.visible.map((node) => node.id)).toContain(ids[3]);
    const fromD = await untilView(
      d,
      (v) => v.visible.length >= 3,
      10_000,
      'stranger sees the others as another swarm',
    );
    expect(fromD.nodes.map((node) => node.id)).toEqual([ids[3]]);
    expect(new Set(fromD.visible.map((node) => node.swarm))).toEqual(new Set([fromA.swarm]));
  });

  it('refuses another swarm, plaintext and certificate-less callers, and logs each once per peer', async () => {
    const target = `${lan.hosts[0]!.address}:8766`;
    const strangerAddress = lan.hosts[3]!.address;
    const otherSwarm = await probe(3, [
      '--target',
      target,
      '--mode',
      'member',
      '--data-dir',
      nodes[3]!.dataDir,
      '--calls',
      '4',
    ]);
    const plaintext = await probe(3, ['--target', target, '--mode', 'plaintext', '--calls', '4']);
    const noCert = await probe(3, ['--target', target, '--mode', 'nocert', '--calls', '2']);
    for (const result of [...otherSwarm, ...plaintext, ...noCert])
      expect(result).toMatchObject({ ok: false, code: UNAVAILABLE });

    await sleep(300);
    const refusals = logLines(
      nodes[0]!,
      (entry) => String(entry.remote ?? '').endsWith(strangerAddress) && entry.level === 40,
    );
    const reasons = refusals.map((entry) => String(entry.msg));
    const warnings = logLines(nodes[0]!, (entry) => entry.level === 40).map(
      (entry) => `${entry.remote} ${entry.msg}`,
    );
    // One line per kind of refusal from that peer, not one per attempt (10 attempts were made).
    expect(
      reasons.filter((msg) => msg.includes('plaintext')),
      warnings.join('\n'),
    ).toHaveLength(1);
    expect(reasons.filter((msg) => msg.includes('another swarm'))).toHaveLength(1);
    expect(refusals.length).toBeLessThanOrEqual(4);
  });

  it('refuses a member that forges another node id in a heartbeat', async () => {
    // charlie holds valid credentials but the probe claims to be node ffff…
    const forged = await probe(2, [
      '--target',
      `${lan.hosts[0]!.address}:8766`,
      '--mode',
      'member',
      '--data-dir',
      nodes[2]!.dataDir,
    ]);
    expect(forged[0]).toMatchObject({ ok: false, code: PERMISSION_DENIED });
  });

  it('after `swarmctl remove`, the others keep working and the removed node is shut out', async () => {
    const [a, b] = nodes as [SwarmNode, SwarmNode];
    const removed = await a.swarmctl(['remove', 'charlie', '--json']);
    expect(removed.code).toBe(0);
    const report = JSON.parse(removed.stdout) as {
      epoch: number;
      delivered: string[];
      missed: string[];
      removed: string;
    };
    expect(report).toMatchObject({ epoch: 2, removed: ids[2], missed: [] });
    expect(report.delivered).toEqual([ids[1]]);

    // alpha and bravo find each other again on the new credentials and stay alive.
    const rotatedAt = Date.now();
    await untilView(
      a,
      (v) => state(v, ids[1]!) === 'alive' && v.epoch === 2,
      10_000,
      'bravo alive after rotation',
    );
    await untilView(
      b,
      (v) => state(v, ids[0]!) === 'alive' && v.epoch === 2,
      10_000,
      'alpha alive on bravo after rotation',
    );
    await sleep(4000);
    const later = await a.nodes();
    expect(state(later, ids[1]!)).toBe('alive');
    expect(later.nodes.find((node) => node.id === ids[1])!.stateSince).toBeLessThan(rotatedAt + 4000);
    expect(later.nodes.find((node) => node.id === ids[2])?.problem).toContain('removed');

    // charlie's credentials no longer open either door.
    for (const host of [0, 1]) {
      const attempt = await probe(2, [
        '--target',
        `${lan.hosts[host]!.address}:8766`,
        '--mode',
        'member',
        '--data-dir',
        nodes[2]!.dataDir,
      ]);
      expect(attempt[0]).toMatchObject({ ok: false, code: UNAVAILABLE });
    }
  });
});
