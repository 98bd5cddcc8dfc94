// The swarmctl side of the SwarmControl service: promise calls over the daemon's Unix socket.
// The socket is 0600 in the data dir, which is the access control, so the channel is insecure.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { type ErrorCode, ErrorCodes, SwarmError } from '../errors.js';
import { controlClient } from '../rpc/proto.js';
import type {
  ActivityReportMessage,
  DoctorResponse,
  DrainRequest,
  JobEventMessage,
  JobJsonResponse,
  ListModelsResponse,
  ListNodesResponse,
  PauseRequest,
  RekeyReport,
  StatusResponse,
  UsageRequest,
  UsageResponse,
  UsageRowMessage,
  UsageRowsRequest,
} from '../rpc/wire.js';

/** How long each control call may take before swarmctl gives up on the daemon. */
export const CONTROL_DEADLINE_MS = 5_000;

/**
 * Deadline of RemoveNode and Rotate: the daemon makes a new CA and hands it to every live member
 * (each with its own peer RPC deadline) before it answers.
 */
export const REKEY_DEADLINE_MS = 20_000;

/** Deadline of Usage: with --swarm the daemon waits up to a few seconds for each member's answer. */
export const USAGE_DEADLINE_MS = 15_000;

/** Deadline of a whole UsageRows export (the rows stream as they are read, so this is generous). */
export const EXPORT_DEADLINE_MS = 600_000;

/** Options for one control call. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** A connection to the local daemon's control socket. */
export interface ControlClient {
  /** The absolute socket path this client dials. */
  readonly socketPath: string;
  /** This node's own view and where it keeps its state. */
  status(options?: CallOptions): Promise<StatusResponse>;
  /** The peer table, this node included. */
  listNodes(options?: CallOptions): Promise<ListNodesResponse>;
  /** Every model the swarm offers and which nodes hold it. */
  listModels(options?: CallOptions): Promise<ListModelsResponse>;
  /** The daemon's self-checks. */
  doctor(options?: CallOptions): Promise<DoctorResponse>;
  /** Take a node (id or name) out of the swarm for good: new credentials for every other member. */
  removeNode(node: string, options?: CallOptions): Promise<RekeyReport>;
  /** New credentials for every member, nobody removed. */
  rotate(options?: CallOptions): Promise<RekeyReport>;
  /** Usage totals (usageJson text) since a time, this node's or, with `swarm`, every member's. */
  usage(request: UsageRequest, options?: CallOptions): Promise<UsageResponse>;
  /** This node's ledger rows since a time, oldest first, one usageRowJsonl line each, as they stream in. */
  usageRows(request: UsageRowsRequest, options?: CallOptions): AsyncIterable<string>;
  /** Stop taking work; with wait/unload answers once drained (deadline: grace + ACTIVITY_MARGIN_MS). */
  pause(request: PauseRequest, options?: CallOptions): Promise<ActivityReportMessage>;
  /** End a manual pause. */
  resume(options?: CallOptions): Promise<ActivityReportMessage>;
  /** Pause, answer once drained; then the daemon stops. */
  drain(request: DrainRequest, options?: CallOptions): Promise<ActivityReportMessage>;
  /** Start a coding job and read its progress events (JSON text) until it ends. */
  runJob(specJson: string, options?: CallOptions): AsyncIterable<string>;
  /** A job's progress events (JSON text) from its start until it ends. */
  watchJob(id: string, options?: CallOptions): AsyncIterable<string>;
  /** {jobs: JobSummary[]} as JSON text. */
  listJobs(options?: CallOptions): Promise<JobJsonResponse>;
  /** A JobReport as JSON text. */
  getJob(id: string, options?: CallOptions): Promise<JobJsonResponse>;
  /** Cancel a running job; its report once it stopped. */
  cancelJob(id: string, options?: CallOptions): Promise<JobJsonResponse>;
  /** Write a passing job's change into the working tree; its report. */
  applyJob(id: string, options?: CallOptions): Promise<JobJsonResponse>;
  /** Close the channel; safe to call twice. */
  close(): void;
}

/** Time on top of the grace for Pause --wait/--unload and Drain: handing back, unloading (llama-swap blocks up to 10 s). */
export const ACTIVITY_MARGIN_MS = 30_000;

/** The longest grace any call may ask for without --grace: shutdown.drainGrace is below 40 s. */
const DEFAULT_GRACE_BOUND_MS = 40_000;
/** Deadline of a whole RunJob / WatchJob stream (a job is bounded by its attempts and step timeouts). */
export const JOB_STREAM_DEADLINE_MS = 6 * 3_600_000;

