import { describe, expect, it } from 'vitest';
import type { WireModel } from '../../../src/rpc/wire.js';
import {
  type CandidateInput,
  COMING_BACK,
  candidates,
  RECENTLY_DEAD_MS,
  selectCandidates,
} from '../../../src/scheduling/candidates.js';
import { CooldownTracker, cooldownKeys } from '../../../src/scheduling/cooldown.js';
import type { ChainStep } from '../../../src/scheduling/resolve.js';
import { statsKey } from '../../../src/scheduling/score.js';
import { backend, gpu, model, view } from './views.js';

const step = (models: string[], tier: ChainStep['tier'] = 'fast', ordered = true): ChainStep => ({
  tier,
  models,
  ordered,
});

function input(over: Partial<CandidateInput>): CandidateInput {
  return {
    views: [],
    cloud: [],
    chain: [step(['qwen3:8b'])],
    neededContext: 100,
    privacy: 'lan',
    budgetAllowsCloud: true,
    nowMs: 0,
    ...over,
  };
}
const names = (over: Partial<CandidateInput>) => candidates(input(over)).map((t) => t.nodeName);

describe('candidates: who may serve', () => {
  it('lists every alive, active, two-way node that has the model, as a Target', () => {
    const targets = candidates(
      input({
        views: [
          view('self', [backend([model('qwen3:8b')])], { self: true }),
          view('b', [backend([model('qwen3:8b')])]),
        ],
      }),
    );
    expect(targets).toHaveLength(2);
    expect(targets[0]).toEqual({
      nodeId: 'id-self',
      nodeName: 'self',
      backendId: 'ollama@127.0.0.1:11434',
      backendUrl: 'http://127.0.0.1:11434',
      backendKind: 'ollama',
      model: 'qwen3:8b',
      tier: 'fast',
      local: true,
      cloud: false,
    });
    expect(targets[1]).toMatchObject({ nodeName: 'b', local: false });
  });

  it('never picks a paused, draining or leaving node, not even this one', () => {
    const m = () => [backend([model('qwen3:8b', { loaded: true })])];
    const result = selectCandidates(
      input({
        views: [
          view('self', m(), { self: true, node: { activity: 'ACTIVITY_PAUSED' } }),
          view('drain', m(), { node: { activity: 'ACTIVITY_DRAINING' } }),
          view('leave', m(), { node: { activity: 'ACTIVITY_LEAVING' } }),
          view('ok', [backend([model('qwen3:8b')])]),
        ],
      }),
    );
    expect(result.targets.map((t) => t.nodeName)).toEqual(['ok']);
    expect(result.skipped.map((s) => [s.nodeName, s.reason])).toEqual([
      ['self', 'not-active'],
      ['drain', 'not-active'],
      ['leave', 'not-active'],
    ]);
  });

  it('never picks a one-way peer, nor a dead, suspect or incompatible one', () => {
    const m = () => [backend([model('qwen3:8b')])];
    const result = selectCandidates(
      input({
        views: [
          view('in-only', m(), { view: { outboundOk: false } }),
          view('out-only', m(), { view: { inboundOk: false } }),
          view('dead', m(), { view: { state: 'dead' } }),
          view('suspect', m(), { view: { state: 'suspect' } }),
          view('old', m(), { view: { compatible: false } }),
        ],
      }),
    );
    expect(result.targets).toEqual([]);
    expect(result.skipped.map((s) => s.reason)).toEqual([
      'one-way',
      'one-way',
      'dead-recently',
      'suspect',
      'incompatible',
    ]);
  });

  it('tells places coming back (settling, suspect, dead a moment ago) from ones gone for good', () => {
    const m = () => [backend([model('qwen3:8b')])];
    const result = selectCandidates(
      input({
        views: [
          view('joining', m(), { view: { settling: true, inboundOk: false } }),
          view('checked', m(), { view: { settling: true, outboundOk: false } }),
          view('crashed', m(), { view: { state: 'dead', lastHeartbeatAgeMs: RECENTLY_DEAD_MS - 1 } }),
          view('off', m(), { view: { state: 'dead', lastHeartbeatAgeMs: RECENTLY_DEAD_MS + 1 } }),
          view('stopped', m(), { view: { state: 'left' } }),
          view('gaming', m(), { node: { activity: 'ACTIVITY_PAUSED', activityReason: 'gaming: steam' } }),
          view('firewalled', m(), { view: { inboundOk: false } }),
        ],
      }),
    );
    expect(result.targets).toEqual([]);
    expect(result.skipped.map((s) => [s.nodeName, s.reason, COMING_BACK.has(s.reason)])).toEqual([
      ['joining', 'settling', true],
      ['checked', 'settling', true],
      ['crashed', 'dead-recently', true],
      ['off', 'dead', false],
      ['stopped', 'left', false],
      ['gaming', 'not-active', false],
      ['firewalled', 'one-way', false],
    ]);
    expect(result.skipped.find((s) => s.nodeName === 'gaming')?.detail).toBe('paused (gaming: steam)');
  });

  it('reports a place coming back only when it could take the request (privacy, context first)', () => {
    const result = selectCandidates(
      input({
        privacy: 'local',
        neededContext: 9000,
        views: [
          view('joining', [backend([model('qwen3:8b')])], { view: { settling: true } }),
          // llama.cpp enforces its context (Ollama, the fixtures' default, truncates instead).
          view('small', [backend([model('qwen3:8b', { contextLength: 4096 })], { kind: 'llamacpp' })], {
            self: true,
            view: { settling: false },
          }),
        ],
      }),
    );
    expect(result.skipped.map((s) => [s.nodeName, s.reason])).toEqual([
      ['joining', 'privacy'],
      ['small', 'context-too-long'],
    ]);
  });

  it('skips unhealthy backends and nodes without the model', () => {
    expect(
      names({
        views: [
          view('sick', [backend([model('qwen3:8b')], { healthy: false })]),
          view('other', [backend([model('x')])]),
        ],
      }),
    ).toEqual([]);
  });

  it('excludes a model whose context is too short, and allows one whose context is unknown', () => {
    // llama.cpp slots enforce their n_ctx.
    const llamacpp = (models: WireModel[]) =>
      backend(models, { kind: 'llamacpp', id: 'llamacpp@127.0.0.1:8080', url: 'http://127.0.0.1:8080' });
    const result = selectCandidates(
      input({
        neededContext: 20_000,
        views: [
          view('small', [llamacpp([model('qwen3:8b', { contextLength: 8192 })])]),
          view('big', [llamacpp([model('qwen3:8b', { contextLength: 32_768 })])]),
          view('unknown', [llamacpp([model('qwen3:8b', { contextLength: 0 })])]),
        ],
      }),
    );
    expect(result.targets.map((t) => t.nodeName)).toEqual(['big', 'unknown']);
    expect(result.skipped).toEqual([
      {
        nodeName: 'small',
        backendId: 'llamacpp@127.0.0.1:8080',
        model: 'qwen3:8b',
        reason: 'context-too-long',
      },
    ]);
  });

  it('never refuses an Ollama model for its context: Ollama truncates the prompt itself', () => {
    const result = selectCandidates(
      input({
        neededContext: 20_000,
        views: [view('small', [backend([model('qwen3:8b', { contextLength: 8192 })])])],
      }),
    );
    expect(result.targets.map((t) => t.nodeName)).toEqual(['small']);
    expect(result.skipped).toEqual([]);
  });

  it('keeps a local-privacy request on this node', () => {
    const views = [
      view('self', [backend([model('qwen3:8b')])], { self: true }),
      view('b', [backend([model('qwen3:8b')])]),
    ];
    expect(names({ views, privacy: 'local' })).toEqual(['self']);
  });
});

