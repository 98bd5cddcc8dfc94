// A peer can never start a coding job: the job RPCs exist only on SwarmControl (the local Unix
// socket), never on SwarmCoordination (the peer port), and a peer's RequestTask that asks for
// anything but chat, completions or embeddings is refused before anything runs.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServices } from '../../../src/rpc/proto.js';
import {
  type PeerNode,
  QWEN_BACKEND,
  startPeerNode,
  startWorkerNode,
  stateOf,
} from '../../helpers/peer-node.js';
import { waitUntil } from '../../helpers/wait.js';

const nodes: PeerNode[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.crash()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('a peer cannot start a job', () => {
  it('the job RPCs are on the control service only', () => {
    const { coordination, control } = loadServices();
    expect(Object.keys(coordination).filter((name) => /job/i.test(name))).toEqual([]);
    expect(Object.keys(control)).toEqual(expect.arrayContaining(['RunJob', 'CancelJob', 'ApplyJob']));
  });

  it("a member's RequestTask of kind job is refused and runs nothing", async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'swarmd-peer-job-'));
    dirs.push(scratch);
    const canary = join(scratch, 'canary');
    let ran = 0;
    const { node: w } = await startWorkerNode(async () => {
      ran++;
      throw new Error('must not run');
    });
    const c = await startPeerNode({ staticPeers: [w.endpoint] });
    nodes.push(w, c);
    await waitUntil(() => stateOf(c, w.id) === 'alive' && stateOf(w, c.id) === 'alive', 'paired', 5000);
    const spec = { task: `touch ${canary}`, repo: scratch, verify: [`touch ${canary}`] };
    for (const kind of ['job', 'run', 'RunJob']) {
      const reply = await c.pool.requestTask(
        w.endpoint,
        {
          taskId: `t-${kind}`,
          attempt: 1,
          coordinatorId: c.id,
          kind,
          body: Buffer.from(JSON.stringify(spec)),
          stream: false,
          backendId: QWEN_BACKEND.id,
          model: 'qwen3:8b',
          leaseMs: 2000,
          coordinatorIncarnation: 1,
        },
        2000,
        w.id,
      );
      expect(reply.admitted).toBe(false);
      expect(reply.reason).toMatch(/unknown task kind/);
    }
    expect(ran).toBe(0);
    expect(existsSync(canary)).toBe(false);
  });
});
