// The usage RPCs. On the control socket: Usage (`swarmctl usage`, totals and groups, with
// --swarm every member added up) and UsageRows (`swarmctl usage --jsonl`, streamed). On the peer
// port: UsageSummary, a member asking for this node's totals, answered only to an authenticated
// member. Everything is read from the ledger Serving owns; summaries travel as the documented
// usageJson text (src/usage/render.ts) and a peer's answer is checked field by field.
import type * as grpc from '@grpc/grpc-js';
import { ErrorCodes, errorMessage, SwarmError } from '../errors.js';
import type { Membership } from '../membership/membership.js';
import type { PeerRecord } from '../membership/peer-record.js';
import type { PeerClientPool } from '../rpc/peer-client.js';
import type {
  UsageRequest,
  UsageResponse,
  UsageRowMessage,
  UsageRowsRequest,
  UsageSummaryRequest,
  UsageSummaryResponse,
} from '../rpc/wire.js';
import { parseGroupBy } from '../usage/args.js';
import type { UsageLedger } from '../usage/ledger.js';
import { usageJson, usageRowJsonl } from '../usage/render.js';
import { type NodeAnswer, swarmSummary, type UsageGroupBy, type UsageWindow } from '../usage/summary.js';
import { parseUsageJson, UsageJsonError } from '../usage/summary-json.js';
import type { Logger } from '../util/logger.js';

/** How long `usage --swarm` waits for each member's answer. */
export const PEER_USAGE_TIMEOUT_MS = 3_000;

export interface UsageServiceComponents {
  logger: Logger;
  /** The open ledger; null while none is open (starting, stopping, or usage.enabled false). */
  ledger: () => UsageLedger | null;
  /** This node, as the swarm-wide summary lists it. */
  self: { id: string; name: string };
  membership: Pick<Membership, 'reachableMembers' | 'knownMembers'>;
  pool: Pick<PeerClientPool, 'usageSummary'>;
  /** Throws unless the call's certificate names `claimedId` as a member of this swarm. */
  authorize: (call: unknown, claimedId: string) => void;
  /** Wall clock, ms epoch (the end of every window). */
  now?: () => number;
}

export interface UsageServiceInit {
  /** usage.enabled: false means no ledger is ever opened on this node. */
  enabled: boolean;
  /** Deadline of each member's UsageSummary (default PEER_USAGE_TIMEOUT_MS). */
  peerTimeoutMs?: number;
}

/** Serves the usage RPCs from this node's ledger. */
export class UsageService {
  private readonly c: UsageServiceComponents;
  private readonly init: UsageServiceInit;
  private readonly now: () => number;

  constructor(components: UsageServiceComponents, init: UsageServiceInit) {
    this.c = components;
    this.init = init;
    this.now = components.now ?? Date.now;
  }

  /** Usage: this node's summary, or with `swarm` every member's added up (those that fail listed). */
  async summary(request: UsageRequest): Promise<UsageResponse> {
    const window: UsageWindow = {
      since: since(request.sinceMs),
      until: this.now(),
      by: groupBy(request.by),
    };
    if (!request.swarm) return { json: JSON.stringify(usageJson(this.ledgerOrThrow().query(query(window)))) };
    const answers = await this.swarmAnswers(window);
    return { json: JSON.stringify(usageJson(swarmSummary(window, answers))) };
  }

  /** UsageRows: every row since `sinceMs`, oldest first, one usageRowJsonl line each, read a page at a time. */
  *rows(request: UsageRowsRequest): Generator<UsageRowMessage, void, undefined> {
    const ledger = this.ledgerOrThrow();
    for (const row of ledger.rows({ sinceMs: since(request.sinceMs), untilMs: this.now() })) {
      yield { jsonl: usageRowJsonl(row) };
    }
  }

