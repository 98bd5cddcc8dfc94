// This node's activity: active, paused (swarmctl pause, or gaming.autoPause), or draining
// (swarmctl drain, SIGTERM). A change is pushed to every peer at once by an extra heartbeat, so
// they stop routing here within one round trip. Work already running may finish within a grace
// period; what is left then is handed back (coordinators re-dispatch it elsewhere).
import type { WireActivity } from '../rpc/wire.js';
import { monotonicMs } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { decideActivity } from './decide.js';
import type { UnloadReport } from './unload.js';

/** Work running on this node's own backends, whoever asked for it. */
export interface NodeWork {
  /** Requests running on this node's backends now (peers' tasks and our own gateway's). */
  inflight(): number;
  /** Hand every running request back (it fails over elsewhere); returns how many. */
  handBack(): number;
  /** Requests this node's gateway waits on a peer for (only the shutdown waits for these). */
  coordinating(): number;
}

export interface ActivityComponents {
  logger: Logger;
  self: {
    setActivity(activity: WireActivity, reason?: string): void;
    activity: WireActivity;
    activityReason: string;
  };
  /** Heartbeat every peer now; never throws. */
  heartbeatNow: () => Promise<void>;
  work: NodeWork;
  /** Ask this node's backends to free their VRAM. */
  unload: () => Promise<UnloadReport[]>;
  /** Stop the daemon (its own stop path); called after `swarmctl drain` has drained. */
  exit: () => void;
}

export interface ActivityInit {
  /** Grace of a pause that names none (gaming pauses). */
  defaultGraceMs: number;
}

/** What a pause, resume or drain call reports. */
export interface ActivityReport {
  activity: WireActivity;
  reason: string;
  /** Requests still running on this node's backends when the call returned. */
  inflight: number;
  /** Nothing of ours runs any more (waited for, or was idle already). */
  drained: boolean;
  /** Requests handed back to their coordinators when the grace ran out. */
  handedBack: number;
  /** One entry per backend when unloading was asked for. */
  unload: UnloadReport[];
}

interface DrainOutcome {
  drained: boolean;
  handedBack: number;
  cancelled: boolean;
}

/** How long handed-back work may take to unwind (send its error back) before we go on. */
const SETTLE_MS = 2_000;
const POLL_MS = 50;

/** Owns this node's activity; see the file comment. */
export class ActivityController {
  private readonly c: ActivityComponents;
  private readonly init: ActivityInit;
  private manual: string | null = null;
  private gaming: string | null = null;
  private draining: string | null = null;
  /** Moves on every resume and stop: a drain of an older epoch must not hand anything back. */
  private epoch = 0;
  private drainRun: Promise<DrainOutcome> | null = null;
  private exiting = false;

  constructor(components: ActivityComponents, init: ActivityInit) {
    this.c = components;
    this.init = init;
  }

  /** Nothing runs until asked; here for the service contract. */
  start(): void {}

  /** Stop waiting for anything (a drain in progress hands nothing back). Safe to call twice. */
  stop(): void {
    this.epoch++;
  }

  /** Paused by swarmctl (a game does not count). */
  get manuallyPaused(): boolean {
    return this.manual !== null;
  }

  /**
   * Pause: no new work from now (peers are told at once), running work may finish within
   * graceMs, then what is left is handed back. `wait` (or `unload`) resolves after that; with
   * `unload` the backends are then asked to free their VRAM.
   */
  async pause(opts: {
    source: 'manual' | 'gaming';
    reason: string;
    graceMs?: number;
    wait?: boolean;
    unload?: boolean;
  }): Promise<ActivityReport> {
    const wasActive = this.c.self.activity === 'ACTIVITY_ACTIVE';
    if (opts.source === 'manual') this.manual = opts.reason;
    else this.gaming = opts.reason;
    await this.apply();
    // A manual pause always (re)starts the drain with its own grace; a game only when it took us out.
    if (opts.source === 'manual' || wasActive || this.drainRun === null) {
      this.startDrain(opts.graceMs ?? this.init.defaultGraceMs);
    }
    let outcome: DrainOutcome | null = null;
    if ((opts.wait || opts.unload) && this.drainRun) outcome = await this.drainRun;
    const unload = opts.unload && !outcome?.cancelled ? await this.c.unload() : [];
    return this.report(outcome, unload);
  }

