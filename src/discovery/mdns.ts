// Advertise this node and browse for peers with mDNS (service type _llmswarm._tcp).
// mDNS only introduces peers: liveness comes from heartbeats (a crash sends no goodbye
// and browsers keep the record for hours), so `down` here means "said goodbye", nothing more.
// A changed advert is announced in place (mdns-update.ts), paced so a busy box does not chatter.
import { Bonjour, type Browser, type Service } from 'bonjour-service';
import { ConfigError, ErrorCodes, errorMessage, PeerError, SwarmError } from '../errors.js';
import { monotonicMs, wallMs } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { type CheckResult, checkMdnsPort, checkMulticastRoute, MDNS_GROUP } from './diagnostics.js';
import { type MdnsSocket, mdnsSocketOf, waitForBind, watchSendErrors } from './mdns-socket.js';
import { replaceTxt, type ServiceRecord } from './mdns-update.js';
import { AdvertTracker, type PeerEvent } from './peer-events.js';
import { nameInUse } from './probe.js';
import { type Advert, encodeTxt } from './txt.js';

/** Options of MdnsDiscovery. */
export interface MdnsInit {
  /** Our node id: the mDNS instance name, and `<id>.local` as the host name. */
  nodeId: string;
  /** Peer gRPC port, put in the SRV record (peers dial `advert.endpoints`). */
  port: number;
  /**
   * The advert to publish now; read at start and at each update. `previous` is the advert
   * published last (null at start), for summaries that keep a value while it moves little.
   */
  advert: (previous: Advert | null) => Advert;
  /** Address of the interface multicast leaves by (127.0.0.1 keeps it on this box). */
  interface?: string;
  /** Address the mDNS socket binds (e.g. 0.0.0.0 together with `interface`). */
  bind?: string;
  /** Service name without underscores; 'llmswarm' means _llmswarm._tcp. */
  serviceType?: string;
  /** Least time between two announcements of a changed advert by update() (default 10 s). */
  minUpdateIntervalMs?: number;
}

/** Called for each peer event; must not throw (a throw is logged and ignored). */
export type PeerListener = (event: PeerEvent) => void;

/** A failure mDNS reported but did not act on (a send error, a failed group join). */
export interface MdnsProblem {
  message: string;
  /** errno code such as ENETUNREACH, when the system gave one. */
  code: string | null;
  /** Wall-clock time it happened, for display. */
  atMs: number;
}

// The running bonjour stack; one per start().
interface Session {
  bonjour: Bonjour;
  mdns: MdnsSocket;
  browser: Browser | null;
  service: Service | null;
  tracker: AdvertTracker;
  /** The advert published now, and when it was last updated in place (monotonic ms; null: never). */
  advert: Advert | null;
  updatedMono: number | null;
  /** The second send of the last in-place update, about a second after the first. */
  repeat: NodeJS.Timeout | null;
}

const DEFAULT_SERVICE_TYPE = 'llmswarm';
// Bound on waits for the first announcement and the goodbye to be sent.
const SEND_TIMEOUT_MS = 2000;
// DESIGN §5: changed adverts at most this often by default.
const DEFAULT_MIN_UPDATE_INTERVAL_MS = 10_000;
// RFC 6762 §8.4: an update is announced twice, about a second apart.
const UPDATE_REPEAT_MS = 1000;
// Send errors that mean packets cannot leave (no route, or a firewall rejecting them).
const UNREACHABLE_CODES = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'EPERM']);

/** mDNS advertising and browsing for one node. */
export class MdnsDiscovery {
  /** Doctor check: can multicast to 224.0.0.251 leave this box? */
  static checkMulticastRoute(opts?: { interface?: string }): Promise<CheckResult> {
    return checkMulticastRoute(opts);
  }

  /** Doctor check: can UDP 5353 be bound in reuse mode, and who else holds it? */
  static checkMdnsPort(opts?: { bind?: string }): Promise<CheckResult> {
    return checkMdnsPort(opts);
  }

