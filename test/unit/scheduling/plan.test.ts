import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { CapacityPendingError, ErrorCodes, SwarmError } from '../../../src/errors.js';
import type { Privacy } from '../../../src/inference/types.js';
import {
  decideRequestPrivacy,
  listableViews,
  noCandidateError,
  type PlanInput,
  planRequest,
  planTargets,
} from '../../../src/scheduling/plan.js';
import { thrown } from '../../helpers/expect-error.js';
import { backend, model, view } from './views.js';

const config = configSchema.parse({
  routing: {
    aliases: {
      private: { models: ['qwen3:8b'], privacy: 'local' },
      open: { models: ['qwen3:8b'], privacy: 'cloud' },
    },
    tiers: { fast: ['qwen3:8b'], deep: ['qwen3:32b'], cloud: ['gpt-4o-mini'] },
  },
  cloud: { providers: [{ name: 'openai', models: ['gpt-4o-mini'] }] },
});

// llama.cpp servers: they enforce their context (Ollama would truncate instead).
const llamacpp = { kind: 'llamacpp', id: 'llamacpp@127.0.0.1:8080' };
const views = [
  view('self', [backend([model('qwen3:8b', { loaded: true })], llamacpp)], { self: true }),
  view('big', [backend([model('qwen3:32b', { contextLength: 32_768 })], llamacpp)]),
];

function plan(body: Record<string, unknown>, privacy: Privacy = 'lan', over: Partial<PlanInput> = {}) {
  return planRequest({
    request: { body, privacy, action: null },
    views,
    routing: config.routing,
    cloud: config.cloud.providers,
    budgetAllowsCloud: true,
    nowMs: 0,
    ...over,
  });
}
const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'auto',
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('decideRequestPrivacy', () => {
  it('keeps a secret-bearing prompt asked as cloud on the LAN', () => {
    const body = chat('why does this fail?\nOPENAI_API_KEY=sk-live-0123456789abcdefghijklmnop');
    expect(decideRequestPrivacy({ body, header: 'cloud' }, config.routing)).toEqual({
      privacy: 'lan',
      reason: 'secret:openai-api-key',
    });
  });

  it('takes the privacy of the alias the request names, below the header', () => {
    expect(
      decideRequestPrivacy({ body: { ...chat('hi'), model: 'private' }, header: null }, config.routing),
    ).toEqual({
      privacy: 'local',
      reason: 'alias',
    });
    expect(
      decideRequestPrivacy({ body: { ...chat('hi'), model: 'private' }, header: 'lan' }, config.routing),
    ).toEqual({
      privacy: 'lan',
      reason: 'header',
    });
  });

  it('uses the API key privacy, then the config default', () => {
    expect(
      decideRequestPrivacy({ body: chat('hi'), header: null, apiKeyPrivacy: 'cloud' }, config.routing),
    ).toEqual({
      privacy: 'cloud',
      reason: 'api-key',
    });
    expect(decideRequestPrivacy({ body: chat('hi'), header: null }, config.routing)).toEqual({
      privacy: 'lan',
      reason: 'default',
    });
  });
});