  /** End a manual pause. A gaming pause lasts while the game runs (the report says so). */
  async resume(): Promise<ActivityReport> {
    this.manual = null;
    if (this.draining === null && this.gaming === null) this.cancelDrain();
    await this.apply();
    return this.report(null, []);
  }

  /** gaming.autoPause's view: the box is busy (reason) or free again (null). Never ends a manual pause. */
  async setGaming(reason: string | null): Promise<void> {
    if (reason === this.gaming) return;
    if (reason !== null) {
      await this.pause({ source: 'gaming', reason });
      return;
    }
    this.gaming = null;
    if (this.manual === null && this.draining === null) this.cancelDrain();
    await this.apply();
  }

  /** `swarmctl drain`: drain like a pause, then stop the daemon (it leaves the swarm cleanly). */
  async drain(graceMs: number): Promise<ActivityReport> {
    this.draining = 'draining';
    await this.apply();
    this.startDrain(graceMs);
    const outcome = await this.drainRun!;
    const report = this.report(outcome, []);
    if (!this.exiting) {
      this.exiting = true;
      // After the reply is on its way: the daemon's stop closes the control socket.
      setTimeout(() => this.c.exit(), 100).unref();
    }
    return report;
  }

  /**
   * The SIGTERM path (Daemon.stop): tell peers we are draining, let work finish within graceMs
   * (an idle node does not wait), hand back what is left. Our own gateway's requests running on
   * peers get the same grace.
   */
  async shutdownDrain(graceMs: number): Promise<ActivityReport> {
    this.draining = 'shutting down';
    await this.apply();
    const epoch = ++this.epoch;
    const idle = () => this.c.work.inflight() === 0 && this.c.work.coordinating() === 0;
    const quiet = await this.waitFor(idle, graceMs, epoch);
    let handedBack = 0;
    if (!quiet && this.c.work.inflight() > 0) {
      handedBack = this.c.work.handBack();
      this.c.logger.info({ handedBack }, 'drain grace over: handed the rest back');
      await this.waitFor(() => this.c.work.inflight() === 0, SETTLE_MS, epoch);
    }
    return this.report({ drained: this.c.work.inflight() === 0, handedBack, cancelled: false }, []);
  }

  private startDrain(graceMs: number): void {
    const epoch = ++this.epoch;
    const run = this.drainFor(graceMs, epoch);
    this.drainRun = run;
    run.catch(() => undefined);
  }

  private cancelDrain(): void {
    this.epoch++;
    this.drainRun = null;
  }

  private async drainFor(graceMs: number, epoch: number): Promise<DrainOutcome> {
    const idle = await this.waitFor(() => this.c.work.inflight() === 0, graceMs, epoch);
    if (epoch !== this.epoch) return { drained: false, handedBack: 0, cancelled: true };
    if (idle) return { drained: true, handedBack: 0, cancelled: false };
    const handedBack = this.c.work.handBack();
    this.c.logger.info({ handedBack, graceMs }, 'pause grace over: handed running work back');
    await this.waitFor(() => this.c.work.inflight() === 0, SETTLE_MS, epoch);
    return { drained: this.c.work.inflight() === 0, handedBack, cancelled: false };
  }

  /** Poll until check() holds (true), timeoutMs passes or the epoch moves on (false). */
  private async waitFor(check: () => boolean, timeoutMs: number, epoch: number): Promise<boolean> {
    const deadline = monotonicMs() + timeoutMs;
    for (;;) {
      if (check()) return true;
      if (epoch !== this.epoch || monotonicMs() >= deadline) return false;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(POLL_MS, Math.max(1, deadline - monotonicMs()))),
      );
    }
  }

  /** Make SelfNode say what the inputs decide, and tell peers at once when that changed. */
  private async apply(): Promise<void> {
    const next = decideActivity({ draining: this.draining, manual: this.manual, gaming: this.gaming });
    const self = this.c.self;
    if (next.activity === self.activity && next.reason === self.activityReason) return;
    self.setActivity(next.activity, next.reason);
    this.c.logger.info(
      { activity: next.activity.slice(9).toLowerCase(), reason: next.reason },
      'activity changed; telling peers',
    );
    await this.c.heartbeatNow();
  }

  private report(outcome: DrainOutcome | null, unload: UnloadReport[]): ActivityReport {
    const inflight = this.c.work.inflight();
    return {
      activity: this.c.self.activity,
      reason: this.c.self.activityReason,
      inflight,
      drained: outcome ? outcome.drained : inflight === 0,
      handedBack: outcome?.handedBack ?? 0,
      unload,
    };
  }
}
