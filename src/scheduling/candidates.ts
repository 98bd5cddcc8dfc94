// The ordered places a request may run: every node, backend and cloud provider that has a
// model of the chain and may take the request now, best first. Pure.
//
// A place is left out when its node is not alive, speaks another protocol, is paused,
// draining or leaving, is a peer not reachable both ways (a worker must dial us back with
// SubmitResult), when its backend is unhealthy, when the model's context length (where
// known, on a server that enforces it: not Ollama, which truncates) is smaller than the prompt
// estimate plus max_tokens, or when privacy forbids it
// (`local`: this node only; `lan`: no cloud; `cloud`: everything, cloud only within budget).
//
// Order: steps of the chain in turn (the requested tier, then the fallback tiers); inside a
// step, swarm places before cloud ones, places with a free slot before full ones, then the
// model preference order (aliases, configured tiers), then places on nodes the request asks
// to avoid (`preferOtherThan`: a coding job's best-of proposals spread over the swarm) after
// the others, then the score (score.ts), then this node first, then by name. A place cooling
// down (cooldown.ts) is not dropped but moved after every other place, so it is tried again
// only when nothing else is left. Nothing is ever dropped for `preferOtherThan`: one node
// still serves every proposal when it is the only one.
import type { Privacy, Target, Tier } from '../inference/types.js';
import type { WireBackend, WireModel, WireNodeInfo, WirePeerView } from '../rpc/wire.js';
import { cooldownKeys } from './cooldown.js';
import { privacyAllows } from './privacy.js';
import type { ChainStep } from './resolve.js';
import { freeSlots, scorePlace, statsKey, type TargetStats } from './score.js';

/** A cloud provider as candidates need it (config `cloud.providers`). */
export interface CloudProvider {
  name: string;
  baseUrl: string;
  models: readonly string[];
}

/** Everything candidate choice depends on. */
export interface CandidateInput {
  /** Every node as membership sees it, this node included (`self: true`). */
  views: readonly WirePeerView[];
  cloud: readonly CloudProvider[];
  chain: readonly ChainStep[];
  /** Estimated prompt tokens + max_tokens (tokens.ts: neededContext). */
  neededContext: number;
  privacy: Privacy;
  /** False when a cloud budget is spent: cloud providers are skipped. */
  budgetAllowsCloud: boolean;
  /** Failing nodes and backends (cooldown.ts). */
  cooldown?: { isCooling(key: string, nowMs: number): boolean } | undefined;
  /** Monotonic ms, for the cooldown. */
  nowMs: number;
  /** Measured performance by statsKey(node, backend, model). */
  stats?: ReadonlyMap<string, TargetStats> | undefined;
  /** Node ids ordered after other nodes' equal places (soft: never left out). */
  preferOtherThan?: readonly string[] | undefined;
}

/** Why a place holding a model of the chain was left out. */
export type SkipReason =
  | 'not-alive'
  | 'incompatible'
  | 'not-active'
  | 'one-way'
  | 'backend-unhealthy'
  | 'context-too-long'
  | 'privacy'
  | 'budget';

/** A place left out, for logs and for the error when nothing is left. */
export interface Skipped {
  nodeName: string;
  backendId: string;
  model: string;
  reason: SkipReason;
}

/** The ordered targets and what was left out. */
export interface CandidateList {
  targets: Target[];
  skipped: Skipped[];
}

interface Ranked {
  target: Target;
  step: number;
  rank: number;
  full: boolean;
  cooling: boolean;
  /** On a node the request prefers not to use. */
  avoided: boolean;
  score: number;
}

/** The ordered targets for a chain (see the rules above). */
export function candidates(input: CandidateInput): Target[] {
  return selectCandidates(input).targets;
}