describe('candidates: cloud', () => {
  const groq = { name: 'groq', baseUrl: 'https://api.groq.com/openai/v1', models: ['qwen3:8b', 'llama-70b'] };
  const views = [view('self', [backend([model('qwen3:8b')])], { self: true })];

  it('offers cloud only to cloud-privacy requests, after the swarm in the same tier', () => {
    expect(names({ views, cloud: [groq], privacy: 'lan' })).toEqual(['self']);
    expect(names({ views, cloud: [groq], privacy: 'local' })).toEqual(['self']);
    const targets = candidates(input({ views, cloud: [groq], privacy: 'cloud' }));
    expect(targets.map((t) => [t.nodeName, t.cloud])).toEqual([
      ['self', false],
      ['groq', true],
    ]);
    expect(targets[1]).toMatchObject({
      nodeId: 'cloud:groq',
      backendId: 'cloud:groq',
      backendUrl: 'https://api.groq.com/openai/v1',
      backendKind: 'openai',
      local: false,
    });
  });

  it('skips cloud when the budget is spent', () => {
    const result = selectCandidates(
      input({ views, cloud: [groq], privacy: 'cloud', budgetAllowsCloud: false }),
    );
    expect(result.targets.map((t) => t.nodeName)).toEqual(['self']);
    expect(result.skipped).toEqual([
      { nodeName: 'groq', backendId: 'cloud:groq', model: 'qwen3:8b', reason: 'budget' },
    ]);
  });

  it('keeps the configured provider order', () => {
    const other = { name: 'openrouter', baseUrl: 'https://openrouter.ai/api/v1', models: ['llama-70b'] };
    const chain = [step(['llama-70b'], 'cloud')];
    expect(names({ chain, cloud: [other, groq], privacy: 'cloud' })).toEqual(['openrouter', 'groq']);
  });

  it('works with no cloud configured (fully offline)', () => {
    expect(
      names({ views, cloud: [], privacy: 'cloud', chain: [step(['qwen3:8b']), step([], 'cloud')] }),
    ).toEqual(['self']);
  });
});

