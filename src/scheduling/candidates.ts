// The ordered places a request may run: every node, backend and cloud provider that has a
// model of the chain and may take the request now, best first. Pure.
//
// A place is left out when its node is not alive, speaks another protocol, is paused,
// draining or leaving, is a peer not usable yet (settling: just met or restarted, or a call to
// it just failed) or not reachable both ways (a worker must dial us back with SubmitResult),
// when its backend is unhealthy, when the model's context length (where known, on a server that
// enforces it: not Ollama, which truncates) is smaller than the prompt estimate plus max_tokens,
// or when privacy forbids it (`local`: this node only; `lan`: no cloud; `cloud`: everything,
// cloud only within budget). Some of these reasons pass by themselves (COMING_BACK): a request
// that finds only such places waits for them.
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
  | 'suspect'
  | 'dead-recently'
  | 'dead'
  | 'left'
  | 'settling'
  | 'incompatible'
  | 'not-active'
  | 'one-way'
  | 'backend-unhealthy'
  | 'context-too-long'
  | 'privacy'
  | 'budget';

/**
 * Reasons that pass by themselves, soon: a node silent for a moment (suspect), dead less than
 * RECENTLY_DEAD_MS ago (a crash that systemd restarts, a quick reboot), or settling (joining,
 * restarting, being checked after a failed call). Left, paused, one-way for good: not these.
 */
export const COMING_BACK: ReadonlySet<SkipReason> = new Set(['suspect', 'dead-recently', 'settling']);

/** A dead node heard from less than this long ago may be restarting. */
export const RECENTLY_DEAD_MS = 60_000;

/** A place left out, for logs and for the error when nothing is left. */
export interface Skipped {
  nodeName: string;
  backendId: string;
  model: string;
  reason: SkipReason;
  /** For `not-active`: what the node does instead, as it says ("paused (gaming: steam)"). */
  detail?: string;
}

/** The ordered targets and what was left out. */
export interface CandidateList {
  targets: Target[];
  skipped: Skipped[];
  /**
   * The first step of the chain with a place that could take the request has none now, only
   * places coming back (COMING_BACK): the request should wait for them, not fall through to a
   * later step's model (as it waits for a busy step). Steps whose places are gone for good
   * (left, paused) are fallen through.
   */
  comingBack: boolean;
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
  /** Per step: it has a target, or (failing that) a place coming back. */
  const served = new Set<number>();
  const returning = new Set<number>();
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
          const reason = exclusion(view, backend, model, input);
          if (reason !== null) {
            if (COMING_BACK.has(reason)) returning.add(stepIndex);
            skipped.push({
              nodeName: node.name,
              backendId: backend.id,
              model: model.id,
              reason,
              ...(reason === 'not-active' && { detail: activityText(node) }),
            });
            continue;
          }
          const target = nodeTarget(view, node, backend, model.id, step.tier);
          served.add(stepIndex);
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
        served.add(stepIndex);
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
  const first = input.chain.findIndex((_, step) => served.has(step) || returning.has(step));
  const comingBack = first >= 0 && !served.has(first);
  return { targets: ranked.map((entry) => entry.target), skipped, comingBack };
}

/** Why no request may run on a node now, whatever it asks for; null when it may take work. */
export function nodeExclusion(view: WirePeerView): SkipReason | null {
  if (view.state === 'suspect') return 'suspect';
  if (view.state === 'dead')
    return view.lastHeartbeatAgeMs >= 0 && view.lastHeartbeatAgeMs < RECENTLY_DEAD_MS
      ? 'dead-recently'
      : 'dead';
  if (view.state !== 'alive') return 'left';
  if (!view.compatible) return 'incompatible';
  if (view.node?.activity !== 'ACTIVITY_ACTIVE') return 'not-active';
  if (!view.self && view.settling) return 'settling';
  if (!view.self && !(view.outboundOk && view.inboundOk)) return 'one-way';
  return null;
}

function exclusion(
  view: WirePeerView,
  backend: WireBackend,
  model: WireModel,
  input: CandidateInput,
): SkipReason | null {
  const reason = nodeExclusion(view);
  if (reason !== null && !COMING_BACK.has(reason)) return reason;
  if (!privacyAllows(input.privacy, view.self ? 'local' : 'lan')) return 'privacy';
  if (!backend.healthy) return 'backend-unhealthy';
  if (enforcesContext(backend) && model.contextLength > 0 && input.neededContext > model.contextLength) {
    return 'context-too-long';
  }
  // Said last: a place coming back is worth waiting for only when it could take the request.
  return reason;
}

/** "paused (gaming: steam)", "draining", "leaving": what a node not taking work says it does. */
function activityText(node: WireNodeInfo): string {
  const what = node.activity.replace('ACTIVITY_', '').toLowerCase();
  return node.activityReason ? `${what} (${node.activityReason})` : what;
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
