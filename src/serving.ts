// Part of the composition root (with daemon.ts): builds what serves inference on this node —
// the task worker peers call, the remote-task client, the dispatcher with its scheduler,
// cooldowns, quality gate, usage ledger and budget, and the OpenAI-compatible gateway.
import { invokeBackend } from './backends/invoke.js';
import { BackendInvokeError } from './backends/invoke-errors.js';
import { closeInvokeAgents } from './backends/invoke-http.js';
import type { BackendMonitor } from './backends/monitor.js';
import type { SwarmConfig } from './config/load.js';
import { buildCatalogue } from './control/catalogue.js';
import { ErrorCodes, errorMessage } from './errors.js';
import { toHttpError } from './gateway/error-map.js';
import { GatewayServer } from './gateway/server.js';
import type { ModelListEntry } from './gateway/types.js';
import type { Dispatcher, InferenceRequest, JsonObject, Privacy, Target } from './inference/types.js';
import type { Membership } from './membership/membership.js';
import type { SelfNode } from './membership/self-node.js';
import type { PeerClientPool } from './rpc/peer-client.js';
import { CooldownTracker, cooldownKeys } from './scheduling/cooldown.js';
import { withOwnLoad } from './scheduling/own-load.js';
import { decideRequestPrivacy, listableViews, planRequest, planTargets } from './scheduling/plan.js';
import { checkReply } from './scheduling/quality.js';
import { modelCatalogue, servableNames, swarmChoosesModel } from './scheduling/resolve.js';
import { AsyncTasks } from './tasks/async-tasks.js';
import { type RequestRecord, SwarmDispatcher } from './tasks/dispatcher.js';
import { journalPath, TaskJournal } from './tasks/journal.js';
import { journaledDispatcher } from './tasks/journaled-dispatcher.js';
import { RemoteTasks } from './tasks/remote.js';
import type { Slots } from './tasks/slots.js';
import { TargetStatsTracker } from './tasks/target-stats.js';
import { TaskError } from './tasks/task-error.js';
import { type RunOnBackend, TaskWorker } from './tasks/worker.js';
import { BudgetGuard } from './usage/budget.js';
import { ledgerPath, UsageLedger } from './usage/ledger.js';
import { rowFromFailure, rowFromOutcome } from './usage/row.js';
import type { Logger } from './util/logger.js';

const TASK_LEASE_MS = 10_000;

export interface ServingComponents {
  logger: Logger;
  config: SwarmConfig;
  self: SelfNode;
  membership: Membership;
  pool: PeerClientPool;
  slots: Slots;
  backends: BackendMonitor;
}

/** Inference on this node: worker for peers, dispatcher and gateway for clients. */
export class Serving {
  readonly worker: TaskWorker;
  readonly remote: RemoteTasks;
  private gateway: GatewayServer | undefined;
  private ledger: UsageLedger | null = null;
  private budget: BudgetGuard | null = null;
  private journal: TaskJournal | null = null;
  private asyncTasks: AsyncTasks | null = null;
  private readonly c: ServingComponents;
  private readonly cooldown: CooldownTracker;
  private dispatcher: SwarmDispatcher | undefined;
  private readonly stats = new TargetStatsTracker();
  /** This node's gateway requests running on its own backends, each with its hand-back switch. */
  private readonly localRuns = new Set<AbortController>();

  constructor(components: ServingComponents) {
    this.c = components;
    const { logger, self, membership, pool, slots, backends, config } = components;
    this.worker = new TaskWorker({
      logger: logger.child({ component: 'worker' }),
      self,
      membership,
      pool,
      slots,
      backends: () => backends.local(),
      run: this.runOnBackend,
    });
    this.remote = new RemoteTasks(
      { logger: logger.child({ component: 'tasks' }), pool, membership, self },
      { leaseMs: TASK_LEASE_MS, requestTimeoutMs: config.membership.rpcTimeout * 2 },
    );
    this.cooldown = new CooldownTracker({
      after: config.routing.cooldownAfter,
      baseMs: config.routing.cooldown,
      maxMs: config.routing.cooldownMax,
    });
    slots.onRelease(() => this.dispatcher?.wake());
    this.remote.onSlotFreed(() => this.dispatcher?.wake());
    // Failures of a node's previous life say nothing about the process that replaced it.
    membership.onChange((event) => {
      if (event.restarted || (event.to === 'alive' && (event.from === 'dead' || event.from === 'left')))
        this.cooldown.forgetNode(event.id);
      this.dispatcher?.wake();
    });
    // A request waiting for a node coming back goes as soon as it can take work.
    membership.onUpdate(() => this.dispatcher?.wake());
  }