describe('candidates: order', () => {
  const one = (name: string, m: ReturnType<typeof model>, over: Parameters<typeof view>[2] = {}) =>
    view(name, [backend([m])], over);

  it('puts a loaded model before a cold one', () => {
    expect(
      names({ views: [one('cold', model('qwen3:8b')), one('hot', model('qwen3:8b', { loaded: true }))] }),
    ).toEqual(['hot', 'cold']);
  });

  it('prefers more free slots against the concurrency cap', () => {
    const busy = one('busy', model('qwen3:8b', { inflight: 3 }));
    const idle = one('idle', model('qwen3:8b', { inflight: 1 }));
    expect(names({ views: [busy, idle] })).toEqual(['idle', 'busy']);
  });

  it('hot model on a busy node beats a cold model on an idle node while it has a free slot', () => {
    const hotBusy = one('hot-busy', model('qwen3:8b', { loaded: true, inflight: 3 }), {
      node: { inflight: 3 },
    });
    const coldIdle = one('cold-idle', model('qwen3:8b'), { node: { gpus: [gpu(24_000)] } });
    expect(names({ views: [coldIdle, hotBusy] })).toEqual(['hot-busy', 'cold-idle']);
  });

  it('lists a place with no free slot last, but still lists it', () => {
    const full = one('full', model('qwen3:8b', { loaded: true, inflight: 4 }));
    const cold = one('cold', model('qwen3:8b'));
    expect(names({ views: [full, cold] })).toEqual(['cold', 'full']);
  });

  it('prefers the shorter queue among full places', () => {
    const long = one('long', model('qwen3:8b', { inflight: 9 }));
    const short = one('short', model('qwen3:8b', { inflight: 5 }));
    expect(names({ views: [long, short] })).toEqual(['short', 'long']);
  });

  it('prefers measured speed: more tokens per second, lower latency', () => {
    const views = [one('a', model('qwen3:8b')), one('b', model('qwen3:8b'))];
    const fastB = new Map([[statsKey('id-b', 'ollama@127.0.0.1:11434', 'qwen3:8b'), { tokensPerSec: 120 }]]);
    expect(names({ views, stats: fastB })).toEqual(['b', 'a']);
    const slowA = new Map([[statsKey('id-a', 'ollama@127.0.0.1:11434', 'qwen3:8b'), { p50Ms: 9000 }]]);
    expect(names({ views, stats: slowA })).toEqual(['b', 'a']);
  });

  it('prefers more free VRAM', () => {
    const tight = one('a-tight', model('qwen3:8b'), { node: { gpus: [gpu(2_000)] } });
    const roomy = one('b-roomy', model('qwen3:8b'), { node: { gpus: [gpu(20_000)] } });
    expect(names({ views: [tight, roomy] })).toEqual(['b-roomy', 'a-tight']);
  });

  it('counts available RAM as headroom on unified memory', () => {
    const mac = one('b-mac', model('qwen3:8b'), {
      node: {
        gpus: [{ index: 0, vendor: 'apple', name: 'M2', uuid: '', unifiedMemory: true }],
        system: {
          hostname: 'mac',
          platform: 'darwin',
          distro: '',
          release: '',
          arch: 'arm64',
          cpuModel: '',
          cpuCores: 8,
          cpuLoadPct: 0,
          memTotalBytes: 64 * 2 ** 30,
          memAvailableBytes: 32 * 2 ** 30,
        },
      },
    });
    expect(names({ views: [one('a-none', model('qwen3:8b')), mac] })).toEqual(['b-mac', 'a-none']);
  });

  it('puts this node first on a tie', () => {
    const peer = one('a-peer', model('qwen3:8b'));
    const self = one('z-self', model('qwen3:8b'), { self: true });
    expect(names({ views: [peer, self] })).toEqual(['z-self', 'a-peer']);
  });

  it('follows the preference order of an alias while the preferred model has a free slot', () => {
    const chain = [step(['big', 'small'], null)];
    const views = [one('n1', model('small', { loaded: true })), one('n2', model('big'))];
    expect(candidates(input({ chain, views })).map((t) => t.model)).toEqual(['big', 'small']);
    const bigFull = [one('n1', model('small')), one('n2', model('big', { inflight: 4 }))];
    expect(candidates(input({ chain, views: bigFull })).map((t) => t.model)).toEqual(['small', 'big']);
  });

  it('lets the score alone order an unordered tier', () => {
    const chain = [step(['big', 'small'], 'deep', false)];
    const views = [one('n1', model('small', { loaded: true })), one('n2', model('big'))];
    expect(candidates(input({ chain, views })).map((t) => t.model)).toEqual(['small', 'big']);
  });

  it('tries the steps of the chain in order, each place once, tagged with its tier', () => {
    const chain = [step(['small'], 'fast'), step(['big', 'small'], 'deep')];
    const views = [one('n1', model('small')), one('n2', model('big', { loaded: true }))];
    const targets = candidates(input({ chain, views }));
    expect(targets.map((t) => [t.model, t.tier])).toEqual([
      ['small', 'fast'],
      ['big', 'deep'],
    ]);
  });
});

