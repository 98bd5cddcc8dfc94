// Keeps an up-to-date picture of every model server on this box: the configured ones and, with
// autoDetect, whatever answers on the default local ports. Probes all of them in parallel every
// probeInterval; listeners hear only about changes that matter for routing (health, models,
// loaded flags, context lengths, concurrency), and the log hears only about up/down transitions.
import type { BackendServerConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { type ModelOverrides, type ProbeResult, unhealthy } from './adapter.js';
import { ADAPTERS } from './adapters.js';
import { detectBackend } from './detect.js';
import type { BackendKind, BackendStatus, LocalBackend } from './types.js';
import { backendId, normalizeBaseUrl, sameEndpoint } from './url.js';

/** Where servers listen by default: Ollama, llama-swap/llama-server, vLLM, LM Studio. */
export const DEFAULT_AUTODETECT_URLS: readonly string[] = [
  'http://127.0.0.1:11434',
  'http://127.0.0.1:8080',
  'http://127.0.0.1:8000',
  'http://127.0.0.1:1234',
];

// Listed for a configured `kind: auto` server nobody could identify: the one kind that assumes nothing.
const UNKNOWN_KIND: BackendKind = 'openai';

/** What the monitor depends on. */
export interface BackendMonitorComponents {
  logger: Logger;
}

/** The monitor's options (the `backends` config section, durations in ms). */
export interface BackendMonitorInit {
  autoDetect: boolean;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  defaultMaxConcurrency: number;
  servers: BackendServerConfig[];
  /** Base URLs auto-detection tries; DEFAULT_AUTODETECT_URLS unless given (tests point it at fakes). */
  autoDetectUrls?: string[];
  /** Where apiKeyEnv names are looked up; process.env unless given. */
  env?: NodeJS.ProcessEnv;
}

interface Target {
  url: string;
  declared: BackendKind | 'auto';
  configured: boolean;
  apiKey: string | undefined;
  maxConcurrency: number | undefined;
  modelOverrides: ModelOverrides;
  /** Last kind the server was identified as; null while never identified. */
  kind: BackendKind | null;
  status: BackendStatus | null;
  /** What list() hands out for `status`: a deep-frozen copy made once per probe, not per call. */
  shared: BackendStatus | null;
  /** What local() hands out: `shared` with the API key. */
  local: LocalBackend | null;
  signature: string | null;
}

/** Probes the model servers of this box and reports what they offer. */
export class BackendMonitor {
  private readonly log: Logger;
  private readonly init: BackendMonitorInit;
  private readonly targets: Target[];
  private readonly listeners = new Set<() => void>();
  private running = false;
  private controller: AbortController | null = null;
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;

  constructor(components: BackendMonitorComponents, init: BackendMonitorInit) {
    this.log = components.logger.child({ component: 'backends' });
    this.init = init;
    this.targets = this.buildTargets(init.env ?? process.env);
  }

  /** Probe everything once (bounded by the probe timeout), then keep probing every interval. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.controller = new AbortController();
    await this.runRound();
    this.scheduleNext();
  }

  /** Stop probing and wait for an in-flight round to wind down. Safe to call twice. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.controller?.abort(new Error('backend monitor stopped'));
    await this.round;
  }

  /**
   * The last probe of every backend: configured ones always, auto-detected ones once found. The
   * statuses are deep-frozen and shared by every caller (the planner reads them per request).
   */
  list(): BackendStatus[] {
    return this.targets.flatMap((t) => (t.shared ? [t.shared] : []));
  }

  /**
   * The same backends as list(), each with the API key its config names (resolved once, at
   * construction): what inference and unloading call a server with. Match by `status.id`, never
   * by URL: the monitor normalises URLs (`/v1`, trailing slashes) and ids are made from that.
   */
  local(): LocalBackend[] {
    return this.targets.flatMap((t) => (t.local ? [t.local] : []));
  }

  /** Call listener whenever what the backends offer changes; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private buildTargets(env: NodeJS.ProcessEnv): Target[] {
    const targets: Target[] = this.init.servers.map((s) => {
      const apiKey = s.apiKeyEnv ? env[s.apiKeyEnv] : undefined;
      if (s.apiKeyEnv && !apiKey) {
        this.log.warn(
          { url: s.url, apiKeyEnv: s.apiKeyEnv },
          'API key variable is not set; probing without a key',
        );
      }
      return this.target(s.url, s.kind, true, apiKey, s.maxConcurrency, s.models);
    });
    if (this.init.autoDetect) {
      for (const url of this.init.autoDetectUrls ?? DEFAULT_AUTODETECT_URLS) {
        // A configured server on a default port is already probed, with its own settings.
        if (targets.some((t) => sameEndpoint(t.url, normalizeBaseUrl(url)))) continue;
        targets.push(this.target(url, 'auto', false, undefined, undefined, {}));
      }
    }
    return targets;
  }

  private target(
    url: string,
    declared: BackendKind | 'auto',
    configured: boolean,
    apiKey: string | undefined,
    maxConcurrency: number | undefined,
    modelOverrides: ModelOverrides,
  ): Target {
    const kind = declared === 'auto' ? null : declared;
    const base = normalizeBaseUrl(url);
    return {
      url: base,
      declared,
      configured,
      apiKey,
      maxConcurrency,
      modelOverrides,
      kind,
      status: null,
      shared: null,
      local: null,
      signature: null,
    };
  }

  private scheduleNext(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runRound().then(() => this.scheduleNext());
    }, this.init.probeIntervalMs);
    // Probing alone must never keep the process alive.
    this.timer.unref();
  }

  // Rounds never overlap: the next one is scheduled only after this one settles.
  private runRound(): Promise<void> {
    const round = this.probeAll().finally(() => {
      this.round = null;
    });
    this.round = round;
    return round;
  }

  private async probeAll(): Promise<void> {
    const signal = this.controller!.signal;
    const outcomes = await Promise.allSettled(this.targets.map((t) => this.probeTarget(t, signal)));
    if (signal.aborted) return;
    let changed = false;
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') changed ||= outcome.value;
      else
        this.log.error(
          { url: this.targets[i]!.url, err: errorMessage(outcome.reason) },
          'backend probe crashed',
        );
    }
    if (changed) this.emitChange();
  }

  // Returns whether this target's routing-relevant state changed.
  private async probeTarget(t: Target, signal: AbortSignal): Promise<boolean> {
    const timeoutMs = this.init.probeTimeoutMs;
    // An auto target is re-identified whenever it is not healthy: a different server may have
    // taken the port (llama-swap replaced by a bare llama-server on :8080).
    let kind = t.declared !== 'auto' ? t.declared : t.status?.healthy ? t.kind : null;
    if (kind === null) {
      const found = await detectBackend(t.url, { timeoutMs, signal, apiKey: t.apiKey });
      if (found.kind !== null) kind = found.kind;
      else if (t.kind !== null) return this.record(t, t.kind, unhealthy(found.error ?? 'unreachable'));
      else if (t.configured) return this.record(t, UNKNOWN_KIND, unhealthy(found.error ?? 'unknown'), false);
      // A default port where no model server ever answered: nothing to list.
      else return false;
    }
    const result = await ADAPTERS[kind].probe(t.url, {
      timeoutMs,
      signal,
      apiKey: t.apiKey,
      defaultMaxConcurrency: this.init.defaultMaxConcurrency,
      maxConcurrency: t.maxConcurrency,
      modelOverrides: t.modelOverrides,
    });
    return this.record(t, kind, result);
  }

  private record(t: Target, kind: BackendKind, result: ProbeResult, identified = true): boolean {
    const previous = t.status;
    const status: BackendStatus = {
      id: backendId(kind, t.url),
      kind,
      url: t.url,
      healthy: result.healthy,
      version: result.version,
      error: result.healthy ? null : result.error,
      // Sorted so a server listing the same models in another order is not a change.
      models: [...result.models].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      probedAt: Date.now(),
    };
    const signature = JSON.stringify([
      status.id,
      status.healthy,
      status.models.map((m) => [m.id, m.loaded, m.contextLength, m.maxConcurrency]),
    ]);
    const changed = signature !== t.signature;
    t.status = status;
    t.shared = deepFreeze(structuredClone(status));
    t.local = localBackend(t.shared, t.apiKey);
    t.signature = signature;
    if (identified) t.kind = kind;
    this.logTransition(previous, status);
    return changed;
  }

  private logTransition(previous: BackendStatus | null, now: BackendStatus): void {
    const fresh = previous === null || previous.id !== now.id;
    if (!fresh && previous.healthy === now.healthy) return;
    if (now.healthy) {
      this.log.info(
        { backend: now.id, url: now.url, version: now.version, models: now.models.length },
        'backend up',
      );
    } else {
      this.log.warn({ backend: now.id, url: now.url, error: now.error }, 'backend down');
    }
  }

  private emitChange(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'backend change listener threw');
      }
    }
  }
}

/** A LocalBackend whose key is not enumerable: logs, JSON and spreads of it never carry the key. */
function localBackend(status: BackendStatus, apiKey: string | undefined): LocalBackend {
  const backend = { status } as LocalBackend;
  Object.defineProperty(backend, 'apiKey', { value: apiKey, enumerable: false });
  return Object.freeze(backend);
}

/** Freeze a plain value and everything in it, so one copy can be shared by every reader. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
