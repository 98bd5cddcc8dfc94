// The contract between the OpenAI-compatible gateway, the scheduler and whatever runs a
// request (a local backend, or a peer over RequestTask/SubmitResult). Wire shapes of
// request and response bodies are OpenAI's own (see BACKENDS.md §6); these types name
// only what swarmd itself adds around them.

/** Where a request may be served. `local`: this box only; `lan`: any swarm node; `cloud`: cloud allowed. */
export type Privacy = 'local' | 'lan' | 'cloud';
export const PRIVACY_ORDER: readonly Privacy[] = ['local', 'lan', 'cloud'];

/** Named groups of models, from fast and small to cloud. */
export type Tier = 'fast' | 'deep' | 'reviewer' | 'cloud';
export const TIERS: readonly Tier[] = ['fast', 'deep', 'reviewer', 'cloud'];

/** How hard `auto` judges a request to be. */
export type Complexity = 'simple' | 'moderate' | 'complex';

/** The OpenAI routes the gateway serves. */
export type InferenceKind = 'chat' | 'completions' | 'embeddings';

/** A JSON object as it came off the wire. */
export type JsonObject = Record<string, unknown>;

/** One request as the gateway accepted it. */
export interface InferenceRequest {
  /** Unique per client request (also the task id); echoed in `x-request-id`. */
  id: string;
  kind: InferenceKind;
  /** The OpenAI request body as received (`model` is the name the client asked for). */
  body: JsonObject;
  stream: boolean;
  /** Effective privacy after header / alias / key / secret detection. */
  privacy: Privacy;
  /** Who asked (API key label or "local"), for the usage ledger. */
  client: string;
  /** Action type from `x-swarm-action` or `metadata.action` (e.g. "edit", "explain"). */
  action: string | null;
  /**
   * Node ids to use last among equal places (a soft hint, never a refusal): best-of proposals
   * of a coding job spread over the swarm. Read each time the request is planned.
   */
  preferOtherThan?: readonly string[];
}

/** Token counts as OpenAI reports them. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** A concrete model on a concrete backend on a concrete node: one place a request can run. */
export interface Target {
  nodeId: string;
  nodeName: string;
  backendId: string;
  /** Backend base URL (without /v1); for cloud, the provider's base URL. */
  backendUrl: string;
  backendKind: string;
  model: string;
  tier: Tier | null;
  /** True when the target is this node (no peer hop). */
  local: boolean;
  /** True for a cloud provider. */
  cloud: boolean;
}

/** What the gateway learns when a target starts answering (before the first chunk is sent). */
export interface ServedBy {
  target: Target;
  /** 1-based count of attempts so far, fallbacks included. */
  attempts: number;
  /** Extra `x-swarm-*` response headers (e.g. `x-swarm-budget` when cloud was skipped for budget). */
  notices?: Record<string, string>;
}

/** The end of a request. */
export interface InferenceOutcome {
  servedBy: ServedBy;
  /** Non-streaming: the full OpenAI response body. Streaming: null (chunks were delivered). */
  body: JsonObject | null;
  usage: Usage | null;
  finishReason: string | null;
  /** ms from dispatch to the first token (streaming) or to the reply (non-streaming). */
  firstTokenMs: number | null;
  latencyMs: number;
}

/** Callbacks a runner uses while a request is in flight. */
export interface RunHooks {
  signal: AbortSignal;
  /** Called once, before the first chunk, when a target has admitted the request. */
  onStart?: (servedBy: ServedBy) => void;
  /** Called as each attempt is handed to a target (fallbacks included), before it runs. */
  onAttempt?: (target: Target) => void;
  /** Streaming only: each OpenAI chunk object, in order (`chat.completion.chunk` / `text_completion`). */
  onChunk?: (chunk: JsonObject) => void;
  /**
   * Asked once when the dispatch fails: true when the caller will dispatch this same request
   * again (an async task waiting for capacity, or one left for the next start), so this end is
   * not the request's last and the usage ledger does not count it yet. Absent: every end is last.
   */
  willRetry?: (err: unknown) => boolean;
}

/** Runs a request somewhere and resolves with its outcome, or rejects with a SwarmError. */
export interface Dispatcher {
  dispatch(request: InferenceRequest, hooks: RunHooks): Promise<InferenceOutcome>;
}

/** Where an asynchronous task stands. */
export type AsyncTaskStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** The error an asynchronous task ended with, as the gateway would have answered it. */
export interface AsyncTaskError {
  status: number;
  message: string;
  /** OpenAI error type and code. */
  type: string;
  code: string | null;
  /** swarmd's own code (SWARM_ERR_*). */
  swarmCode: string;
}

/** An asynchronous task as a client sees it. */
export interface AsyncTaskView {
  id: string;
  kind: InferenceKind;
  /** The model name the client asked for. */
  model: string;
  status: AsyncTaskStatus;
  createdMs: number;
  startedMs: number | null;
  finishedMs: number | null;
  attempts: number;
  servedBy: { nodeId: string; nodeName: string; backend: string; model: string; tier: string | null } | null;
  /** The OpenAI response body once completed. */
  result: JsonObject | null;
  error: AsyncTaskError | null;
}

/**
 * Whose an asynchronous task is: the stable id of the API key that created it (never the key
 * itself), or null when the gateway has no API keys (anyone who can reach it, holding the id).
 */
export type TaskOwner = string | null;

/**
 * Requests accepted now and answered later (`Prefer: respond-async`): journaled before they are
 * acknowledged, run in the background, resumed after a restart, fetched by id. A task is seen
 * only by its owner: another owner's task is answered as if it did not exist.
 */
export interface AsyncTaskService {
  /** Journal and queue, owned by `owner`; throws QUEUE_FULL when too many are pending. */
  submit(request: InferenceRequest, owner: TaskOwner): AsyncTaskView;
  /** The task, or null when it is unknown or not `owner`'s. */
  get(id: string, owner: TaskOwner): AsyncTaskView | null;
  /** `owner`'s tasks, newest first. */
  list(owner: TaskOwner, limit: number): AsyncTaskView[];
  /** Stop a queued or running task; a finished one is returned as it is. Null when unknown or not `owner`'s. */
  cancel(id: string, owner: TaskOwner): AsyncTaskView | null;
}