describe('candidates: cooldown', () => {
  const views = [
    view('a', [backend([model('qwen3:8b', { loaded: true })])]),
    view('b', [backend([model('qwen3:8b')])]),
  ];

  it('moves a cooling backend after every other place until the cooldown expires', () => {
    const cooldown = new CooldownTracker({ after: 2, baseMs: 30_000, maxMs: 300_000 });
    const key = cooldownKeys.backend({ nodeId: 'id-a', backendId: 'ollama@127.0.0.1:11434' });
    cooldown.recordFailure(key, 1000);
    expect(names({ views, cooldown, nowMs: 1000 })).toEqual(['a', 'b']);
    cooldown.recordFailure(key, 2000);
    expect(names({ views, cooldown, nowMs: 2000 })).toEqual(['b', 'a']);
    expect(names({ views, cooldown, nowMs: 31_999 })).toEqual(['b', 'a']);
    expect(names({ views, cooldown, nowMs: 32_000 })).toEqual(['a', 'b']);
  });

  it('cools a whole node by its node key, and a cloud provider by its backend key', () => {
    const cooldown = new CooldownTracker({ after: 1, baseMs: 1000, maxMs: 1000 });
    cooldown.recordFailure(cooldownKeys.node({ nodeId: 'id-a' }), 0);
    expect(names({ views, cooldown, nowMs: 10 })).toEqual(['b', 'a']);
    const cloud = [
      { name: 'groq', baseUrl: 'https://x/v1', models: ['m'] },
      { name: 'openai', baseUrl: 'https://y/v1', models: ['m'] },
    ];
    cooldown.recordFailure(cooldownKeys.backend({ nodeId: 'cloud:groq', backendId: 'cloud:groq' }), 0);
    expect(names({ cloud, chain: [step(['m'], 'cloud')], privacy: 'cloud', cooldown, nowMs: 10 })).toEqual([
      'openai',
      'groq',
    ]);
  });
});

