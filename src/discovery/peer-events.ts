// Turns what the mDNS browser reports into peer up/down events. Pure state, no sockets:
// decides what is ours, what is garbage (reported once per instance name) and what is news.
import { errorMessage } from '../errors.js';
import { type Advert, decodeTxt } from './txt.js';

/** A peer seen (`up`: it appeared or its advert changed, summary included) or withdrawn (`down`, a goodbye) in mDNS. */
export interface PeerEvent {
  type: 'up' | 'down';
  advert: Advert;
  /** Addresses from the mDNS A/AAAA records, for diagnostics; dial `advert.endpoints`. */
  addresses: string[];
}

/** The part of a bonjour-service `Service` the tracker reads. */
export interface BrowsedService {
  name?: string;
  /** Raw TXT strings as received; preferred, since bonjour's own decoding is lossy. */
  rawTxt?: unknown;
  txt?: unknown;
  addresses?: string[];
}

// A flood of strangers with fresh names must not grow memory without bound: past this
// many names the "already warned" set starts over (a name may then be reported again).
const MAX_WARNED_NAMES = 1024;

/** Tracks the adverts of browsed instances and reports peer events. */
export class AdvertTracker {
  private readonly current = new Map<string, PeerEvent>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly init: {
      ownId: string;
      /** Called once per instance name whose TXT record cannot be used. */
      onInvalid: (instance: string, reason: string) => void;
    },
  ) {}

  /** A service appeared or changed; returns the event to report, or null when there is none. */
  seen(service: BrowsedService): PeerEvent | null {
    const instance = (service.name ?? '').toLowerCase();
    if (instance === this.init.ownId) return null;
    const txt = service.rawTxt ?? service.txt;
    // A response may carry the SRV record before the TXT record: nothing to judge yet.
    if (txt === undefined) return null;
    let advert: Advert;
    try {
      advert = decodeTxt(txt);
      if (advert.id !== instance) {
        throw new Error(`id ${JSON.stringify(advert.id)} does not match the instance name`);
      }
    } catch (err) {
      this.warnOnce(instance, errorMessage(err));
      return this.gone(service);
    }
    const addresses = [...(service.addresses ?? [])];
    const previous = this.current.get(instance);
    if (previous && sameAdvert(previous.advert, advert)) {
      previous.addresses = addresses;
      return null;
    }
    const event: PeerEvent = { type: 'up', advert, addresses };
    this.current.set(instance, event);
    return event;
  }

  /** A service said goodbye; returns a `down` event when we had reported it `up`. */
  gone(service: BrowsedService): PeerEvent | null {
    const instance = (service.name ?? '').toLowerCase();
    const previous = this.current.get(instance);
    if (!previous) return null;
    this.current.delete(instance);
    return { type: 'down', advert: previous.advert, addresses: previous.addresses };
  }

  private warnOnce(instance: string, reason: string): void {
    if (this.warned.has(instance)) return;
    if (this.warned.size >= MAX_WARNED_NAMES) this.warned.clear();
    this.warned.add(instance);
    this.init.onInvalid(instance, reason);
  }
}

function sameAdvert(a: Advert, b: Advert): boolean {
  return (
    a.id === b.id &&
    a.proof === b.proof &&
    (a.swarm ?? null) === (b.swarm ?? null) &&
    (a.epoch ?? null) === (b.epoch ?? null) &&
    a.protocol.major === b.protocol.major &&
    a.protocol.minor === b.protocol.minor &&
    sameList(a.endpoints, b.endpoints) &&
    (a.summaryProof ?? null) === (b.summaryProof ?? null) &&
    // Decoded summaries are built field by field in one order, so their JSON compares them.
    JSON.stringify(a.summary ?? null) === JSON.stringify(b.summary ?? null)
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
