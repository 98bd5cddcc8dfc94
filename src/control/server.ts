// The local control service swarmctl talks to, on a Unix socket only this user can open.
// Remote peers can never reach it: it is not on the peer port.
import * as grpc from '@grpc/grpc-js';
import { loadServices } from '../rpc/proto.js';
import { bindServer, serverStream, shutdownServer, unary } from '../rpc/serve.js';
import type {
  ActivityReportMessage,
  DrainRequest,
  JobEventMessage,
  JobJsonResponse,
  JobRef,
  ListModelsResponse,
  ListNodesResponse,
  PauseRequest,
  RekeyReport,
  RemoveNodeRequest,
  RunJobRequest,
  StatusResponse,
  UsageRequest,
  UsageResponse,
  UsageRowMessage,
  UsageRowsRequest,
  WireDoctorCheck,
} from '../rpc/wire.js';
import type { Logger } from '../util/logger.js';
import { claimSocketPath, restrictSocket } from './socket.js';

/** What the control server asks the daemon for. */
export interface ControlHandlers {
  status(): StatusResponse;
  listNodes(): ListNodesResponse;
  listModels(): ListModelsResponse;
  doctor(): Promise<{ checks: WireDoctorCheck[] }>;
  removeNode(request: RemoveNodeRequest): Promise<RekeyReport>;
  rotate(): Promise<RekeyReport>;
  /** `swarmctl usage`: the summary as usageJson text. */
  usage(request: UsageRequest): Promise<UsageResponse>;
  /** `swarmctl usage --jsonl`: ledger rows, oldest first, produced as the client reads them. */
  usageRows(request: UsageRowsRequest): Iterable<UsageRowMessage> | AsyncIterable<UsageRowMessage>;
  /** `swarmctl pause`: answers at once, or once drained (wait, unload). */
  pause(request: PauseRequest): Promise<ActivityReportMessage>;
  resume(): Promise<ActivityReportMessage>;
  /** `swarmctl drain`: answers once drained; the daemon then stops. */
  drain(request: DrainRequest): Promise<ActivityReportMessage>;
  /** Coding jobs; absent where the daemon runs none (the RPCs then answer UNIMPLEMENTED). */
  jobs?: JobControlHandlers;
}

/** The job RPCs (src/jobs/control.ts). Only ever on this socket: a peer can never start a job. */
export interface JobControlHandlers {
  runJob(request: RunJobRequest, signal: AbortSignal): AsyncIterable<JobEventMessage>;
  watchJob(request: JobRef, signal: AbortSignal): AsyncIterable<JobEventMessage>;
  listJobs(): JobJsonResponse;
  getJob(request: JobRef): JobJsonResponse;
  cancelJob(request: JobRef): Promise<JobJsonResponse>;
  applyJob(request: JobRef): Promise<JobJsonResponse>;
}

/** gRPC SwarmControl on a 0600 Unix socket. */
export class ControlServer {
  private server: grpc.Server | undefined;
  private readonly logger: Logger;
  private readonly handlers: ControlHandlers;
  private readonly socketPath: string;

  constructor(components: { logger: Logger; handlers: ControlHandlers }, init: { socketPath: string }) {
    this.logger = components.logger;
    this.handlers = components.handlers;
    this.socketPath = init.socketPath;
  }

  /** Claim the socket path and serve. */
  async start(): Promise<void> {
    await claimSocketPath(this.socketPath);
    const server = new grpc.Server();
    server.addService(loadServices().control, {
      status: unary(this.logger, 'Status', () => this.handlers.status()),
      listNodes: unary(this.logger, 'ListNodes', () => this.handlers.listNodes()),
      listModels: unary(this.logger, 'ListModels', () => this.handlers.listModels()),
      doctor: unary(this.logger, 'Doctor', () => this.handlers.doctor()),
      removeNode: unary(this.logger, 'RemoveNode', (request: RemoveNodeRequest) =>
        this.handlers.removeNode(request),
      ),
      rotate: unary(this.logger, 'Rotate', () => this.handlers.rotate()),
      usage: unary(this.logger, 'Usage', (request: UsageRequest) => this.handlers.usage(request)),
      usageRows: serverStream(this.logger, 'UsageRows', (request: UsageRowsRequest) =>
        this.handlers.usageRows(request),
      ),
      pause: unary(this.logger, 'Pause', (request: PauseRequest) => this.handlers.pause(request)),
      resume: unary(this.logger, 'Resume', () => this.handlers.resume()),
      drain: unary(this.logger, 'Drain', (request: DrainRequest) => this.handlers.drain(request)),
      ...(this.handlers.jobs && this.jobMethods(this.handlers.jobs)),
    });
    // Bind with a restrictive umask so the socket is never briefly open to others.
    const previous = process.umask(0o177);
    try {
      await bindServer(server, `unix:${this.socketPath}`, grpc.ServerCredentials.createInsecure());
    } finally {
      process.umask(previous);
    }
    await restrictSocket(this.socketPath);
    this.server = server;
    this.logger.info({ socket: this.socketPath }, 'control socket listening');
  }

  private jobMethods(jobs: JobControlHandlers) {
    // A client that goes away (Ctrl-C) ends its stream; the job itself keeps running.
    const signalOf = (call: { once(event: 'cancelled', listener: () => void): unknown }) => {
      const controller = new AbortController();
      call.once('cancelled', () => controller.abort());
      return controller.signal;
    };
    return {
      runJob: serverStream(this.logger, 'RunJob', (request: RunJobRequest, call) =>
        jobs.runJob(request, signalOf(call)),
      ),
      watchJob: serverStream(this.logger, 'WatchJob', (request: JobRef, call) =>
        jobs.watchJob(request, signalOf(call)),
      ),
      listJobs: unary(this.logger, 'ListJobs', () => jobs.listJobs()),
      getJob: unary(this.logger, 'GetJob', (request: JobRef) => jobs.getJob(request)),
      cancelJob: unary(this.logger, 'CancelJob', (request: JobRef) => jobs.cancelJob(request)),
      applyJob: unary(this.logger, 'ApplyJob', (request: JobRef) => jobs.applyJob(request)),
    };
  }

  /** Stop serving. Safe to call twice. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await shutdownServer(server, 1000);
  }
}
