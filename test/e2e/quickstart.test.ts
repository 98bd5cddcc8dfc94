// The README's "Try three nodes on one machine" block, run as written: three real swarmd
// processes in a test LAN, a fake model server on two of them, and a chat sent to the node
// without one must be answered by another node. Only the namespace names are changed (so the
// test never touches a LAN called ns1..ns3 that a person may have up) and the build line is
// left out (the suite has built already).
import { afterAll, describe, expect, it } from 'vitest';
import { readmeRun, readmeShellBlock, runBash } from '../helpers/readme-shell.js';

const BUILD_LINE = 'npm install && npm run build';

describe('README quick start: three nodes on one machine', () => {
  const { prefix, env, cleanup } = readmeRun('swarmd-quickstart-');
  // The block ends with down.sh; this is for a run that failed half way.
  afterAll(() => cleanup(3));

  it('ends with a chat on node1 answered by another node, then sees node3 dead after its kill', async () => {
    const block = readmeShellBlock('### Try three nodes on one machine');
    expect(block.split('\n')[0]).toBe(BUILD_LINE);
    const script = block
      .replace(BUILD_LINE, '')
      .replace(/\bns(?=\$i\b|\d)/g, prefix)
      .replace(/\$ctl1 nodes/g, () => 'echo "--- nodes"; $ctl1 nodes');
    const { code, out } = await runBash(`set -e\n${script}`, env);
    expect(code, out).toBe(0);
    // The answer came from node2's or node3's fake, and the footer names that node.
    expect(out).toMatch(/Hello from node[23]\./);
    const served = /served by (node\d) \(llama3\.2:3b\)/.exec(out);
    expect(served?.[1], out).toMatch(/^node[23]$/);
    expect(out).toContain(`Hello from ${served?.[1]}.`);
    // After `kill -9` of node3's recorded PID, node1 lists it dead.
    const lastNodes = out.split('--- nodes').at(-1) ?? '';
    expect(lastNodes).toMatch(/^node3\s+dead\b/m);
  });
});