  /** The bound gateway port (0 before start). */
  get gatewayPort(): number {
    return this.gateway?.port ?? 0;
  }

  /** The open usage ledger (for the usage RPCs); null before start, after stop, or with usage off. */
  ledgerHandle(): UsageLedger | null {
    return this.ledger;
  }

  /** The dispatcher the gateway uses, for in-process requests (coding jobs); null before start. */
  dispatcherHandle(): Dispatcher | null {
    return this.dispatcher ?? null;
  }

  /** Privacy of an in-process request asked for with `requested` (null: routing.defaultPrivacy), secrets scanned. */
  decidePrivacy(body: JsonObject, requested: Privacy | null): Privacy {
    return decideRequestPrivacy({ body, header: requested, apiKeyPrivacy: null }, this.c.config.routing)
      .privacy;
  }

  /** Open the ledger and start the gateway. */
  async start(): Promise<void> {
    const { config, logger } = this.c;
    if (config.usage.enabled) {
      this.ledger = UsageLedger.open(ledgerPath(config.usage, config.node.dataDir), {
        onError: (err) => logger.error({ err }, 'usage ledger write failed'),
      });
      this.budget = new BudgetGuard(
        { ledger: this.ledger },
        {
          budgets: config.usage.budgets,
          onChange: (state) =>
            logger.warn({ level: state.level }, state.reason ?? 'cloud budget back to normal'),
        },
      );
    }
    this.dispatcher = new SwarmDispatcher(
      {
        logger: logger.child({ component: 'dispatch' }),
        plan: (request) => this.plan(request),
        run: (target, request, attempt, hooks) => this.runAttempt(target, request, attempt, hooks),
        // The gate judges only replies of a model swarmd chose; a named model's reply is passed through.
        quality: (request, result) =>
          result.body && swarmChoosesModel(request.body['model'], config.routing)
            ? checkReply(request.body, result.body, result.finishReason, config.routing.qualityGate)
            : { ok: true },
        cooldown: {
          failure: (target) => {
            const now = Date.now();
            this.cooldown.recordFailure(cooldownKeys.backend(target), now);
            this.cooldown.recordFailure(cooldownKeys.node(target), now);
          },
          success: (target) => {
            this.cooldown.recordSuccess(cooldownKeys.backend(target));
            this.cooldown.recordSuccess(cooldownKeys.node(target));
          },
        },
        record: (entry) => this.record(entry),
        notices: (): Record<string, string> => {
          const state = this.budget?.state();
          return state && state.level !== 'ok'
            ? { 'x-swarm-budget': `${state.level}; ${state.reason ?? ''}` }
            : {};
        },
      },
      {
        maxAttempts: config.routing.maxAttempts,
        queueSize: config.routing.queueSize,
        queueTimeoutMs: config.routing.queueTimeout,
      },
    );
    const journal = TaskJournal.open(journalPath(config.tasks, config.node.dataDir), {
      retentionMs: config.tasks.retention,
      onError: (err) => logger.error({ err }, 'task journal write failed'),
    });
    journal.startPruning();
    this.journal = journal;
    this.asyncTasks = new AsyncTasks(
      {
        logger: logger.child({ component: 'tasks' }),
        journal,
        dispatcher: this.dispatcher,
        describeError: (err, model) => {
          const http = toHttpError(err, { model });
          return {
            status: http.status,
            message: http.error.message,
            type: http.error.type,
            code: http.error.code,
            swarmCode: http.swarmCode,
          };
        },
        recordEnd: (request, end) =>
          this.record({
            request,
            outcome: end.cancelled ? 'cancelled' : 'error',
            target: null,
            attempts: end.attempts,
            served: null,
            error: end.error,
            latencyMs: end.latencyMs,
            firstTokenMs: null,
            attempt: null,
          }),
      },
      {
        concurrency: config.tasks.concurrency,
        maxPending: config.tasks.maxPending,
        deadlineMs: config.tasks.deadline,
      },
    );
    this.gateway = new GatewayServer(
      {
        logger: logger.child({ component: 'gateway' }),
        dispatcher: journaledDispatcher(this.dispatcher, journal, logger.child({ component: 'tasks' })),
        tasks: this.asyncTasks,
        catalogue: () => this.catalogue(),
        decidePrivacy: (input) =>
          decideRequestPrivacy(
            { body: input.body, header: input.header, apiKeyPrivacy: this.keyPrivacy(input.client) },
            config.routing,
          ),
      },
      {
        host: config.gateway.host,
        port: config.gateway.port,
        apiKeys: config.gateway.apiKeys.map((entry) => entry.key),
        nodeName: this.c.self.name,
        nodeId: this.c.self.id,
      },
    );
    await this.gateway.start();
  }

