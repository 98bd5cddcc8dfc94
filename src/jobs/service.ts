// JobService: coding jobs on this node. Submit (only ever from the local control socket), watch
// progress, list, report, cancel, and apply a passing job's change to the working tree. Model
// calls go through the same dispatcher as the gateway's requests (usage ledger client
// `job:<id>`, privacy with secret scanning, fallback and tiers all apply).
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ErrorCodes, SwarmError } from '../errors.js';
import type { Dispatcher, JsonObject, Privacy, Tier } from '../inference/types.js';
import type { Logger } from '../util/logger.js';
import { git } from './io/git.js';
import { fileHashInside, filesInside } from './io/inside.js';
import { readRepoConfig } from './io/repo-config-file.js';
import { chooseSandbox, type SandboxHost } from './io/sandbox.js';
import { JobStore } from './io/store.js';
import { dropLeftovers } from './io/workspace.js';
import { detectSteps, stepsFromCommands } from './rules/detect.js';
import { ladderFor } from './rules/loop.js';
import type { ChatMessage } from './rules/prompt.js';
import { REPO_CONFIG_FILE, settingsWithRepo } from './rules/repo-config.js';
import type { JobSettings } from './rules/settings.js';
import { FileLocks } from './run/locks.js';
import type { Completion, Placement } from './run/run-context.js';
import { runJob, stoppingReason } from './run/runner.js';
import {
  FINAL_STATES,
  type JobEvent,
  type JobReport,
  type JobSpec,
  type JobSummary,
  summarize,
} from './types.js';

export interface JobServiceComponents {
  logger: Logger;
  /** The node's dispatcher (null before serving starts). */
  dispatcher: () => Dispatcher | null;
  /** The privacy of a request body asked for with `requested` (null: the default), secrets scanned. */
  decidePrivacy: (body: JsonObject, requested: Privacy | null) => Privacy;
  /** The first configured model of a tier, or null. */
  tierModel: (tier: Tier) => string | null;
  /** Cloud cost in USD the usage ledger recorded for a client since a time. */
  costOf?: (client: string, sinceMs: number) => number;
}

export interface JobServiceInit {
  settings: JobSettings;
  dataDir: string;
  /** The daemon's home, and what verification must never see (data dir, control socket, config file). */
  sandboxHost: SandboxHost;
}

interface Live {
  events: JobEvent[];
  listeners: Set<() => void>;
  abort: AbortController;
  done: Promise<void>;
}

/** How many finished jobs keep their event history in memory for late watchers. */
const KEEP_EVENTS_OF = 50;

/** Coding jobs on this node. */
export class JobService {
  private readonly c: JobServiceComponents;
  private readonly init: JobServiceInit;
  private store: JobStore | null = null;
  private readonly live = new Map<string, Live>();
  private readonly locks = new FileLocks();
  private stopped = false;
  /** Removing what interrupted jobs left behind. */
  private cleanup: Promise<void> = Promise.resolve();

  constructor(components: JobServiceComponents, init: JobServiceInit) {
    this.c = components;
    this.init = init;
  }

  /** Open the job store; clean up after jobs a previous daemon left running (in the background). */
  start(): void {
    if (this.store) return;
    this.store = JobStore.open(join(this.init.dataDir, 'jobs.sqlite'));
    const left = this.store.interrupted;
    if (left.length > 0) {
      this.c.logger.warn({ jobs: left.map((job) => job.id) }, 'jobs interrupted by the last stop');
      this.cleanup = Promise.all(left.map((job) => dropLeftovers(job.id, job.repo))).then(() => undefined);
    }
  }

  /** Stop running jobs (they end interrupted), wait for them (bounded), close the store. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    const running = [...this.live.values()].filter((live) => !live.abort.signal.aborted);
    for (const live of running) live.abort.abort(stoppingReason());
    await Promise.race([
      Promise.all([this.cleanup, ...running.map((live) => live.done)]),
      new Promise((resolve) => setTimeout(resolve, 10_000).unref()),
    ]);
    this.store?.close();
    this.store = null;
  }

  /** The sandbox jobs verify in now (as submit would choose it), for doctor. */
  async sandbox(): Promise<{ kind: 'bubblewrap' | 'none' } | { kind: null; reason: string }> {
    const choice = await chooseSandbox(this.init.settings.sandbox, this.init.sandboxHost);
    return choice.ok ? { kind: choice.sandbox.kind } : { kind: null, reason: choice.reason };
  }

