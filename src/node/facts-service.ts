// Keeps this box's facts (GPUs, RAM, CPU) fresh and tells listeners when peers should hear of it.
import { ConfigError, errorMessage } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { factsChanged } from './facts-change.js';
import { queryNvidiaGpus } from './nvidia-smi.js';
import { fallbackSystemFacts, readNonNvidiaGpus, readSystemFacts } from './system.js';
import type { GpuInfo, NodeFacts, SystemFacts } from './types.js';

/** Default limit on one nvidia-smi run; a busy 8-GPU box answers in 1–3 s. */
export const DEFAULT_GPU_QUERY_TIMEOUT_MS = 5000;
// start() waits for the first read this much longer than the query limit (the first CPU-load
// sample alone takes ~0.5 s), then goes on with what it has.
const START_GRACE_MS = 1000;
// stop() waits this long for a read in flight (the nvidia-smi run is aborted first).
const STOP_WAIT_MS = 2000;
const MIB = 1024 * 1024;

/** Dependencies of NodeFactsService. */
export interface NodeFactsComponents {
  logger: Logger;
}

/** Options of NodeFactsService. */
export interface NodeFactsInit {
  refreshIntervalMs: number;
  /** nvidia-smi executable, a path or a name looked up in PATH. */
  nvidiaSmi: string;
  queryTimeoutMs?: number;
}

type Listener = (facts: NodeFacts) => void;

/** Periodically reads GPU and host facts; errors are logged (once per message), never thrown. */
export class NodeFactsService {
  private readonly log: Logger;
  private readonly refreshIntervalMs: number;
  private readonly nvidiaSmi: string;
  private readonly queryTimeoutMs: number;
  private readonly listeners = new Set<Listener>();
  // Last message logged per source, so a failure repeating on every refresh is logged once.
  private readonly lastErrors = new Map<string, string>();
  private facts: NodeFacts;
  private running = false;
  // Bumped by start() and stop(): a read begun in an earlier run is dropped, not applied.
  private generation = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private abort: AbortController | null = null;

  constructor(components: NodeFactsComponents, init: NodeFactsInit) {
    if (!(init.refreshIntervalMs > 0)) {
      throw new ConfigError(`node facts refresh interval must be > 0 ms, got ${init.refreshIntervalMs}`);
    }
    this.log = components.logger.child({ component: 'node-facts' });
    this.refreshIntervalMs = init.refreshIntervalMs;
    this.nvidiaSmi = init.nvidiaSmi;
    this.queryTimeoutMs = init.queryTimeoutMs ?? DEFAULT_GPU_QUERY_TIMEOUT_MS;
    this.facts = freezeFacts({ gpus: [], system: fallbackSystemFacts() });
  }

  /** Read facts once (bounded wait), then keep refreshing in the background. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.generation++;
    this.abort = new AbortController();
    const boundMs = this.queryTimeoutMs + START_GRACE_MS;
    if (!(await settlesWithin(this.refreshNow(), boundMs))) {
      // A hung nvidia-smi (GPU fallen off the bus) must not keep the daemon from serving.
      this.log.warn({ boundMs }, 'first GPU/system read still running; starting with partial facts');
    }
  }

  /** Stop refreshing and abort a read in flight. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.running) {
      this.running = false;
      this.generation++;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.abort?.abort();
    }
    if (this.inFlight) await settlesWithin(this.inFlight, STOP_WAIT_MS);
  }

  /** The latest facts (frozen). Before the first read completes: host facts from node:os, no GPUs. */
  current(): NodeFacts {
    return this.facts;
  }

  /** Call listener when facts change in a way peers care about; returns the unsubscribe. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // Refreshes never overlap: the next one is scheduled only when this one has finished.
  private refreshNow(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const run = this.refresh(this.generation).finally(() => {
      this.inFlight = null;
      this.schedule();
    });
    this.inFlight = run;
    return run;
  }

  private schedule(): void {
    if (!this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refreshNow();
    }, this.refreshIntervalMs);
    this.timer.unref();
  }

  private async refresh(generation: number): Promise<void> {
    const signal = this.abort?.signal;
    const [nvidia, others, system] = await Promise.all([
      queryNvidiaGpus({ binary: this.nvidiaSmi, timeoutMs: this.queryTimeoutMs, signal }).catch(
        (err: unknown) => ({ gpus: [], error: errorMessage(err) }),
      ),
      settle(readNonNvidiaGpus()),
      settle(readSystemFacts()),
    ]);
    if (generation !== this.generation) return;
    this.noteError('nvidia-smi', nvidia.error);
    this.noteError('other GPUs', others.error);
    this.noteError('system', system.error);
    const systemFacts = system.value ?? this.facts.system;
    const gpus = [...fillUnifiedMemory(nvidia.gpus, systemFacts), ...(others.value ?? [])];
    const next = freezeFacts({ gpus, system: systemFacts });
    const changed = factsChanged(this.facts, next);
    this.facts = next;
    if (changed) this.emit(next);
  }

  private noteError(source: string, message: string | null): void {
    const last = this.lastErrors.get(source);
    if (message === null) {
      if (last !== undefined) this.log.info({ source }, 'GPU/system facts readable again');
      this.lastErrors.delete(source);
    } else if (message !== last) {
      this.lastErrors.set(source, message);
      this.log.warn({ source, err: message }, 'cannot read GPU/system facts; retrying every refresh');
    }
  }

  private emit(facts: NodeFacts): void {
    for (const listener of this.listeners) {
      try {
        listener(facts);
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'node facts listener threw');
      }
    }
  }
}

// nvidia-smi reports [N/A] memory on unified parts (GB10): their VRAM is the host's RAM.
function fillUnifiedMemory(gpus: GpuInfo[], system: SystemFacts): GpuInfo[] {
  return gpus.map((g) =>
    g.unifiedMemory && g.memoryTotalMiB === null
      ? { ...g, memoryTotalMiB: Math.floor(system.memTotalBytes / MIB) }
      : g,
  );
}

function freezeFacts(facts: NodeFacts): NodeFacts {
  for (const gpu of facts.gpus) Object.freeze(gpu);
  Object.freeze(facts.gpus);
  Object.freeze(facts.system);
  return Object.freeze(facts);
}

async function settle<T>(p: Promise<T>): Promise<{ value: T | null; error: string | null }> {
  try {
    return { value: await p, error: null };
  } catch (err) {
    return { value: null, error: errorMessage(err) };
  }
}

// True when p settled within ms; the timer is cleared either way so it never holds the process.
function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    p.then(done, done);
  });
}
