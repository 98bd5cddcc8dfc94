import { describe, expect, it } from 'vitest';
import { candidates } from '../../../src/scheduling/candidates.js';
import { withOwnLoad } from '../../../src/scheduling/own-load.js';
import { backend, model, view } from './views.js';

const swarm = () => [
  view('self', [backend([model('qwen3:8b', { maxConcurrency: 1, inflight: 1 })])], { self: true }),
  view('gpu-a', [backend([model('qwen3:8b', { maxConcurrency: 2, inflight: 0 })])]),
  view('gpu-b', [backend([model('qwen3:8b', { maxConcurrency: 2, inflight: 1 })])]),
];

const order = (views: ReturnType<typeof swarm>) =>
  candidates({
    views,
    cloud: [],
    chain: [{ tier: 'fast', models: ['qwen3:8b'], ordered: true }],
    neededContext: 100,
    privacy: 'lan',
    budgetAllowsCloud: true,
    nowMs: 0,
  }).map((target) => target.nodeName);

describe('withOwnLoad: a peer runs at least what this node sent it', () => {
  it('raises a peer model to this node’s own attempts, never lowers it, and leaves this node alone', () => {
    const mine: Record<string, number> = { 'id-gpu-a': 2, 'id-gpu-b': 0, 'id-self': 5 };
    const views = withOwnLoad(swarm(), (nodeId) => mine[nodeId] ?? 0);
    const inflight = views.map((v) => v.node!.backends[0]!.models[0]!.inflight);
    expect(inflight).toEqual([1, 2, 1]);
  });

  it('moves a peer this node has filled behind one with a free slot', () => {
    // By heartbeats alone gpu-a looks idle; this node already has two attempts running there.
    expect(order(swarm())[0]).toBe('gpu-a');
    const views = withOwnLoad(swarm(), (nodeId) => (nodeId === 'id-gpu-a' ? 2 : 0));
    expect(order(views)[0]).toBe('gpu-b');
  });
});
