// The scheduler's two entry points, composed from the pure pieces of this folder: the
// privacy a request gets (for the gateway), and the ordered targets it may run on (for the
// dispatcher), with the error to answer when there are none. Pure.
import { CapacityPendingError, ErrorCodes, SwarmError } from '../errors.js';
import type { InferenceRequest, Privacy, Target } from '../inference/types.js';
import type { WirePeerView } from '../rpc/wire.js';
import {
  type CandidateList,
  type CloudProvider,
  nodeExclusion,
  type Skipped,
  selectCandidates,
} from './candidates.js';
import { type Classification, type ClassifyConfig, classify, tierFor } from './classify.js';
import { effectivePrivacy, type PrivacyDecision } from './privacy.js';
import {
  aliasPrivacy,
  modelCatalogue,
  type Resolution,
  type ResolveConfig,
  resolveModelName,
} from './resolve.js';
import type { TargetStats } from './score.js';
import { findSecrets, requestText } from './secrets.js';
import { neededContext } from './tokens.js';

/** The routing config the planner reads (config `routing`). */
export type PlanRoutingConfig = ResolveConfig & ClassifyConfig & { defaultPrivacy: Privacy };

/** What the privacy decision sees of a request. */
export interface PrivacyRequest {
  body: Record<string, unknown>;
  /** The `x-swarm-privacy` header, or null. */
  header: string | null;
  /** Privacy configured for the caller's API key, if any. */
  apiKeyPrivacy?: Privacy | null;
}

/** A request's privacy from its header, alias, API key and the config default, held to lan when it carries a secret. */
export function decideRequestPrivacy(
  request: PrivacyRequest,
  routing: Pick<PlanRoutingConfig, 'aliases' | 'defaultPrivacy'>,
): PrivacyDecision {
  const model = typeof request.body['model'] === 'string' ? request.body['model'] : '';
  return effectivePrivacy({
    header: request.header,
    alias: aliasPrivacy(model, routing),
    apiKey: request.apiKeyPrivacy ?? null,
    configDefault: routing.defaultPrivacy,
    secretsFound: findSecrets(requestText(request.body)),
  });
}

/** Everything planning depends on. */
export interface PlanInput {
  request: Pick<InferenceRequest, 'body' | 'privacy' | 'action' | 'preferOtherThan'>;
  views: readonly WirePeerView[];
  routing: PlanRoutingConfig;
  cloud: readonly CloudProvider[];
  budgetAllowsCloud: boolean;
  cooldown?: { isCooling(key: string, nowMs: number): boolean } | undefined;
  nowMs: number;
  stats?: ReadonlyMap<string, TargetStats> | undefined;
}

/** A request's route: what its model name meant, how `auto` judged it, and where it may run. */
export interface Plan extends CandidateList {
  model: string;
  resolution: Resolution;
  /** Set for `auto` only. */
  classification: Classification | null;
  /** Estimated prompt tokens + max_tokens. */
  neededContext: number;
}

/**
 * The views whose models `GET /v1/models` lists: a request for them is routed now, or waits a
 * moment while the node finishes joining (settling). Suspect, dead, left, paused or one-way
 * nodes' models are not listed: a request for them would fail or wait on something uncertain.
 */
export function listableViews(views: readonly WirePeerView[]): WirePeerView[] {
  return views.filter((view) => {
    const reason = nodeExclusion(view);
    return reason === null || reason === 'settling';
  });
}

/** Resolve the model name and order the candidates; throws MODEL_NOT_FOUND for an unknown name. */
export function planRequest(input: PlanInput): Plan {
  const body = input.request.body;
  const model = typeof body['model'] === 'string' && body['model'] !== '' ? body['model'] : 'auto';
  const cloudAllowed = input.request.privacy === 'cloud' && input.budgetAllowsCloud && input.cloud.length > 0;
  const classification =
    model === 'auto' ? classify({ body, action: input.request.action }, input.routing) : null;
  const autoTiers = classification ? tierFor(classification.complexity, cloudAllowed) : undefined;
  const resolution = resolveModelName(
    model,
    modelCatalogue(input.views, input.cloud),
    input.routing,
    autoTiers,
  );
  const needed = neededContext(body);
  const list = selectCandidates({
    views: input.views,
    cloud: input.cloud,
    chain: resolution.chain,
    neededContext: needed,
    privacy: input.request.privacy,
    budgetAllowsCloud: input.budgetAllowsCloud,
    cooldown: input.cooldown,
    nowMs: input.nowMs,
    stats: input.stats,
    preferOtherThan: input.request.preferOtherThan,
  });
  return { model, resolution, classification, neededContext: needed, ...list };
}

const REASON_TEXT: Record<Skipped['reason'], string> = {
  suspect: 'not answering heartbeats for a moment',
  'dead-recently': 'not answering heartbeats (may be restarting)',
  dead: 'not answering heartbeats',
  left: 'left the swarm',
  settling: 'joining, restarting, or being checked after a failed call',
  incompatible: 'speaks another protocol version',
  'not-active': 'paused, draining or leaving',
  'one-way': 'reachable one way only',
  'backend-unhealthy': 'its model server is down',
  'context-too-long': 'context too short',
  privacy: 'not allowed by the request privacy',
  budget: 'cloud budget spent',
};

/** The targets to try, in order; throws noCandidateError when there are none, or it is better to wait. */
export function planTargets(plan: Plan, privacy: Privacy): Target[] {
  if (plan.targets.length === 0 || plan.comingBack) throw noCandidateError(plan, privacy);
  return plan.targets;
}

/**
 * The error for a plan with no target to try now: CapacityPendingError (NO_CAPACITY, worth waiting
 * for) when the places that could serve are coming back (plan.comingBack); CONTEXT_LENGTH_EXCEEDED
 * when only context lengths stood in the way; else NO_CAPACITY.
 */
export function noCandidateError(plan: Plan, privacy: Privacy): SwarmError {
  const skipped = plan.skipped;
  if (plan.comingBack) return new CapacityPendingError(noPlaceMessage(plan, privacy));
  // Places the request's own privacy or the budget rules out do not count: if every other
  // place was too small, the request is too long for what it may use.
  const possible = skipped.filter((s) => s.reason !== 'privacy' && s.reason !== 'budget');
  if (possible.length > 0 && possible.every((s) => s.reason === 'context-too-long')) {
    return new SwarmError(
      ErrorCodes.CONTEXT_LENGTH_EXCEEDED,
      `the request needs about ${plan.neededContext} tokens (prompt estimate + max_tokens), more than the context of every model that could serve ${plan.model}; shorten it or lower max_tokens`,
    );
  }
  if (skipped.length === 0) {
    return new SwarmError(
      ErrorCodes.NO_CAPACITY,
      `no node of the swarm offers a model for ${plan.model} right now; swarmctl models lists what each node has`,
    );
  }
  return new SwarmError(ErrorCodes.NO_CAPACITY, noPlaceMessage(plan, privacy));
}

/** "no place can serve m now (privacy lan): m on a: left the swarm; …" */
function noPlaceMessage(plan: Plan, privacy: Privacy): string {
  const skipped = plan.skipped;
  const shown = skipped
    .slice(0, 6)
    .map((s) => `${s.model} on ${s.nodeName}: ${s.detail || REASON_TEXT[s.reason]}`)
    .join('; ');
  const more = skipped.length > 6 ? `; and ${skipped.length - 6} more` : '';
  return `no place can serve ${plan.model} now (privacy ${privacy}): ${shown}${more}`;
}
