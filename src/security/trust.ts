// SwarmTrust: this node's swarm credentials while the daemon runs. Loads them, follows
// `swarmctl init/join` and rotations done by the CLI or a peer (file watcher), and hands
// the rest of the daemon what it needs: TLS credentials, advert proofs and identity checks.
import type * as grpc from '@grpc/grpc-js';
import {
  type Advert,
  type AdvertSummary,
  advertProofFields,
  advertSummaryProofFields,
  fitAdvert,
} from '../discovery/txt.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../util/logger.js';
import type { Credentials } from './credentials.js';
import { clientCredentials, peerChannelOptions } from './grpc-credentials.js';
import { type LiveServerCredentials, liveServerCredentials } from './grpc-live-credentials.js';
import {
  ADVERT_PROOF_CHARS,
  signAdvert,
  signAdvertSummary,
  verifyAdvert,
  verifyAdvertSummary,
} from './proof.js';
import { loadCredentials, replaceCredentials, watchCredentials } from './store.js';

/** What an mDNS advert says about its sender relative to our swarm. */
export type AdvertVerdict =
  | { kind: 'member' }
  | { kind: 'newer-epoch'; epoch: number }
  | { kind: 'stranger' };

/** The daemon's live view of its swarm credentials. */
export class SwarmTrust {
  private creds: Credentials | null = null;
  private readonly live: LiveServerCredentials = liveServerCredentials(null);
  private readonly listeners = new Set<(creds: Credentials | null) => void>();
  private unwatch: (() => void) | undefined;
  private readonly logger: Logger;
  private readonly dataDir: string;
  private readonly nodeId: string;
  private reloading: Promise<void> = Promise.resolve();

  constructor(components: { logger: Logger }, init: { dataDir: string; nodeId: string }) {
    this.logger = components.logger;
    this.dataDir = init.dataDir;
    this.nodeId = init.nodeId;
  }

  /** Load the credentials (if any) and start following changes to them. */
  async start(): Promise<void> {
    await this.reload();
    this.unwatch = watchCredentials(this.dataDir, () => void this.reload(), {
      onError: (err) => this.logger.error({ err }, 'credential watcher failed'),
    });
    if (!this.creds) {
      this.logger.warn(
        'this node is not in a swarm yet: it serves no peer. Start one with `swarmctl init`, or join with `swarmctl join <token>` (get the token on a member with `swarmctl token`)',
      );
    }
  }

  /** Stop following changes. Safe to call twice. */
  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** The current credentials, or null while unpaired. */
  current(): Credentials | null {
    return this.creds;
  }

  /** Server credentials for the peer port; they follow every credential change. */
  serverCredentials(): grpc.ServerCredentials {
    return this.live.credentials;
  }

  /** Client credentials to dial a peer (its id when known), or null while unpaired. */
  channel(
    expectedNodeId?: string,
  ): { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions } | null {
    if (!this.creds) return null;
    return {
      credentials: clientCredentials(this.creds, expectedNodeId),
      options: peerChannelOptions(expectedNodeId),
    };
  }

  /** Listen for credential changes (join, rotate, remove). */
  onChange(listener: (creds: Credentials | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Our advert, cut to fit the TXT record, with the swarm id, epoch and both proofs filled in:
   * `pf` over the core fields (what the previous release verifies) and `sp` over the whole record.
   * Unpaired, it carries no swarm fields and no proofs.
   */
  signAdvert(advert: Advert): Advert {
    const creds = this.creds;
    if (!creds) {
      return fitAdvert({ ...advert, proof: null, swarm: null, epoch: null, summaryProof: null });
    }
    // Fit with placeholders as long as the real proofs, so adding them changes nothing.
    const placeholder = 'A'.repeat(ADVERT_PROOF_CHARS);
    const fitted = fitAdvert({
      ...advert,
      proof: placeholder,
      swarm: creds.swarmId,
      epoch: creds.epoch,
      summaryProof: advert.summary ? placeholder : null,
    });
    const proof = signAdvert(creds.advertKey, advertProofFields(fitted));
    const summary = fitted.summary;
    if (!summary) return { ...fitted, proof };
    const summaryProof = signAdvertSummary(creds.advertKey, advertSummaryProofFields({ ...fitted, summary }));
    return { ...fitted, proof, summaryProof };
  }

  /** The advert's summary when its `sp` proof shows a member of our swarm wrote it, else null. */
  verifiedSummary(advert: Advert): AdvertSummary | null {
    const creds = this.creds;
    const summary = advert.summary;
    if (!creds || !summary || !advert.summaryProof) return null;
    const fields = advertSummaryProofFields({ ...advert, summary });
    return verifyAdvertSummary(creds.advertKey, fields, advert.summaryProof) ? summary : null;
  }

  /** Decide whether an advert comes from a member of our swarm, without dialling it. */
  judgeAdvert(advert: Advert): AdvertVerdict {
    const creds = this.creds;
    if (!creds || !advert.proof) return { kind: 'stranger' };
    if (advert.swarm === creds.swarmId && advert.epoch && advert.epoch > creds.epoch) {
      return { kind: 'newer-epoch', epoch: advert.epoch };
    }
    return verifyAdvert(creds.advertKey, advertProofFields(advert), advert.proof)
      ? { kind: 'member' }
      : { kind: 'stranger' };
  }

  /** Take new credentials handed over by a member (rotate/remove); only a newer epoch of our swarm. */
  async replace(token: string): Promise<Credentials> {
    const creds = await replaceCredentials(this.dataDir, this.nodeId, token);
    await this.reload();
    return creds;
  }

  /** Re-read the credentials file; notify listeners when something changed. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(async () => {
      let next: Credentials | null;
      try {
        next = await loadCredentials(this.dataDir, this.nodeId);
      } catch (err) {
        this.logger.error(
          { err: errorMessage(err) },
          'cannot read swarm credentials; keeping the ones in use',
        );
        return;
      }
      const before = this.creds;
      if (before?.fingerprint === next?.fingerprint && before?.nodeCertPem === next?.nodeCertPem) return;
      this.creds = next;
      this.live.update(next);
      if (next) {
        this.logger.info(
          { swarm: next.swarmId, epoch: next.epoch, fingerprint: next.fingerprint },
          before ? 'swarm credentials changed' : 'joined swarm',
        );
      } else if (before) {
        this.logger.warn('swarm credentials removed: this node now serves no peer');
      }
      for (const listener of this.listeners) listener(next);
    });
    return this.reloading;
  }
}
