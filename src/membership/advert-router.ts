// Sorts mDNS adverts: members of our swarm (valid proof) go to membership to be dialled;
// everything else is only listed (other swarms, unpaired nodes) and never dialled. All
// adverts are kept so they can be judged again when our credentials change (a join).
import type { PeerEvent } from '../discovery/peer-events.js';
import type { Advert } from '../discovery/txt.js';
import type { WireVisibleNode } from '../rpc/wire.js';
import type { SwarmTrust } from '../security/trust.js';
import type { Logger } from '../util/logger.js';
import type { Membership } from './membership.js';

const MAX_ADVERTS = 1024;

/** Routes mDNS peer events by swarm membership. */
export class AdvertRouter {
  private readonly adverts = new Map<string, { advert: Advert; seenWall: number }>();
  private readonly logger: Logger;
  private readonly trust: SwarmTrust;
  private readonly membership: Membership;
  private loggedEpoch = 0;

  constructor(components: { logger: Logger; trust: SwarmTrust; membership: Membership }) {
    this.logger = components.logger;
    this.trust = components.trust;
    this.membership = components.membership;
  }

  /** An mDNS up/down event. */
  handle(event: PeerEvent): void {
    if (event.type === 'down') {
      this.adverts.delete(event.advert.id);
      return;
    }
    if (!this.adverts.has(event.advert.id) && this.adverts.size >= MAX_ADVERTS) return;
    this.adverts.set(event.advert.id, { advert: event.advert, seenWall: Date.now() });
    this.judge(event.advert);
  }

  /** Judge every advert again (after our credentials changed). */
  rejudge(): void {
    this.loggedEpoch = 0;
    for (const { advert } of this.adverts.values()) this.judge(advert);
  }

  /** Nodes on the LAN that are not members of our swarm. */
  visible(): WireVisibleNode[] {
    const out: WireVisibleNode[] = [];
    for (const { advert, seenWall } of this.adverts.values()) {
      if (this.trust.judgeAdvert(advert).kind === 'member') continue;
      out.push({
        id: advert.id,
        endpoints: advert.endpoints,
        swarm: advert.swarm ?? '',
        epoch: advert.epoch ?? 0,
        lastSeenMs: seenWall,
      });
    }
    return out.sort((a, b) => a.swarm.localeCompare(b.swarm) || a.id.localeCompare(b.id));
  }

  private judge(advert: Advert): void {
    const verdict = this.trust.judgeAdvert(advert);
    if (verdict.kind === 'member') {
      this.membership.discovered(advert, 'mdns');
      return;
    }
    // Anyone can write a newer epoch and a random proof into an advert, and this node cannot
    // check a proof of an epoch it does not hold: so an advert never tells the user they missed
    // a rotation (the member that rotated reports who missed it). Noted once per epoch, quietly.
    if (verdict.kind === 'newer-epoch' && verdict.epoch > this.loggedEpoch) {
      this.loggedEpoch = verdict.epoch;
      this.logger.debug(
        { epoch: verdict.epoch, node: advert.id },
        'an advert claims a newer credential epoch of this swarm (unverifiable, ignored)',
      );
    }
  }
}