  /** Check and start a job; resolves with its first report (state running). */
  async submit(input: JobSpec): Promise<JobReport> {
    const store = this.storeOrThrow();
    if (this.stopped)
      throw new SwarmError(ErrorCodes.JOB_STATE, 'swarmd is stopping; submit the job again once it runs');
    const checked = checkSpec(input);
    // Precedence of the steps: --verify, then the repository's .swarmd.yaml, then detection.
    const repoConfig = readRepoConfig(checked.repo);
    const spec: JobSpec = {
      ...checked,
      files: [...new Set([...checked.files, ...(repoConfig?.files ?? [])])],
    };
    const steps =
      spec.verify.length > 0
        ? stepsFromCommands(spec.verify)
        : (repoConfig?.steps ?? detectSteps(filesInside(spec.repo)));
    if (steps.length === 0) {
      throw new SwarmError(
        ErrorCodes.JOB_INVALID,
        `found no way to verify ${spec.repo} (no ${REPO_CONFIG_FILE} jobs.verify, package.json scripts lint/typecheck/build/test, Cargo.toml, go.mod, pytest config or Makefile test target): give one with --verify "npm test"`,
      );
    }
    const settings = settingsWithRepo(this.init.settings, repoConfig);
    const id = randomBytes(4).toString('hex');
    const privacy = this.c.decidePrivacy(
      { model: 'fast', messages: [{ role: 'user', content: spec.task }] },
      spec.privacy,
    );
    const choice = await chooseSandbox(this.init.settings.sandbox, this.init.sandboxHost);
    if (!choice.ok) {
      throw new SwarmError(
        ErrorCodes.JOB_SANDBOX,
        `no sandbox for verification on this node: ${choice.reason}. Verification runs code a model wrote, so it runs only in bubblewrap: install it (sudo apt install bubblewrap, or your system's package; ./install.sh offers it), or set jobs.sandbox: off to run it unsandboxed as your user`,
      );
    }
    const { sandbox } = choice;
    const report: JobReport = {
      id,
      state: 'running',
      task: spec.task,
      repo: spec.repo,
      tier: spec.tier,
      bestOf: spec.bestOf,
      privacy,
      createdAt: Date.now(),
      endedAt: null,
      sandbox: sandbox.kind,
      steps,
      attempts: [],
      solveAttempts: 0,
      editFailures: 0,
      // The runner reads the ladder from here, then records the tiers it really used.
      tiersUsed: ladderFor(spec.tier, settings.escalation, privacy === 'cloud'),
      message: 'started',
      lastFailure: null,
      result: null,
      bestCandidateDiff: '',
      tokens: { prompt: 0, completion: 0 },
      costUsd: 0,
      subtasks: [],
    };
    store.save({ ...report, tiersUsed: [] });
    const abort = new AbortController();
    const live: Live = { events: [], listeners: new Set(), abort, done: Promise.resolve() };
    this.live.set(id, live);
    const started = report.createdAt;
    const emit = (event: Partial<JobEvent> & Pick<JobEvent, 'kind' | 'message'>) => {
      const now = Date.now();
      live.events.push({
        jobId: id,
        at: now,
        elapsedMs: now - started,
        subtask: null,
        attempt: null,
        tier: null,
        model: null,
        node: null,
        step: null,
        ok: null,
        state: null,
        ...event,
      });
      for (const listener of live.listeners) listener();
    };
    const save = () => {
      report.costUsd = this.c.costOf?.(`job:${id}`, started) ?? 0;
      this.store?.save(report);
    };
    const from = spec.verify.length > 0 ? '--verify' : repoConfig?.steps ? REPO_CONFIG_FILE : 'detected';
    emit({
      kind: 'started',
      message: `job ${id} started on ${spec.repo} (sandbox: ${sandbox.kind}; steps from ${from}: ${steps.map((s) => s.name).join(', ')})`,
    });
    this.c.logger.info({ job: id, repo: spec.repo, privacy, sandbox: sandbox.kind }, 'job started');
    live.done = runJob(
      spec,
      report,
      {
        logger: this.c.logger,
        complete: (messages, tier, signal, placement) =>
          this.complete(id, privacy, messages, tier, signal, placement),
        locks: this.locks,
        sandbox,
        settings,
        tierModel: this.c.tierModel,
        patchDir: join(this.init.dataDir, 'jobs'),
        emit,
        save,
      },
      abort.signal,
    ).finally(() => {
      save();
      this.c.logger.info({ job: id, state: report.state }, 'job ended');
      this.forgetOldEvents();
    });
    return structuredClone(report);
  }