  private readonly logger: Logger;
  private readonly init: MdnsInit;
  private readonly serviceType: string;
  private readonly listeners = new Set<PeerListener>();
  private readonly reportedProblems = new Set<string>();
  private session: Session | null = null;
  private starting: AbortController | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private epoch = 0;
  private problem: MdnsProblem | null = null;
  private readonly minUpdateIntervalMs: number;
  private paced: NodeJS.Timeout | null = null;
  // An update waits in the queue: it reads the advert when it runs, so another adds nothing.
  private queued = false;

  constructor(components: { logger: Logger }, init: MdnsInit) {
    if (!Number.isInteger(init.port) || init.port < 1 || init.port > 65_535) {
      throw new ConfigError(`mDNS needs the peer port (1-65535) to advertise; got ${init.port}`);
    }
    this.logger = components.logger.child({ component: 'mdns' });
    this.init = init;
    this.serviceType = init.serviceType ?? DEFAULT_SERVICE_TYPE;
    this.minUpdateIntervalMs = init.minUpdateIntervalMs ?? DEFAULT_MIN_UPDATE_INTERVAL_MS;
  }

  /** The last problem mDNS reported while running (bonjour-service itself ignores them). */
  get lastError(): MdnsProblem | null {
    return this.problem;
  }

  /** True while our advert is published. */
  get published(): boolean {
    return this.session?.service != null;
  }

  /**
   * Bind the mDNS socket, browse, probe that our instance name is free, then publish.
   * Resolves once the first announcement is sent. Rejects with PEER_ID_CONFLICT when
   * another responder holds our node id, PORT_IN_USE when UDP 5353 cannot be bound.
   * Each step has its own bound (bind 5 s, probe about 1 s, first announcement 2 s).
   */
  start(opts: { signal?: AbortSignal } = {}): Promise<void> {
    const epoch = this.epoch;
    return this.serialise(() => this.doStart(epoch, opts.signal));
  }

  /** Send the goodbye, stop browsing and close the socket. Safe to call twice. */
  stop(): Promise<void> {
    // Cancels a start() still queued (epoch) or under way (abort), so stop is never slow.
    this.epoch += 1;
    this.cancelPaced();
    this.starting?.abort(stoppedWhileStarting());
    return this.serialise(async () => {
      const session = this.session;
      this.session = null;
      if (session) await this.teardown(session);
    });
  }

  /**
   * The advert may have changed (facts, backends, activity): announce it in place if it did, at
   * once when the last update is at least `minUpdateIntervalMs` old, else when it is (the changes
   * meanwhile go out as one). The first update after start is not held back: facts and backends
   * fill in while the node starts. Never throws; a failure is logged.
   */
  update(): void {
    if (this.paced || this.queued) return;
    const session = this.session;
    if (!session) return;
    const last = session.updatedMono;
    const wait = last === null ? 0 : last + this.minUpdateIntervalMs - monotonicMs();
    if (wait <= 0) {
      this.announceLogged();
      return;
    }
    this.paced = setTimeout(() => {
      this.paced = null;
      this.announceLogged();
    }, wait);
    this.paced.unref();
  }

  /**
   * Announce the current advert now, whatever the pacing (our credentials changed: new proof).
   * In place, without a goodbye; a no-op when the TXT did not change or discovery is not running.
   */
  republish(): Promise<void> {
    this.cancelPaced();
    return this.serialise(() => this.announce());
  }

