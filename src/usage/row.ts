// One usage-ledger row per client request, and the builders that make one from what the
// dispatcher knows when a request ends. Pure: no I/O, the clock is passed in.
//
// One row per request means: every request that reached the dispatcher ends in exactly one row,
// however it ended (served, failed, refused, cancelled). Its attempts (fallbacks, quality-gate
// escalations) are not rows of their own: `attempts` counts them, and the row names the target
// that served the request, or the last one that took an attempt. Tokens and cost are those of the
// reply the client got. An async task is one request however often it waits and tries again.
import { ErrorCodes, SwarmError } from '../errors.js';
import type { InferenceOutcome, InferenceRequest, Privacy, Target, Tier } from '../inference/types.js';
import { costOf, type Price, type ReferencePrice, referenceCost } from './prices.js';

/** How a request ended: served, failed, or cancelled by its client before the end. */
export type UsageOutcome = 'ok' | 'error' | 'cancelled';

/**
 * One request as the ledger keeps it. Money is USD at full precision (rounded only for display);
 * times are ms. `ts` is when the request ended (ms epoch, wall clock).
 */
export interface UsageRow {
  ts: number;
  requestId: string;
  /** API key label or "local". */
  client: string;
  /** The node that ran the request (this node, a peer, or this node for a cloud call). */
  nodeId: string;
  nodeName: string;
  /** Backend id on that node (a cloud provider's id for cloud); "none" when no target was reached. */
  backend: string;
  /** The concrete model that answered, or the model asked for when none did. */
  model: string;
  tier: Tier | null;
  /** True when a cloud provider served it. */
  cloud: boolean;
  privacy: Privacy;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  /** ms to the first token (streaming) or to the reply; null when none came. */
  firstTokenMs: number | null;
  /** Targets tried, fallbacks included (0 when none was reached). */
  attempts: number;
  /** What the request cost: 0 for local models, from configured prices for cloud. */
  costUsd: number;
  /** What the same tokens would have cost on the reference cloud model; null when none is configured. */
  referenceCostUsd: number | null;
  outcome: UsageOutcome;
  /**
   * Why it did not succeed: the SwarmError code the client got (SWARM_ERR_INTERNAL for anything
   * else), SWARM_ERR_REQUEST_CANCELLED when cancelled; null when it succeeded (and in rows of
   * releases before this one, which left failures uncoded).
   */
  errorCode: string | null;
}

/** Where the ledger row of a request is attributed when no target answered. */
export interface SelfNode {
  nodeId: string;
  nodeName: string;
}

/** Prices that apply to the request: the serving cloud model's (null for local) and the reference. */
export interface RowPrices {
  price: Price | null;
  reference: ReferencePrice | null;
}

/** The ledger row of a request that completed. */
export function rowFromOutcome(
  request: InferenceRequest,
  outcome: InferenceOutcome,
  prices: RowPrices,
  endedAtMs: number,
): UsageRow {
  const target = outcome.servedBy.target;
  const usage = outcome.usage;
  // Fields written out rather than spread from targetFields: this runs once per request.
  return {
    nodeId: target.nodeId,
    nodeName: target.nodeName,
    backend: target.backendId,
    model: target.model,
    tier: target.tier,
    cloud: target.cloud,
    ts: endedAtMs,
    requestId: request.id,
    client: request.client,
    privacy: request.privacy,
    promptTokens: usage?.promptTokens ?? 0,
    completionTokens: usage?.completionTokens ?? 0,
    latencyMs: outcome.latencyMs,
    firstTokenMs: outcome.firstTokenMs,
    attempts: outcome.servedBy.attempts,
    costUsd: target.cloud ? costOf(usage, prices.price) : 0,
    referenceCostUsd: referenceCost(usage, prices.reference),
    outcome: 'ok',
    errorCode: null,
  };
}

/** What is known about a request that failed. */
export interface FailureFacts {
  /** The last target tried, null when none was reached. */
  target: Target | null;
  attempts: number;
  latencyMs: number;
  firstTokenMs: number | null;
  error: unknown;
  /** True when the caller cancelled it rather than it failing. */
  cancelled: boolean;
}

/** The ledger row of a request that failed or was cancelled (no tokens are counted, so it costs nothing). */
export function rowFromFailure(
  request: InferenceRequest,
  failure: FailureFacts,
  self: SelfNode,
  endedAtMs: number,
): UsageRow {
  return {
    ...targetFields(failure.target, self, request),
    ts: endedAtMs,
    requestId: request.id,
    client: request.client,
    privacy: request.privacy,
    promptTokens: 0,
    completionTokens: 0,
    latencyMs: failure.latencyMs,
    firstTokenMs: failure.firstTokenMs,
    attempts: failure.attempts,
    costUsd: 0,
    referenceCostUsd: null,
    outcome: failure.cancelled ? 'cancelled' : 'error',
    errorCode: failure.cancelled ? ErrorCodes.REQUEST_CANCELLED : errorCodeOf(failure.error),
  };
}

/** The code the gateway answers an error with (error-map.ts): its own, else SWARM_ERR_INTERNAL. */
function errorCodeOf(error: unknown): string {
  return error instanceof SwarmError ? error.code : ErrorCodes.INTERNAL;
}

function targetFields(target: Target | null, fallback: SelfNode, request: InferenceRequest) {
  const node = target ?? fallback;
  const asked = typeof request.body.model === 'string' ? request.body.model : 'auto';
  return {
    nodeId: node.nodeId,
    nodeName: node.nodeName,
    backend: target?.backendId ?? 'none',
    model: target?.model ?? asked,
    tier: target?.tier ?? null,
    cloud: target?.cloud ?? false,
  };
}