  /** The job's events from its start, then live ones until it ends. */
  async *watch(id: string, signal?: AbortSignal): AsyncGenerator<JobEvent> {
    const live = this.live.get(id);
    if (!live) {
      const report = this.get(id);
      yield finalEvent(report);
      return;
    }
    let next = 0;
    for (;;) {
      while (next < live.events.length) {
        const event = live.events[next++]!;
        yield event;
        if (event.kind === 'done') return;
      }
      if (signal?.aborted) return;
      await new Promise<void>((resolve) => {
        const wake = () => {
          live.listeners.delete(wake);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        live.listeners.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /** Recent jobs, newest first. */
  list(): JobSummary[] {
    return this.storeOrThrow().list().map(summarize);
  }

  /** A job's full report. */
  get(id: string): JobReport {
    const report = this.storeOrThrow().get(id);
    if (!report) {
      throw new SwarmError(
        ErrorCodes.JOB_NOT_FOUND,
        `no job ${JSON.stringify(id)} on this node; swarmctl jobs lists them`,
      );
    }
    return report;
  }

  /** Cancel a running job; resolves with its report once it has stopped. */
  async cancel(id: string): Promise<JobReport> {
    const report = this.get(id);
    const live = this.live.get(id);
    if (report.state !== 'running' || !live) {
      throw new SwarmError(
        ErrorCodes.JOB_STATE,
        `job ${id} is not running (it is ${report.state}); nothing to cancel`,
      );
    }
    live.abort.abort(new Error('cancelled by the user'));
    await live.done;
    return this.get(id);
  }

  /** Write a passing job's change into the user's working tree, only where that overwrites nothing. */
  async apply(id: string): Promise<JobReport> {
    const report = this.get(id);
    const result = report.result;
    if (report.state !== 'passed' || !result) {
      throw new SwarmError(
        ErrorCodes.JOB_STATE,
        `job ${id} ${report.state === 'running' ? 'is still running' : `ended ${report.state}`}: it has no change to apply`,
      );
    }
    if (result.applied)
      throw new SwarmError(ErrorCodes.JOB_STATE, `job ${id} was already applied to ${report.repo}`);
    const changedSince = result.files.filter(
      (file) => fileHashInside(report.repo, file) !== result.baseHashes[file],
    );
    if (changedSince.length > 0) {
      throw new SwarmError(
        ErrorCodes.JOB_APPLY_CONFLICT,
        `not applied: ${changedSince.join(', ')} changed in ${report.repo} since job ${id} started, and applying would overwrite that work; commit or stash it and merge ${result.branch ?? result.patchPath} yourself`,
      );
    }
    const check = await git(report.repo, ['apply', '--check', result.patchPath], { allow: [1, 128] });
    if (check.exitCode !== 0) {
      throw new SwarmError(
        ErrorCodes.JOB_APPLY_CONFLICT,
        `not applied: the patch ${result.patchPath} does not apply cleanly to ${report.repo}; nothing was written${result.branch ? `; merge branch ${result.branch} instead` : ''}`,
      );
    }
    await git(report.repo, ['apply', result.patchPath]);
    result.applied = true;
    this.storeOrThrow().save(report);
    return report;
  }

  /** One model call for a job: an ordinary routed chat request. */
  private async complete(
    jobId: string,
    jobPrivacy: Privacy,
    messages: ChatMessage[],
    tier: Tier,
    signal: AbortSignal,
    placement?: Placement,
  ): Promise<Completion> {
    const dispatcher = this.c.dispatcher();
    if (!dispatcher) throw new SwarmError(ErrorCodes.JOB_STATE, 'swarmd is not serving requests yet');
    const body: JsonObject = { model: tier, messages, temperature: 0.2 };
    // The job's privacy, made stricter by any secret in the prompt (its files).
    const privacy = this.c.decidePrivacy(body, jobPrivacy);
    const outcome = await dispatcher.dispatch(
      {
        id: randomUUID(),
        kind: 'chat',
        body,
        stream: false,
        privacy,
        client: `job:${jobId}`,
        action: 'edit',
        ...(placement && { preferOtherThan: placement.preferOtherThan }),
      },
      { signal, ...(placement && { onAttempt: (target) => placement.onNode(target.nodeId) }) },
    );
    const choice = (outcome.body?.['choices'] as { message?: { content?: unknown } }[] | undefined)?.[0];
    const content = typeof choice?.message?.content === 'string' ? choice.message.content : '';
    return {
      content,
      model: outcome.servedBy.target.model,
      node: outcome.servedBy.target.nodeName,
      promptTokens: outcome.usage?.promptTokens ?? 0,
      completionTokens: outcome.usage?.completionTokens ?? 0,
    };
  }

  private storeOrThrow(): JobStore {
    if (!this.store)
      throw new SwarmError(
        ErrorCodes.JOB_STORE,
        'the job store is not open (swarmd is starting or stopping); try again in a moment',
      );
    return this.store;
  }

  private forgetOldEvents(): void {
    const finished = [...this.live].filter(([, live]) => live.events.at(-1)?.kind === 'done');
    for (const [id] of finished.slice(0, Math.max(0, finished.length - KEEP_EVENTS_OF))) this.live.delete(id);
  }
}

function finalEvent(report: JobReport): JobEvent {
  const ended = report.endedAt ?? Date.now();
  return {
    jobId: report.id,
    at: ended,
    elapsedMs: ended - report.createdAt,
    kind: 'done',
    subtask: null,
    attempt: null,
    tier: null,
    model: null,
    node: null,
    step: null,
    ok: report.state === 'passed',
    message: report.message,
    state: FINAL_STATES.includes(report.state) ? report.state : null,
  };
}

/** Check what a client sent; the repository must be an existing absolute directory. */
function checkSpec(spec: JobSpec): JobSpec {
  const bad = (what: string) => new SwarmError(ErrorCodes.JOB_INVALID, what);
  if (typeof spec.task !== 'string' || spec.task.trim() === '')
    throw bad('a job needs a task: swarmctl run "what to do"');
  if (
    typeof spec.repo !== 'string' ||
    !isAbsolute(spec.repo) ||
    !existsSync(spec.repo) ||
    !statSync(spec.repo).isDirectory()
  ) {
    throw bad(`--repo ${JSON.stringify(spec.repo)} is not a directory; give the repository to work on`);
  }
  if (!['fast', 'deep', 'auto'].includes(spec.tier))
    throw bad(`--tier ${JSON.stringify(spec.tier)}: use fast, deep or auto`);
  if (!Number.isInteger(spec.bestOf) || spec.bestOf < 1 || spec.bestOf > 8)
    throw bad(`--best-of ${spec.bestOf}: use 1 to 8`);
  if (spec.privacy !== null && !['local', 'lan', 'cloud'].includes(spec.privacy)) {
    throw bad(`--privacy ${JSON.stringify(spec.privacy)}: use local, lan or cloud`);
  }
  return {
    task: spec.task,
    repo: spec.repo,
    files: Array.isArray(spec.files) ? spec.files.filter((f) => typeof f === 'string' && f !== '') : [],
    verify: Array.isArray(spec.verify)
      ? spec.verify.filter((v) => typeof v === 'string' && v.trim() !== '')
      : [],
    tier: spec.tier,
    bestOf: spec.bestOf,
    privacy: spec.privacy,
    plan: spec.plan ?? null,
  };
}