/** Deadline of CancelJob and ApplyJob (cancel waits for the running step to stop). */
export const JOB_ACTION_DEADLINE_MS = 60_000;

/** Options of connectControl. */
export interface ConnectOptions {
  /** Deadline of each read-only call in ms (default CONTROL_DEADLINE_MS). */
  deadlineMs?: number;
  /** Deadline of RemoveNode and Rotate in ms (default REKEY_DEADLINE_MS). */
  rekeyDeadlineMs?: number;
  /** Deadline of Usage in ms (default USAGE_DEADLINE_MS). */
  usageDeadlineMs?: number;
  /** Deadline of a whole UsageRows export in ms (default EXPORT_DEADLINE_MS). */
  exportDeadlineMs?: number;
}

type UnaryMethod = (
  request: object,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, value?: unknown) => void,
) => grpc.ClientUnaryCall;

type StreamMethod = (request: object, options: grpc.CallOptions) => grpc.ClientReadableStream<unknown>;

const HOW_TO_START =
  'is swarmd running? start it with `systemctl --user start swarmd` or run `swarmd` in a terminal; --socket PATH picks another daemon';

/** Make a control client for the daemon listening on socketPath (no I/O until the first call). */
export function connectControl(socketPath: string, options: ConnectOptions = {}): ControlClient {
  const path = resolve(socketPath);
  const deadlineMs = options.deadlineMs ?? CONTROL_DEADLINE_MS;
  const rekeyDeadlineMs = options.rekeyDeadlineMs ?? REKEY_DEADLINE_MS;
  const usageDeadlineMs = options.usageDeadlineMs ?? USAGE_DEADLINE_MS;
  const exportDeadlineMs = options.exportDeadlineMs ?? EXPORT_DEADLINE_MS;
  const Client = controlClient();
  const client = new Client(`unix:${path}`, grpc.credentials.createInsecure());
  let closed = false;

  const call = <T>(
    method: string,
    opts: CallOptions = {},
    request: object = {},
    deadline: number = deadlineMs,
  ): Promise<T> =>
    new Promise<T>((resolvePromise, reject) => {
      if (opts.signal?.aborted) {
        reject(unreachable(`the ${method} call to ${path} was aborted`, opts.signal.reason));
        return;
      }
      const fn = (client as unknown as Record<string, UnaryMethod>)[method]!;
      const onAbort = () => pending.cancel();
      const pending = fn.call(client, request, { deadline: Date.now() + deadline }, (err, value) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) reject(mapControlError(err, path, method, deadline));
        else resolvePromise(value as T);
      });
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });

  async function* usageRows(request: UsageRowsRequest, opts: CallOptions = {}): AsyncGenerator<string> {
    if (opts.signal?.aborted)
      throw unreachable(`the UsageRows call to ${path} was aborted`, opts.signal.reason);
    const fn = (client as unknown as Record<string, StreamMethod>)['UsageRows']!;
    const stream = fn.call(client, request, { deadline: Date.now() + exportDeadlineMs });
    const onAbort = () => stream.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let ended = false;
    try {
      for await (const message of stream) yield (message as UsageRowMessage).jsonl;
      ended = true;
    } catch (err) {
      ended = true;
      if (isServiceError(err)) throw mapControlError(err, path, 'UsageRows', exportDeadlineMs);
      throw err;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      // The reader stopped early: tell the daemon to stop reading the ledger.
      if (!ended) stream.cancel();
    }
  }

  async function* jobStream(
    method: 'RunJob' | 'WatchJob',
    request: object,
    opts: CallOptions = {},
  ): AsyncGenerator<string> {
    if (opts.signal?.aborted)
      throw unreachable(`the ${method} call to ${path} was aborted`, opts.signal.reason);
    const fn = (client as unknown as Record<string, StreamMethod>)[method]!;
    const stream = fn.call(client, request, { deadline: Date.now() + JOB_STREAM_DEADLINE_MS });
    const onAbort = () => stream.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const message of stream) yield (message as JobEventMessage).json;
    } catch (err) {
      if (isServiceError(err)) throw mapControlError(err, path, method, JOB_STREAM_DEADLINE_MS);
      throw err;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      stream.cancel();
    }
  }

  return {
    socketPath: path,
    runJob: (specJson, opts) => jobStream('RunJob', { specJson }, opts),
    watchJob: (id, opts) => jobStream('WatchJob', { id }, opts),
    listJobs: (opts) => call<JobJsonResponse>('ListJobs', opts),
    getJob: (id, opts) => call<JobJsonResponse>('GetJob', opts, { id }),
    cancelJob: (id, opts) => call<JobJsonResponse>('CancelJob', opts, { id }, JOB_ACTION_DEADLINE_MS),
    applyJob: (id, opts) => call<JobJsonResponse>('ApplyJob', opts, { id }, JOB_ACTION_DEADLINE_MS),
    status: (opts) => call<StatusResponse>('Status', opts),
    listNodes: (opts) => call<ListNodesResponse>('ListNodes', opts),
    listModels: (opts) => call<ListModelsResponse>('ListModels', opts),
    doctor: (opts) => call<DoctorResponse>('Doctor', opts),
    removeNode: (node, opts) => call<RekeyReport>('RemoveNode', opts, { node }, rekeyDeadlineMs),
    rotate: (opts) => call<RekeyReport>('Rotate', opts, {}, rekeyDeadlineMs),
    usage: (request, opts) => call<UsageResponse>('Usage', opts, request, usageDeadlineMs),
    usageRows,
    pause: (request, opts) =>
      call<ActivityReportMessage>(
        'Pause',
        opts,
        request,
        request.wait || request.unload ? graceBound(request) + ACTIVITY_MARGIN_MS : deadlineMs,
      ),
    resume: (opts) => call<ActivityReportMessage>('Resume', opts),
    drain: (request, opts) =>
      call<ActivityReportMessage>('Drain', opts, request, graceBound(request) + ACTIVITY_MARGIN_MS),
    close() {
      if (closed) return;
      closed = true;
      client.close();
    },
  };
}