describe('candidates: preferOtherThan (best-of proposals spread over the swarm)', () => {
  const hot = () => [backend([model('qwen3:8b', { loaded: true })])];

  it('orders places on nodes already used after equal places on other nodes', () => {
    const views = [view('self', hot(), { self: true }), view('b', hot()), view('c', hot())];
    expect(names({ views })).toEqual(['self', 'b', 'c']);
    expect(names({ views, preferOtherThan: ['id-self'] })).toEqual(['b', 'c', 'self']);
    expect(names({ views, preferOtherThan: ['id-self', 'id-b'] })).toEqual(['c', 'self', 'b']);
  });

  it('is a preference, never a refusal: the only node still serves', () => {
    const views = [view('self', hot(), { self: true })];
    expect(names({ views, preferOtherThan: ['id-self'] })).toEqual(['self']);
    expect(selectCandidates(input({ views, preferOtherThan: ['id-self'] })).skipped).toEqual([]);
    // Every node used: the usual order again.
    const two = [view('self', hot(), { self: true }), view('b', hot())];
    expect(names({ views: two, preferOtherThan: ['id-self', 'id-b'] })).toEqual(['self', 'b']);
  });

  it('does not beat a free slot, the tier order or the model preference order', () => {
    const full = view('self', [backend([model('qwen3:8b', { loaded: true, inflight: 4 })])], { self: true });
    const used = view('b', hot());
    // A used node with a free slot still comes before a full one.
    expect(names({ views: [full, used], preferOtherThan: ['id-b'] })).toEqual(['b', 'self']);
    // The requested tier's places come before a fallback tier's, used or not.
    const deep = view('d', [backend([model('big:32b', { loaded: true })])]);
    expect(
      names({
        views: [used, deep],
        chain: [step(['qwen3:8b']), step(['big:32b'], 'deep')],
        preferOtherThan: ['id-b'],
      }),
    ).toEqual(['b', 'd']);
    // An ordered alias's preferred model comes first even on a used node.
    const other = view('o', [backend([model('small:1b', { loaded: true })])]);
    expect(
      names({ views: [used, other], chain: [step(['qwen3:8b', 'small:1b'])], preferOtherThan: ['id-b'] }),
    ).toEqual(['b', 'o']);
  });

  it('beats the score among equals: a cold model on another node before a hot one on a used node', () => {
    const cold = view('cold', [backend([model('qwen3:8b', { loaded: false })])]);
    const used = view('b', hot());
    expect(names({ views: [used, cold] })).toEqual(['b', 'cold']);
    expect(names({ views: [used, cold], preferOtherThan: ['id-b'] })).toEqual(['cold', 'b']);
  });
});
