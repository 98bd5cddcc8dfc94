// `swarmctl chat` and `swarmctl usage` as real processes against two real swarmd processes on
// loopback (paired, static peers, mDNS off, gateways on free ports), each with a fake Ollama.
// chat goes through the daemon's own gateway over HTTP; usage reads the ledgers over the control
// socket and, with --swarm, over the members' authenticated UsageSummary RPC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwoNodeSwarm, type TwoNodeSwarm } from '../../helpers/loopback-swarm.js';
import type { Sandbox } from '../../helpers/sandbox.js';

let swarm: TwoNodeSwarm;
let a: Sandbox;
let b: Sandbox;

beforeAll(async () => {
  swarm = await startTwoNodeSwarm();
  ({ a, b } = swarm);
}, 60_000);

afterAll(async () => {
  await swarm?.stop();
});

describe('swarmctl chat and usage against real daemons', () => {
  it('status --json says where the gateway listens', async () => {
    const out = await a.swarmctl(['status', '--json']);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).gatewayUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  });

  it('chat streams the reply of a local model and names this node in the footer', async () => {
    const out = await a.swarmctl(['chat', 'hi', '--model', 'local-only:1b']);
    expect(out.stderr).not.toMatch(/swarmctl:/);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('hello from A\n');
    expect(out.stderr).toMatch(
      /^served by alpha \(local-only:1b\) · 1 attempt · \d+ tokens \(\d+ in, \d+ out\) · \S+\n$/,
    );
  });

  it('chat --no-stream gets a model only the peer has, served by the peer', async () => {
    const out = await a.swarmctl(['chat', 'hi', '--model', 'peer-only:8b', '--no-stream']);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('hello from B\n');
    expect(out.stderr).toMatch(/^served by bravo \(peer-only:8b\) · 1 attempt · /);
  });

  it('usage --json counts both requests, grouped by model', async () => {
    const out = await a.swarmctl(['usage', '--json', '--by', 'model']);
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json.by).toBe('model');
    expect(json.totals.requests).toBe(2);
    expect(json.totals.errors).toBe(0);
    expect(json.totals.localRequests).toBe(2);
    const groups = json.groups.map((g: { key: string; requests: number }) => [g.key, g.requests]).sort();
    expect(groups).toEqual([
      ['local-only:1b', 1],
      ['peer-only:8b', 1],
    ]);
    expect(json.nodes).toBeUndefined();
  });

  it('usage prints the human summary with the group table', async () => {
    const out = await a.swarmctl(['usage', '--by', 'node', '--since', '1h']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^requests\s+2 \(0 failed\)$/m);
    expect(out.stdout).toMatch(/^NODE\s+REQUESTS/m);
    expect(out.stdout).toMatch(/^alpha\s+1\s/m);
    expect(out.stdout).toMatch(/^bravo\s+1\s/m);
  });

  it('usage --jsonl prints one parsable row per request', async () => {
    const out = await a.swarmctl(['usage', '--jsonl']);
    expect(out.code).toBe(0);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const rows = lines.map((line) => JSON.parse(line));
    expect(rows.map((row) => row.model)).toEqual(['local-only:1b', 'peer-only:8b']);
    expect(rows.map((row) => row.nodeName)).toEqual(['alpha', 'bravo']);
    expect(new Set(rows.map((row) => row.requestId)).size).toBe(2);
  });

  it('usage --swarm adds up both ledgers and lists each node', async () => {
    const viaB = await b.swarmctl(['chat', 'hello', '--model', 'peer-only:8b']);
    expect(viaB.code).toBe(0);
    expect(viaB.stdout).toBe('hello from B\n');

    const own = JSON.parse((await b.swarmctl(['usage', '--json'])).stdout);
    expect(own.totals.requests).toBe(1);

    const out = await a.swarmctl(['usage', '--swarm', '--json', '--by', 'node']);
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json.totals.requests).toBe(3);
    const byNode = Object.fromEntries(
      json.groups.map((g: { label: string; requests: number }) => [g.label, g.requests]),
    );
    expect(byNode).toEqual({ alpha: 1, bravo: 2 });
    const nodes = json.nodes.map((n: { nodeName: string; ok: boolean; totals: { requests: number } }) => [
      n.nodeName,
      n.ok,
      n.totals.requests,
    ]);
    expect(nodes).toEqual([
      ['alpha', true, 2],
      ['bravo', true, 1],
    ]);

    const human = await a.swarmctl(['usage', '--swarm']);
    expect(human.stdout).toMatch(/^bravo\s+1\s.*counted$/m);
  });

  it('chat --json prints the completion with who served it', async () => {
    const out = await a.swarmctl(['chat', 'hi', '--model', 'local-only:1b', '--json']);
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json.object).toBe('chat.completion');
    expect(json.choices[0].message.content).toBe('hello from A');
    expect(json.swarm).toEqual({ node: 'alpha', model: 'local-only:1b', tier: null, attempts: 1 });
  });

  it('chat reports a gateway refusal with its message and swarm code, exit 1', async () => {
    const out = await a.swarmctl(['chat', 'hi', '--model', 'no-such-model']);
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(
      /^swarmctl: The model `no-such-model` does not exist.* \[SWARM_ERR_MODEL_NOT_FOUND\]\n$/,
    );
  });
});
