// The README quick start's "With a real model server" block, run as written with the built
// llama-server in a test LAN: two swarmd nodes paired as the quick start pairs them, the README's
// llama-server command line (`--alias tiny`, port 8080) in node2's namespace, where swarmd's
// auto-detection must find it, and the README's chat on node1 answered by node2. Only the
// namespace names, the binary's path and the model file are filled in.
import { afterAll, describe, expect, it } from 'vitest';
import { llamaServerBinary, tinyModel } from '../helpers/llama-server.js';
import { readmeRun, readmeShellBlock, runBash } from '../helpers/readme-shell.js';

describe('README quick start with a real llama-server', () => {
  const { prefix, env, cleanup } = readmeRun('swarmd-quickstart-llama-');
  // The block ends with down.sh; this is for a run that failed half way.
  afterAll(() => cleanup(2));

  it('serves the README’s `--alias tiny` on port 8080, found by auto-detection, to a chat on another node', async () => {
    const block = readmeShellBlock('**With a real model server.**');
    expect(block).toContain('--alias tiny --host 127.0.0.1 --port 8080');
    const llamaLines = block
      .replace(/\bns3\b/g, `${prefix}2`)
      .replace(/\bllama-server\b/, `'${llamaServerBinary()}'`)
      .replace(/\bmodel\.gguf\b/, `'${tinyModel()}'`);
    // The quick start's pairing and daemons, for two nodes; node2's model server is the README's.
    const script = `set -e
scripts/testlan/up.sh 2
d=$(mktemp -d)
token=$(node dist/src/bin/swarmctl.js --data-dir "$d/node1" init)
node dist/src/bin/swarmctl.js --data-dir "$d/node2" join "$token"
ctl1="ip netns exec ${prefix}1 node dist/src/bin/swarmctl.js --socket $d/node1/control.sock"
for i in 1 2; do
  ip netns exec ${prefix}$i node dist/src/bin/swarmd.js --name node$i --data-dir "$d/node$i" \\
    > "$d/node$i.log" 2>&1 &
  echo $! > "$d/node$i.pid"
done
${llamaLines.replace(/^\$ctl1 chat.*$/m, '')}
for _ in $(seq 60); do $ctl1 models 2>/dev/null | grep -q tiny && break; sleep 0.5; done
${/^\$ctl1 chat.*$/m.exec(llamaLines)?.[0] ?? 'echo "README block has no chat line"; exit 1'}
`;
    const { code, out } = await runBash(script, env);
    expect(code, out).toBe(0);
    expect(out).toMatch(/served by node2 \(tiny\)/);
  });
});