/** The ordered targets for a chain, with every place left out and why. */
export function selectCandidates(input: CandidateInput): CandidateList {
  const ranked: Ranked[] = [];
  const skipped: Skipped[] = [];
  const seen = new Set<string>();
  const avoid = new Set(input.preferOtherThan ?? []);
  input.chain.forEach((step, stepIndex) => {
    const rankOf = (model: string) => (step.ordered ? step.models.indexOf(model) : 0);
    const wanted = new Set(step.models);
    for (const view of input.views) {
      const node = view.node;
      if (!node) continue;
      for (const backend of node.backends) {
        for (const model of backend.models) {
          if (!wanted.has(model.id)) continue;
          const key = `${node.id}|${backend.id}|${model.id}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const reason = exclusion(view, node, backend, model, input);
          if (reason !== null) {
            skipped.push({ nodeName: node.name, backendId: backend.id, model: model.id, reason });
            continue;
          }
          const target = nodeTarget(view, node, backend, model.id, step.tier);
          ranked.push({
            target,
            step: stepIndex,
            rank: rankOf(model.id),
            full: freeSlots(model) === 0,
            cooling: isCooling(target, input),
            avoided: avoid.has(node.id),
            score: scorePlace(node, model, input.stats?.get(statsKey(node.id, backend.id, model.id))),
          });
        }
      }
    }
    input.cloud.forEach((provider, providerIndex) => {
      for (const model of provider.models) {
        if (!wanted.has(model)) continue;
        const target = cloudTarget(provider, model, step.tier);
        const key = `${target.nodeId}|${target.backendId}|${model}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const reason: SkipReason | null =
          input.privacy !== 'cloud' ? 'privacy' : !input.budgetAllowsCloud ? 'budget' : null;
        if (reason !== null) {
          skipped.push({ nodeName: provider.name, backendId: target.backendId, model, reason });
          continue;
        }
        // Cloud places keep the configured provider order: the score only breaks no ties here.
        ranked.push({
          target,
          step: stepIndex,
          rank: rankOf(model),
          full: false,
          cooling: isCooling(target, input),
          avoided: false,
          score: -providerIndex,
        });
      }
    });
  });
  ranked.sort(compare);
  return { targets: ranked.map((entry) => entry.target), skipped };
}

function exclusion(
  view: WirePeerView,
  node: WireNodeInfo,
  backend: WireBackend,
  model: WireModel,
  input: CandidateInput,
): SkipReason | null {
  if (view.state !== 'alive') return 'not-alive';
  if (!view.compatible) return 'incompatible';
  if (node.activity !== 'ACTIVITY_ACTIVE') return 'not-active';
  if (!view.self && !(view.outboundOk && view.inboundOk)) return 'one-way';
  if (!privacyAllows(input.privacy, view.self ? 'local' : 'lan')) return 'privacy';
  if (!backend.healthy) return 'backend-unhealthy';
  if (enforcesContext(backend) && model.contextLength > 0 && input.neededContext > model.contextLength) {
    return 'context-too-long';
  }
  return null;
}

// Ollama accepts a prompt longer than the context it loaded the model with and truncates it, so
// swarmd does not refuse for it; llama.cpp slots and the others enforce their context.
function enforcesContext(backend: WireBackend): boolean {
  return backend.kind !== 'ollama';
}

function isCooling(target: Target, input: CandidateInput): boolean {
  const cooldown = input.cooldown;
  if (!cooldown) return false;
  return (
    cooldown.isCooling(cooldownKeys.node(target), input.nowMs) ||
    cooldown.isCooling(cooldownKeys.backend(target), input.nowMs)
  );
}

function compare(a: Ranked, b: Ranked): number {
  return (
    Number(a.cooling) - Number(b.cooling) ||
    a.step - b.step ||
    Number(a.target.cloud) - Number(b.target.cloud) ||
    Number(a.full) - Number(b.full) ||
    a.rank - b.rank ||
    Number(a.avoided) - Number(b.avoided) ||
    Math.round(b.score) - Math.round(a.score) ||
    Number(b.target.local) - Number(a.target.local) ||
    a.target.nodeName.localeCompare(b.target.nodeName) ||
    a.target.backendId.localeCompare(b.target.backendId) ||
    a.target.model.localeCompare(b.target.model)
  );
}

function nodeTarget(
  view: WirePeerView,
  node: WireNodeInfo,
  backend: WireBackend,
  model: string,
  tier: Tier | null,
): Target {
  return {
    nodeId: node.id,
    nodeName: node.name,
    backendId: backend.id,
    backendUrl: backend.url,
    backendKind: backend.kind,
    model,
    tier,
    local: view.self,
    cloud: false,
  };
}

/** The Target of a cloud provider: node and backend ids are `cloud:<name>`, kind `openai`. */
export function cloudTarget(provider: CloudProvider, model: string, tier: Tier | null): Target {
  const id = `cloud:${provider.name}`;
  return {
    nodeId: id,
    nodeName: provider.name,
    backendId: id,
    backendUrl: provider.baseUrl,
    backendKind: 'openai',
    model,
    tier,
    local: false,
    cloud: true,
  };
}