  /** UsageSummary from a member: its window and grouping over this node's ledger. */
  answerPeer(
    request: UsageSummaryRequest,
    call: grpc.ServerUnaryCall<unknown, unknown>,
  ): UsageSummaryResponse {
    this.c.authorize(call, request.fromNodeId);
    const window: UsageWindow = { since: since(request.sinceMs), until: 0, by: groupBy(request.by) };
    if (
      typeof request.untilMs !== 'number' ||
      !Number.isFinite(request.untilMs) ||
      request.untilMs < window.since
    ) {
      throw new SwarmError(
        ErrorCodes.ARGS_INVALID,
        `until_ms: got ${String(request.untilMs)}; expected a ms epoch not before since_ms`,
      );
    }
    window.until = request.untilMs;
    return { json: JSON.stringify(usageJson(this.ledgerOrThrow().query(query(window)))) };
  }

  /** This node's answer, then each reachable member's (asked in parallel), then members not asked. */
  private async swarmAnswers(window: UsageWindow): Promise<NodeAnswer[]> {
    const reachable = this.c.membership.reachableMembers();
    const asked = new Set(reachable.map((record) => record.id));
    const unreachable = this.c.membership.knownMembers().filter((record) => !asked.has(record.id));
    const peers = await Promise.all(reachable.map((record) => this.askPeer(record, window)));
    const notAsked = unreachable.map(
      (record): NodeAnswer => ({
        nodeId: record.id,
        nodeName: nameOf(record),
        summary: null,
        error: `not asked: ${record.live.liveness}`,
      }),
    );
    const byName = (a: NodeAnswer, b: NodeAnswer) => a.nodeName.localeCompare(b.nodeName);
    return [this.selfAnswer(window), ...peers.sort(byName), ...notAsked.sort(byName)];
  }

  private selfAnswer(window: UsageWindow): NodeAnswer {
    const { id: nodeId, name: nodeName } = this.c.self;
    try {
      return { nodeId, nodeName, summary: this.ledgerOrThrow().query(query(window)), error: null };
    } catch (err) {
      return { nodeId, nodeName, summary: null, error: errorMessage(err) };
    }
  }

  private async askPeer(record: PeerRecord, window: UsageWindow): Promise<NodeAnswer> {
    const nodeId = record.id;
    const nodeName = nameOf(record);
    const request: UsageSummaryRequest = {
      sinceMs: window.since,
      untilMs: window.until,
      by: window.by ?? '',
      fromNodeId: this.c.self.id,
    };
    try {
      if (record.address === null) throw new Error('no known address');
      const reply = await this.c.pool.usageSummary(
        record.address,
        request,
        this.init.peerTimeoutMs ?? PEER_USAGE_TIMEOUT_MS,
        record.id,
      );
      const summary = parseUsageJson(reply.json);
      if (summary.since !== window.since || summary.until !== window.until) {
        return { nodeId, nodeName, summary: null, error: 'answered for another time window' };
      }
      return { nodeId, nodeName, summary, error: null };
    } catch (err) {
      const error = peerError(err);
      this.c.logger.debug({ peer: nodeId, err: error }, 'usage summary from a member left out');
      return { nodeId, nodeName, summary: null, error };
    }
  }

  private ledgerOrThrow(): UsageLedger {
    const ledger = this.c.ledger();
    if (ledger) return ledger;
    throw new SwarmError(
      ErrorCodes.USAGE_STORE,
      this.init.enabled
        ? 'the usage ledger is not open (swarmd is starting or stopping); try again in a moment'
        : 'this node records no usage (usage.enabled is false in its config)',
    );
  }
}

function query(window: UsageWindow) {
  return { sinceMs: window.since, untilMs: window.until, ...(window.by !== null && { by: window.by }) };
}

function since(value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new SwarmError(
      ErrorCodes.ARGS_INVALID,
      `since_ms: got ${String(value)}; expected a ms epoch (swarmctl usage --since)`,
    );
  }
  return value;
}

function groupBy(value: string): UsageGroupBy | null {
  return value === '' ? null : parseGroupBy(value, 'by');
}

function nameOf(record: PeerRecord): string {
  return record.info?.name || record.id;
}

/** Why a member's answer is left out, in a few words. */
function peerError(err: unknown): string {
  const details = (err as Partial<grpc.ServiceError>).details;
  if (typeof details === 'string' && details !== '') return details;
  if (err instanceof UsageJsonError) return `sent an invalid summary: ${err.message}`;
  return errorMessage(err);
}
