// `swarmctl doctor` against a real swarmd in a test LAN: a host without a route for
// 224.0.0.0/4 (mDNS packets cannot leave, and bonjour-service says nothing) fails the
// multicast route check with a fix naming the route, and swarmctl exits 1; applying that
// fix, or a LAN built with the route, makes the same check pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorCheckJson, DoctorJson } from '../../src/cli/json.js';
import { SwarmNode } from '../helpers/swarm-node.js';
import { createTestLan, type TestLan } from '../helpers/testlan.js';

const SPEC = { gpuName: 'NVIDIA GeForce RTX 4090', models: ['qwen3:8b'], loaded: [] };

async function doctor(
  node: SwarmNode,
): Promise<{ code: number | null; report: DoctorJson; route: DoctorCheckJson }> {
  const result = await node.swarmctl(['doctor', '--json']);
  const report = JSON.parse(result.stdout) as DoctorJson;
  const route = report.checks.find((check) => check.name === 'multicast route');
  if (!route) throw new Error(`doctor has no multicast route check: ${result.stdout}`);
  return { code: result.code, report, route };
}

/** Run `ip <args>` inside host `index` of the LAN; resolves with its exit code. */
function ipIn(lan: TestLan, index: number, args: string[]): Promise<number | null> {
  const child = lan.exec(index, 'ip', args);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('doctor on a host without a multicast route', () => {
  let lan: TestLan;
  let node: SwarmNode;

  beforeAll(async () => {
    lan = await createTestLan({ hosts: 2, mcastRoute: false });
    node = await SwarmNode.create(lan, 0, { name: 'noroute', ...SPEC });
    await node.start();
  });

  afterAll(async () => {
    await node?.destroy();
    await lan?.destroy();
  });

  it('fails the multicast route check with a fix naming the route, and exits 1', async () => {
    const { code, report, route } = await doctor(node);
    expect(route.status).toBe('fail');
    expect(route.fix).toMatch(/224\.0\.0\.0\/4/);
    expect(route.fix).toMatch(/route/);
    expect(report.ok).toBe(false);
    expect(code).toBe(1);
    // The failure is the route alone: the daemon itself is fine.
    expect(report.checks.find((check) => check.name === 'peer port')?.status).toBe('ok');
  });

  it('passes once the suggested route is added (checked live, no restart)', async () => {
    expect(await ipIn(lan, 0, ['route', 'add', '224.0.0.0/4', 'dev', 'veth0'])).toBe(0);
    const { route } = await doctor(node);
    expect(route.status).toBe('ok');
    expect(route.detail).toMatch(/veth0/);
  });
});

describe('doctor on a host with a multicast route', () => {
  let lan: TestLan;
  let node: SwarmNode;

  beforeAll(async () => {
    lan = await createTestLan({ hosts: 1 });
    node = await SwarmNode.create(lan, 0, { name: 'routed', ...SPEC });
    await node.start();
  });

  afterAll(async () => {
    await node?.destroy();
    await lan?.destroy();
  });

  it('passes the multicast route check', async () => {
    const { route } = await doctor(node);
    expect(route.status).toBe('ok');
    expect(route.detail).toMatch(/veth0/);
  });
});
