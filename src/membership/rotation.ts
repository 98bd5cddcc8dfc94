// `swarmctl rotate` and `swarmctl remove <node>`: make new swarm credentials (a new CA at
// the next epoch), hand them to every reachable member over the current mTLS channel,
// then switch this node. Members that could not be reached are told to re-join.
import { ErrorCodes, errorMessage, SwarmError } from '../errors.js';
import type { PeerClientPool } from '../rpc/peer-client.js';
import type { RekeyReport, RekeyRequest, RekeyResponse } from '../rpc/wire.js';
import { assertPeerIs, type HasAuthContext } from '../security/grpc-credentials.js';
import { nextSecret } from '../security/rotate.js';
import { encodeToken } from '../security/token.js';
import type { SwarmTrust } from '../security/trust.js';
import type { Logger } from '../util/logger.js';
import type { Membership } from './membership.js';
import type { SelfNode } from './self-node.js';

const REKEY_TIMEOUT_MS = 5000;

/** Credential rotation, both as the initiator and as a member receiving new credentials. */
export class CredentialRotation {
  private readonly logger: Logger;
  private readonly trust: SwarmTrust;
  private readonly membership: Membership;
  private readonly pool: PeerClientPool;
  private readonly self: SelfNode;

  constructor(components: {
    logger: Logger;
    trust: SwarmTrust;
    membership: Membership;
    pool: PeerClientPool;
    self: SelfNode;
  }) {
    this.logger = components.logger;
    this.trust = components.trust;
    this.membership = components.membership;
    this.pool = components.pool;
    this.self = components.self;
  }

  /** Rotate the swarm's credentials, optionally taking one node out for good. */
  async rotate(removeTarget?: string): Promise<RekeyReport> {
    const creds = this.trust.current();
    if (!creds) {
      throw new SwarmError(
        ErrorCodes.SECURITY_UNPAIRED,
        'this node is not in a swarm: nothing to rotate (swarmctl init or join first)',
      );
    }
    const removed = removeTarget === undefined ? '' : this.resolve(removeTarget);
    const secret = await nextSecret(creds);
    const token = encodeToken(secret);
    const request: RekeyRequest = {
      token,
      epoch: secret.epoch,
      removed: removed ? [removed] : [],
      fromNodeId: this.self.id,
    };
    const members = this.membership.knownMembers().filter((record) => record.id !== removed);
    const reachable = new Set(this.membership.reachableMembers().map((record) => record.id));
    const outcomes = await Promise.all(
      members.map(async (record) => {
        if (!reachable.has(record.id) || !record.address)
          return { id: record.id, ok: false, why: 'not reachable' };
        try {
          const reply = await this.pool.rekey(record.address, request, REKEY_TIMEOUT_MS, record.id);
          return { id: record.id, ok: reply.accepted, why: reply.reason };
        } catch (err) {
          return { id: record.id, ok: false, why: errorMessage(err) };
        }
      }),
    );
    const fresh = await this.trust.replace(token);
    const delivered = outcomes.filter((outcome) => outcome.ok).map((outcome) => outcome.id);
    const missed = outcomes.filter((outcome) => !outcome.ok);
    for (const outcome of missed) {
      const note = `missed the credential rotation to epoch ${secret.epoch} (${outcome.why}): on it run \`swarmctl join <token>\` with the token from \`swarmctl token\``;
      this.membership.notePeer(outcome.id, note);
      this.logger.warn({ peer: outcome.id, epoch: secret.epoch }, note);
    }
    if (removed) this.membership.notePeer(removed, 'removed from the swarm');
    this.logger.info(
      {
        epoch: secret.epoch,
        delivered: delivered.length,
        missed: missed.length,
        removed: removed || undefined,
      },
      removed ? 'node removed; swarm credentials rotated' : 'swarm credentials rotated',
    );
    return {
      epoch: secret.epoch,
      fingerprint: fresh.fingerprint,
      delivered,
      missed: missed.map((m) => m.id),
      removed,
    };
  }

  /** A member hands us new credentials. Only from a current member, only a newer epoch of our swarm. */
  async receive(request: RekeyRequest, call: HasAuthContext): Promise<RekeyResponse> {
    const creds = this.trust.current();
    if (!creds) throw new SwarmError(ErrorCodes.SECURITY_UNPAIRED, 'this node is not in a swarm');
    assertPeerIs(call, request.fromNodeId, creds);
    if (request.removed.includes(this.self.id))
      return { accepted: false, reason: 'this node is the one being removed' };
    try {
      await this.trust.replace(request.token);
    } catch (err) {
      this.logger.warn(
        { from: request.fromNodeId, err: errorMessage(err) },
        'refused new swarm credentials from a member',
      );
      return { accepted: false, reason: errorMessage(err) };
    }
    for (const id of request.removed) this.membership.notePeer(id, 'removed from the swarm');
    this.logger.info(
      { from: request.fromNodeId, epoch: request.epoch },
      'took new swarm credentials from a member',
    );
    return { accepted: true, reason: '' };
  }

  /** A node id, or a unique node name, of a known peer. */
  private resolve(target: string): string {
    const views = this.membership.views().filter((view) => !view.self && view.node);
    if (target === this.self.id || target === this.self.name) {
      throw new SwarmError(
        ErrorCodes.ARGS_INVALID,
        'a node cannot remove itself: run `swarmctl remove` on another member',
      );
    }
    const byId = views.find((view) => view.node!.id === target);
    if (byId) return byId.node!.id;
    const byName = views.filter((view) => view.node!.name === target);
    if (byName.length === 1) return byName[0]!.node!.id;
    if (byName.length > 1) {
      throw new SwarmError(
        ErrorCodes.ARGS_INVALID,
        `${byName.length} nodes are named ${JSON.stringify(target)}: give the node id (swarmctl nodes)`,
      );
    }
    throw new SwarmError(
      ErrorCodes.NODE_NOT_FOUND,
      `no node ${JSON.stringify(target)} in this swarm: see \`swarmctl nodes\` for ids and names`,
    );
  }
}