function graceBound(request: { graceMs: number; defaultGrace: boolean }): number {
  return request.defaultGrace ? DEFAULT_GRACE_BOUND_MS : request.graceMs;
}

/** Turn a gRPC failure of a control call into a SwarmError that says what to do. */
export function mapControlError(
  err: grpc.ServiceError,
  socketPath: string,
  method: string,
  deadlineMs: number = CONTROL_DEADLINE_MS,
): SwarmError {
  const details = err.details || err.message;
  // A deliberate refusal (unknown node, not in a swarm): the daemon's SwarmError, code and words.
  const code = daemonErrorCode(err);
  if (code !== null) return new SwarmError(code, details, { cause: err });
  switch (err.code) {
    case grpc.status.UNAVAILABLE: {
      if (/EACCES|EPERM/.test(details)) {
        return unreachable(`permission denied on ${socketPath} (the socket belongs to another user)`, err);
      }
      if (/ENOENT/.test(details) || !existsSync(socketPath)) {
        return unreachable(`no control socket at ${socketPath}`, err);
      }
      if (/ECONNREFUSED/.test(details)) {
        return unreachable(`nothing is listening on ${socketPath} (stale socket)`, err);
      }
      return unreachable(`cannot connect to ${socketPath}: ${details}`, err);
    }
    case grpc.status.DEADLINE_EXCEEDED:
      return unreachable(
        `swarmd on ${socketPath} did not answer ${method} within ${deadlineMs / 1000}s`,
        err,
      );
    case grpc.status.CANCELLED:
      return unreachable(`the ${method} call to ${socketPath} was cancelled`, err);
    case grpc.status.UNIMPLEMENTED:
      return new SwarmError(
        ErrorCodes.NOT_IMPLEMENTED,
        `swarmd on ${socketPath} does not know ${method}: swarmctl and swarmd are different versions; upgrade swarmd and restart it`,
        { cause: err },
      );
    case grpc.status.INVALID_ARGUMENT:
    case grpc.status.NOT_FOUND:
    case grpc.status.FAILED_PRECONDITION:
      // The daemon refused the request itself (unknown node, not in a swarm): its words say why.
      return new SwarmError(ErrorCodes.CONTROL_FAILED, `swarmd refused ${method}: ${details}`, {
        cause: err,
      });
    default:
      return new SwarmError(
        ErrorCodes.CONTROL_FAILED,
        `swarmd on ${socketPath} failed ${method}: ${grpc.status[err.code] ?? err.code}: ${details}`,
        { cause: err },
      );
  }
}

/** Metadata key under which swarmd sends the SwarmError code of a refusal (rpc/serve.ts). */
export const ERROR_CODE_METADATA = 'swarm-error-code';

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

function daemonErrorCode(err: grpc.ServiceError): ErrorCode | null {
  const value = err.metadata?.get(ERROR_CODE_METADATA)[0];
  return typeof value === 'string' && KNOWN_CODES.has(value) ? (value as ErrorCode) : null;
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as grpc.ServiceError).code === 'number';
}

function unreachable(what: string, cause: unknown): SwarmError {
  return new SwarmError(ErrorCodes.CONTROL_UNREACHABLE, `cannot reach swarmd: ${what}; ${HOW_TO_START}`, {
    cause,
  });
}