  /** Resume the async tasks a previous process accepted (call once backends are known). */
  resumeTasks(): void {
    this.asyncTasks?.start();
  }

  /** Stop the gateway, abort work run for peers, close the ledger. Safe to call twice. */
  async stop(): Promise<void> {
    this.asyncTasks?.stop();
    await this.gateway?.stop();
    this.gateway = undefined;
    this.remote.close();
    this.worker.abortAll();
    this.budget?.stop();
    this.ledger?.close();
    this.ledger = null;
    this.journal?.close();
    this.journal = null;
    closeInvokeAgents();
  }

  /** Attempts this node's gateway is waiting on a peer for now. */
  get remoteInflight(): number {
    return this.remote.inflight;
  }

  /**
   * Hand back all work running on this node's backends: peers' tasks go back to their
   * coordinators, this gateway's own local runs fail over to the next target. Returns the count.
   */
  handBack(): number {
    const local = this.localRuns.size;
    for (const run of this.localRuns) run.abort();
    return this.worker.handBack() + local;
  }

  /** The privacy configured for the API key a request came with (gateway labels keys `key-<index>`). */
  private keyPrivacy(client: string): Privacy | null {
    const match = /^key-(\d+)$/.exec(client);
    return match ? (this.c.config.gateway.apiKeys[Number(match[1])]?.privacy ?? null) : null;
  }

  private plan(request: InferenceRequest): Target[] {
    const { config, membership } = this.c;
    const plan = planRequest({
      request,
      // The remote attempts this node has running count on their peers at once (own-load.ts).
      views: this.remote.anyOutstanding
        ? withOwnLoad(membership.views(), (...place) => this.remote.outstandingOn(...place))
        : membership.views(),
      routing: config.routing,
      cloud: config.cloud.providers,
      budgetAllowsCloud: (this.budget?.state().level ?? 'ok') !== 'stop',
      cooldown: this.cooldown,
      nowMs: Date.now(),
      stats: this.stats.view(),
    });
    return planTargets(plan, request.privacy);
  }

  private runAttempt(
    target: Target,
    request: InferenceRequest,
    attempt: number,
    hooks: { signal: AbortSignal; onChunk?: (chunk: JsonObject) => void },
  ) {
    const task = { kind: request.kind, body: request.body, stream: request.stream };
    if (target.cloud) {
      const provider = this.c.config.cloud.providers.find((p) => `cloud:${p.name}` === target.backendId);
      const apiKey = provider?.apiKeyEnv ? process.env[provider.apiKeyEnv] : undefined;
      return invokeBackend(
        { kind: 'cloud', baseUrl: target.backendUrl, model: target.model, ...(apiKey && { apiKey }) },
        task,
        { ...hooks, requestId: request.id },
      ).catch((err: unknown) => {
        throw isBusyAnswer(err) ? capacityRefusal(err) : err;
      });
    }
    if (target.local) {
      const local = this.c.backends.local().find((candidate) => candidate.status.id === target.backendId);
      if (!local)
        return Promise.reject(
          new TaskError(ErrorCodes.TASK_REFUSED, `backend ${target.backendId} is gone`, { retryable: true }),
        );
      const cap = local.status.models.find((model) => model.id === target.model)?.maxConcurrency ?? 1;
      const slot = this.c.slots.tryAcquire(local.status.id, target.model, cap);
      if (!slot)
        return Promise.reject(
          new TaskError(ErrorCodes.TASK_REFUSED, 'every local slot of that model is in use', {
            retryable: true,
          }),
        );
      // Pausing this node aborts the run through handBack; the dispatcher then tries the next
      // target. The caller's abort is forwarded by hand (AbortSignal.any costs ~30 µs a request).
      const run = new AbortController();
      const forward = () => run.abort(hooks.signal.reason);
      if (hooks.signal.aborted) forward();
      else hooks.signal.addEventListener('abort', forward, { once: true });
      this.localRuns.add(run);
      return this.runOnBackend(local, target.model, task, {
        ...hooks,
        signal: run.signal,
        requestId: request.id,
      })
        .catch((err: unknown) => {
          if (!run.signal.aborted || hooks.signal.aborted) throw err;
          throw new TaskError(
            ErrorCodes.TASK_HANDED_BACK,
            `node ${this.c.self.name} was paused and handed the request back before it finished`,
            { retryable: true, cause: err, targetAtFault: false },
          );
        })
        .finally(() => {
          hooks.signal.removeEventListener('abort', forward);
          this.localRuns.delete(run);
          slot.release();
        });
    }
    return this.remote.run(
      { nodeId: target.nodeId, backendId: target.backendId, model: target.model },
      { id: request.id, attempt, ...task },
      hooks,
    );
  }