  /** Listen for peer events; returns the function that removes the listener. */
  onPeer(listener: PeerListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private announceLogged(): void {
    this.queued = true;
    this.serialise(() => {
      this.queued = false;
      return this.announce();
    }).catch((err: unknown) => this.logger.warn({ err: errorMessage(err) }, 'mDNS advert update failed'));
  }

  // Runs serialised with start and stop, so it never follows the goodbye.
  private async announce(): Promise<void> {
    const session = this.session;
    const service = session?.service;
    if (!session || !service) return;
    const { advert, txt } = this.current(session.advert);
    if (sameTxt(service.txt, txt)) return;
    const records = replaceTxt(session.bonjour, service, txt);
    session.advert = advert;
    session.updatedMono = monotonicMs();
    if (session.repeat) clearTimeout(session.repeat);
    session.repeat = setTimeout(() => {
      session.repeat = null;
      if (this.session === session && session.service === service) this.send(session, records);
    }, UPDATE_REPEAT_MS);
    session.repeat.unref();
    await this.send(session, records);
    this.logger.debug({ fqdn: this.fqdn, txt }, 'mDNS advert updated in place');
  }

  // Send records unsolicited; resolves once they left the socket (errors reach noteProblem).
  private send(session: Session, records: ServiceRecord[]): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, SEND_TIMEOUT_MS);
      session.mdns.respond({ answers: records }, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private cancelPaced(): void {
    if (this.paced) clearTimeout(this.paced);
    this.paced = null;
  }

  private get fqdn(): string {
    return `${this.init.nodeId}._${this.serviceType}._tcp.local`;
  }

  private async doStart(epoch: number, signal: AbortSignal | undefined): Promise<void> {
    if (epoch !== this.epoch) throw stoppedWhileStarting();
    signal?.throwIfAborted();
    if (this.session) return;
    const abort = new AbortController();
    const onCallerAbort = (): void => abort.abort(signal?.reason);
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    this.starting = abort;
    let session: Session | null = null;
    try {
      const { advert, txt } = this.current(null);
      const socketOptions: Record<string, string> = {};
      if (this.init.interface) socketOptions['interface'] = this.init.interface;
      if (this.init.bind) socketOptions['bind'] = this.init.bind;
      // The callback receives the send errors of bonjour's query responder.
      const bonjour = new Bonjour(socketOptions as ConstructorParameters<typeof Bonjour>[0], (err: unknown) =>
        this.noteProblem(err),
      );
      const mdns = mdnsSocketOf(bonjour);
      session = {
        bonjour,
        mdns,
        browser: null,
        service: null,
        tracker: this.newTracker(),
        advert,
        updatedMono: null,
        repeat: null,
      };
      // multicast-dns emits 'error' for bind failures; unheard, that would crash the process.
      mdns.on('error', (err: Error) => this.noteProblem(err));
      mdns.on('warning', (err: Error) => this.onWarning(err));
      watchSendErrors(mdns, (err) => this.noteProblem(err));
      await waitForBind(mdns, this.init.bind ?? this.init.interface, abort.signal);
      session.browser = this.browse(session);
      if (await nameInUse(mdns, this.fqdn, { signal: abort.signal })) {
        throw new PeerError(
          ErrorCodes.PEER_ID_CONFLICT,
          `another mDNS responder on the LAN already advertises node id ${this.init.nodeId}: ` +
            'two boxes share one node id (a copied data dir?); give one of them a new node id',
        );
      }
      abort.signal.throwIfAborted();
      session.service = await this.publish(session, txt);
      abort.signal.throwIfAborted();
      this.session = session;
    } catch (err) {
      if (session) await this.teardown(session);
      throw err;
    } finally {
      this.starting = null;
      signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  private current(previous: Advert | null): { advert: Advert; txt: Record<string, string> } {
    const advert = this.init.advert(previous);
    if (advert.id !== this.init.nodeId) {
      throw new SwarmError(
        ErrorCodes.TXT_INVALID,
        `our advert carries id ${advert.id} but the node id is ${this.init.nodeId}`,
      );
    }
    return { advert, txt: encodeTxt(advert) };
  }

  // Publish with bonjour's probe off: doStart has probed already, and bonjour's own probe
  // would send a goodbye for the name on conflict (see probe.ts).
  private async publish(session: Session, txt: Record<string, string>): Promise<Service> {
    const service = session.bonjour.publish({
      name: this.init.nodeId,
      type: this.serviceType,
      port: this.init.port,
      // Our own host name: namespaces (and cloned VMs) may share one OS hostname.
      host: `${this.init.nodeId}.local`,
      txt,
      probe: false,
    });
    // 'up' follows the first announcement send (even a failed one: see lastError).
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, SEND_TIMEOUT_MS);
      service.once('up', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.logger.debug({ fqdn: this.fqdn, txt }, 'mDNS advert published');
    return service;
  }

  private browse(session: Session): Browser {
    const browser = session.bonjour.find({ type: this.serviceType });
    const seen = (service: Service): void => this.guard(() => this.report(session.tracker.seen(service)));
    browser.on('up', seen);
    browser.on('txt-update', seen);
    browser.on('srv-update', seen);
    browser.on('down', (service) => this.guard(() => this.report(session.tracker.gone(service))));
    return browser;
  }

  private newTracker(): AdvertTracker {
    return new AdvertTracker({
      ownId: this.init.nodeId,
      onInvalid: (instance, reason) =>
        this.logger.warn(
          { instance: instance.slice(0, 64), reason },
          'ignoring mDNS advert with invalid TXT',
        ),
    });
  }

  private async teardown(session: Session): Promise<void> {
    if (session.repeat) clearTimeout(session.repeat);
    session.repeat = null;
    session.browser?.stop();
    if (session.service) await unpublish(session.service);
    session.service = null;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, SEND_TIMEOUT_MS);
      try {
        session.bonjour.destroy(() => {
          clearTimeout(timer);
          resolve();
        });
      } catch (err) {
        // A socket whose bind failed cannot be closed again; there is nothing left to free.
        this.logger.debug({ err: errorMessage(err) }, 'mDNS socket close failed');
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private report(event: PeerEvent | null): void {
    if (!event) return;
    this.logger.debug({ peer: event.advert.id, type: event.type }, 'mDNS peer event');
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err: errorMessage(err) }, 'mDNS peer listener threw');
      }
    }
  }