describe('planRequest', () => {
  it('sends a simple auto request to the fast tier first, then deep', () => {
    const result = plan(chat('What is 2 + 2?'));
    expect(result.classification?.complexity).toBe('simple');
    expect(result.targets.map((t) => [t.model, t.tier, t.nodeName])).toEqual([
      ['qwen3:8b', 'fast', 'self'],
      ['qwen3:32b', 'deep', 'big'],
    ]);
  });

  it('sends a complex auto request to deep, then to cloud only when privacy allows', () => {
    const body = chat('Refactor the scheduler into smaller modules');
    expect(plan(body, 'lan').targets.map((t) => t.model)).toEqual(['qwen3:32b']);
    expect(plan(body, 'cloud').targets.map((t) => [t.model, t.cloud])).toEqual([
      ['qwen3:32b', false],
      ['gpt-4o-mini', true],
    ]);
    expect(plan(body, 'cloud', { budgetAllowsCloud: false }).targets.map((t) => t.model)).toEqual([
      'qwen3:32b',
    ]);
  });

  it('uses the action type from the request', () => {
    const result = planRequest({
      request: { body: chat('hi'), privacy: 'lan', action: 'architect' },
      views,
      routing: config.routing,
      cloud: [],
      budgetAllowsCloud: false,
      nowMs: 0,
    });
    expect(result.classification).toEqual({ complexity: 'complex', reasons: ['action architect'] });
    expect(result.targets[0]!.model).toBe('qwen3:32b');
  });

  it('routes a concrete model to that model only; a tier has the fallback behind it', () => {
    const result = plan({ model: 'qwen3:8b', messages: [] });
    expect(result.resolution.kind).toBe('model');
    expect(result.targets.map((t) => t.model)).toEqual(['qwen3:8b']);
    expect(plan({ model: 'fast', messages: [] }).targets.map((t) => t.model)).toEqual([
      'qwen3:8b',
      'qwen3:32b',
    ]);
  });

  it('never swaps a named model when its context is too short: the model’s own error', () => {
    // qwen3:32b (32k context) would fit; qwen3:8b (default context) does not.
    const body = { model: 'qwen3:8b', prompt: 'x'.repeat(40_000), max_tokens: 4000 };
    const result = plan(body);
    expect(result.targets).toEqual([]);
    expect(noCandidateError(result, 'lan').code).toBe(ErrorCodes.CONTEXT_LENGTH_EXCEEDED);
    expect(plan({ ...body, model: 'fast' }).targets.map((t) => t.model)).toEqual(['qwen3:32b']);
  });

  it('never swaps a named model while the node that has it is paused', () => {
    const paused = [
      view('self', [backend([model('qwen3:8b')])], { self: true, node: { activity: 'ACTIVITY_PAUSED' } }),
      views[1]!,
    ];
    const result = plan({ model: 'qwen3:8b', messages: [] }, 'lan', { views: paused });
    expect(result.targets).toEqual([]);
    expect(noCandidateError(result, 'lan').message).toContain('qwen3:8b on self: paused');
    const tier = plan({ model: 'fast', messages: [] }, 'lan', { views: paused });
    expect(tier.targets.map((t) => t.model)).toEqual(['qwen3:32b']);
  });

  it("passes the request's preferOtherThan to the candidate order", () => {
    const two = [
      view('self', [backend([model('qwen3:8b', { loaded: true })])], { self: true }),
      view('peer', [backend([model('qwen3:8b', { loaded: true })])]),
    ];
    const body = { model: 'qwen3:8b', messages: [] };
    const order = (preferOtherThan?: string[]) =>
      planRequest({
        request: { body, privacy: 'lan', action: null, ...(preferOtherThan && { preferOtherThan }) },
        views: two,
        routing: { ...config.routing, fallback: [] },
        cloud: [],
        budgetAllowsCloud: true,
        nowMs: 0,
      }).targets.map((t) => t.nodeName);
    expect(order()).toEqual(['self', 'peer']);
    expect(order(['id-self'])).toEqual(['peer', 'self']);
  });

  it('drops places whose context is too short and says so when none is left', () => {
    const body = { model: 'qwen3:8b', prompt: 'x'.repeat(40_000), max_tokens: 4000 };
    const result = plan(body, 'local');
    expect(result.neededContext).toBe(14_000);
    expect(result.targets).toEqual([]);
    expect(noCandidateError(result, 'local').code).toBe(ErrorCodes.CONTEXT_LENGTH_EXCEEDED);
  });

  it('explains NO_CAPACITY with what stood in the way', () => {
    const paused = [
      view('self', [backend([model('qwen3:8b')])], { self: true, node: { activity: 'ACTIVITY_PAUSED' } }),
    ];
    const result = plan({ model: 'qwen3:8b', messages: [] }, 'local', { views: paused });
    const err = noCandidateError(result, 'local');
    expect(err.code).toBe(ErrorCodes.NO_CAPACITY);
    expect(err.message).toContain('qwen3:8b on self: paused');
  });

  it('says to wait when a node that could serve is coming back, and not when it left or is paused', () => {
    const only = (over: Parameters<typeof view>[2]) => [
      view('self', [], { self: true }),
      view('w1', [backend([model('qwen3:8b')])], over),
    ];
    const errorFor = (over: Parameters<typeof view>[2]) => {
      const result = plan({ model: 'qwen3:8b', messages: [] }, 'lan', { views: only(over) });
      expect(result.targets).toEqual([]);
      return noCandidateError(result, 'lan');
    };
    for (const coming of [
      { view: { settling: true, inboundOk: false } },
      { view: { state: 'suspect' } },
      { view: { state: 'dead', lastHeartbeatAgeMs: 4000 } },
    ]) {
      const err = errorFor(coming);
      expect(err).toBeInstanceOf(CapacityPendingError);
      expect(err.code).toBe(ErrorCodes.NO_CAPACITY);
    }
    const left = errorFor({ view: { state: 'left' } });
    expect(left).not.toBeInstanceOf(CapacityPendingError);
    expect(left.message).toContain('qwen3:8b on w1: left the swarm');
    const paused = errorFor({ node: { activity: 'ACTIVITY_PAUSED', activityReason: 'swarmctl pause' } });
    expect(paused).not.toBeInstanceOf(CapacityPendingError);
    expect(paused.message).toContain('qwen3:8b on w1: paused (swarmctl pause)');
  });

  it('waits for the requested model coming back; fails at once, saying so, when its node is gone for good', () => {
    // The default fallback tiers: a request for w1's model may fall through to self's model.
    const withW1 = (over: Parameters<typeof view>[2]) => [
      view('self', [backend([model('qwen3:8b', { loaded: true })])], { self: true }),
      view('w1', [backend([model('qwen3:32b')])], over),
    ];
    const planFor = (over: Parameters<typeof view>[2]) =>
      planRequest({
        request: { body: { model: 'qwen3:32b', messages: [] }, privacy: 'lan', action: null },
        views: withW1(over),
        routing: configSchema.parse({}).routing,
        cloud: [],
        budgetAllowsCloud: true,
        nowMs: 0,
      });
    // A concrete model id has no fallback chain: it waits for its node, or fails saying why.
    const restarting = planFor({ view: { settling: true, inboundOk: false } });
    expect(restarting.targets.map((t) => t.model)).toEqual([]);
    expect(() => planTargets(restarting, 'lan')).toThrow(CapacityPendingError);
    const left = planFor({ view: { state: 'left' } });
    const gone = thrown(() => planTargets(left, 'lan'));
    expect(gone).not.toBeInstanceOf(CapacityPendingError);
    expect(String((gone as Error).message)).toMatch(/left/);
    const up = planFor({});
    expect(planTargets(up, 'lan')[0]).toMatchObject({ nodeName: 'w1', model: 'qwen3:32b' });
  });

  it('lists in /v1/models only nodes a request is routed to now or waits a moment for', () => {
    const m = () => [backend([model('qwen3:8b')])];
    const listed = listableViews([
      view('self', m(), { self: true }),
      view('ok', m()),
      view('joining', m(), { view: { settling: true, inboundOk: false } }),
      view('suspect', m(), { view: { state: 'suspect' } }),
      view('dead', m(), { view: { state: 'dead' } }),
      view('left', m(), { view: { state: 'left' } }),
      view('paused', m(), { node: { activity: 'ACTIVITY_PAUSED' } }),
      view('firewalled', m(), { view: { outboundOk: false } }),
    ]);
    expect(listed.map((v) => v.node?.name)).toEqual(['self', 'ok', 'joining']);
  });

  it('answers MODEL_NOT_FOUND for a name nothing stands for', () => {
    expect(thrown(() => plan({ model: 'nope', messages: [] }), SwarmError).code).toBe(
      ErrorCodes.MODEL_NOT_FOUND,
    );
  });
});