  // A model server's failure is logged here with its address and the request id: what reaches
  // clients never names it.
  private readonly runOnBackend: RunOnBackend = ({ status, apiKey }, model, request, hooks) =>
    invokeBackend(
      { kind: status.kind, baseUrl: status.url, model, ...(apiKey && { apiKey }) },
      request,
      hooks,
    ).catch((err: unknown) => {
      if (isBusyAnswer(err)) throw capacityRefusal(err);
      if (!hooks.signal.aborted) {
        this.c.logger.warn(
          { reqId: hooks.requestId, backend: status.url, model, error: errorMessage(err) },
          'model server failed',
        );
      }
      throw err;
    });

  // A request's end (once per request, from the dispatcher): its ledger row, and the serving
  // attempt's own timings for the per-target stats.
  private record(entry: RequestRecord): void {
    const { served, attempt } = entry;
    if (served && attempt) {
      this.stats.observe(served.servedBy.target, {
        firstTokenMs: attempt.firstTokenMs,
        latencyMs: attempt.latencyMs,
        completionTokens: served.usage?.completionTokens ?? null,
      });
    }
    if (!this.ledger) return;
    const { config } = this.c;
    const now = Date.now();
    if (served) {
      const target = served.servedBy.target;
      const provider = config.cloud.providers.find((p) => `cloud:${p.name}` === target.backendId);
      this.ledger.record(
        rowFromOutcome(
          entry.request,
          served,
          { price: provider?.prices[target.model] ?? null, reference: config.cloud.reference },
          now,
        ),
      );
    } else {
      this.ledger.record(
        rowFromFailure(
          entry.request,
          {
            target: entry.target,
            attempts: entry.attempts,
            latencyMs: entry.latencyMs,
            firstTokenMs: entry.firstTokenMs,
            error: entry.error,
            cancelled: entry.outcome === 'cancelled',
          },
          { nodeId: this.c.self.id, nodeName: this.c.self.name },
          now,
        ),
      );
    }
  }

  /**
   * What `GET /v1/models` lists: every model a request would be routed to now (or wait a moment
   * for while its node finishes joining), cloud models, and the aliases, tiers and auto they can
   * serve.
   */
  private catalogue(): ModelListEntry[] {
    const { config, membership } = this.c;
    // Only what a request would be routed to now, or wait a moment for (planner's own rules).
    const entries: ModelListEntry[] = buildCatalogue(listableViews(membership.views())).map((entry) => ({
      id: entry.model,
      kind: 'model',
      nodes: entry.holders.map((holder) => holder.nodeName),
      loaded: entry.holders.some((holder) => holder.loaded),
      contextLength: Math.max(0, ...entry.holders.map((holder) => holder.contextLength)) || undefined,
    }));
    const listed = new Set(entries.map((entry) => entry.id));
    for (const provider of config.cloud.providers) {
      for (const model of provider.models) {
        if (!listed.has(model)) entries.push({ id: model, kind: 'model', nodes: [`cloud:${provider.name}`] });
        listed.add(model);
      }
    }
    // Only names something can serve now: no `cloud` without a provider, no alias of absent models.
    const servable = servableNames(
      modelCatalogue(membership.views(), config.cloud.providers),
      config.routing,
    );
    for (const alias of servable.aliases) entries.push({ id: alias, kind: 'alias' });
    for (const tier of servable.tiers) entries.push({ id: tier, kind: 'tier' });
    if (servable.tiers.length > 0) entries.push({ id: 'auto', kind: 'auto' });
    return entries;
  }
}

// A model server's plain 429 (not a spent quota) says it is full right now: the dispatcher waits
// and queues for it like any busy slot, and the client gets 429 only if nothing frees in time.
function isBusyAnswer(err: unknown): err is BackendInvokeError {
  return (
    err instanceof BackendInvokeError && err.status === 429 && err.code === ErrorCodes.BACKEND_OVERLOADED
  );
}

function capacityRefusal(err: BackendInvokeError): TaskError {
  return new TaskError(ErrorCodes.TASK_REFUSED, 'the model server is at capacity (HTTP 429)', {
    retryable: true,
    cause: err,
    ...(err.retryAfterMs !== null && { retryAfterMs: err.retryAfterMs }),
  });
}