  // Browser events arrive from the socket's 'message' handler: a throw there would crash.
  private guard(action: () => void): void {
    try {
      action();
    } catch (err) {
      this.logger.error({ err: errorMessage(err) }, 'mDNS event handling failed');
    }
  }

  // multicast-dns warns about undecodable packets (anyone may send those: not our problem)
  // and about system errors such as a failed group join (ours: record them).
  private onWarning(err: Error): void {
    if (typeof (err as NodeJS.ErrnoException).code === 'string') this.noteProblem(err);
    else this.logger.debug({ err: errorMessage(err) }, 'ignored an undecodable mDNS packet');
  }

  private noteProblem(err: unknown): void {
    // A failed bind is start()'s rejection, with advice of its own.
    if ((err as NodeJS.ErrnoException | null)?.syscall === 'bind') return;
    const code = (err as NodeJS.ErrnoException | null)?.code ?? null;
    const message = errorMessage(err);
    this.problem = { message, code, atMs: wallMs() };
    const key = code ?? message;
    if (this.reportedProblems.has(key)) return;
    this.reportedProblems.add(key);
    const hint =
      code && UNREACHABLE_CODES.has(code)
        ? `mDNS packets cannot leave this box (no route to ${MDNS_GROUP}?): peers will not see it; ` +
          'add a multicast route or set discovery.mdns.interface (swarmctl doctor checks this)'
        : 'mDNS reported a problem';
    this.logger.warn({ err: message, code }, hint);
  }

  private serialise<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function stoppedWhileStarting(): Error {
  const err = new Error('mDNS discovery was stopped while starting');
  err.name = 'AbortError';
  return err;
}

// Send the goodbye (our records with TTL 0) and wait until it has left the socket.
function unpublish(service: Service): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, SEND_TIMEOUT_MS);
    service.stop(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function sameTxt(published: unknown, next: Record<string, string>): boolean {
  if (typeof published !== 'object' || published === null) return false;
  const entries = Object.entries(published as Record<string, unknown>);
  return entries.length === Object.keys(next).length && entries.every(([k, v]) => next[k] === v);
}
