// The peer-facing gRPC server: SwarmCoordination plus the standard health service.
// Remote peers reach only this service; control RPCs live on the local socket.
import type { Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { LogBudget } from '../util/log-budget.js';
import type { Logger } from '../util/logger.js';
import { type ConnectionLimits, PEER_PORT_LIMITS } from './connection-caps.js';
import { PeerListener } from './peer-listener.js';
import { loadServices } from './proto.js';
import { shutdownServer, unary } from './serve.js';
import { describeTlsRefusal, watchedInjector } from './tls-events.js';
import type {
  HeartbeatRequest,
  HeartbeatResponse,
  RegisterNodeRequest,
  RegisterNodeResponse,
  RekeyRequest,
  RekeyResponse,
  RequestTaskRequest,
  RequestTaskResponse,
  SubmitResultRequest,
  SubmitResultResponse,
  TaskChannelRequest,
  TaskChannelResponse,
  UsageSummaryRequest,
  UsageSummaryResponse,
} from './wire.js';

/** What the peer server delegates to. `call` carries the caller's verified TLS identity. */
export interface PeerHandlers {
  registerNode(
    request: RegisterNodeRequest,
    call: grpc.ServerUnaryCall<unknown, unknown>,
  ): RegisterNodeResponse;
  heartbeat(request: HeartbeatRequest, call: grpc.ServerUnaryCall<unknown, unknown>): HeartbeatResponse;
  rekey?(request: RekeyRequest, call: grpc.ServerUnaryCall<unknown, unknown>): Promise<RekeyResponse>;
  requestTask?(
    request: RequestTaskRequest,
    call: grpc.ServerUnaryCall<unknown, unknown>,
  ): RequestTaskResponse | Promise<RequestTaskResponse>;
  /** A worker's result stream (client streaming). */
  submitResult?: grpc.handleClientStreamingCall<SubmitResultRequest, SubmitResultResponse>;
  /** A coordinator's task channel (bidirectional: tasks in, admissions and results out). */
  taskChannel?: grpc.handleBidiStreamingCall<TaskChannelRequest, TaskChannelResponse>;
  /** A member asks for this node's usage totals (`swarmctl usage --swarm` there). */
  usageSummary?(
    request: UsageSummaryRequest,
    call: grpc.ServerUnaryCall<unknown, unknown>,
  ): UsageSummaryResponse | Promise<UsageSummaryResponse>;
}

const MAX_REFUSAL_KEYS = 4096;
/** Log lines a minute that strangers can cause on the peer port (refused handshakes, caps), all together. */
export const REFUSAL_LOG_LINES = 20;

export interface PeerServerInit {
  host: string;
  port: number;
  maxMessageBytes: number;
  /** mTLS credentials; none serves plaintext (tests only). */
  credentials?: () => grpc.ServerCredentials;
  /** Connection caps and handshake deadline; PEER_PORT_LIMITS unless a test sets others. */
  limits?: Readonly<ConnectionLimits>;
}

/** gRPC server for peers. */
export class PeerServer {
  private server: grpc.Server | undefined;
  private listener: PeerListener | undefined;
  private readonly logger: Logger;
  private readonly handlers: PeerHandlers;
  private readonly init: PeerServerInit;
  private readonly health = new HealthImplementation({
    '': 'SERVING',
    'swarm.v1.SwarmCoordination': 'SERVING',
  });
  /** The port actually bound (differs from init.port when it was 0). */
  port = 0;
  private readonly refusalsLogged = new Set<string>();
  private readonly refusalBudget = new LogBudget({ lines: REFUSAL_LOG_LINES, windowMs: 60_000 });

  constructor(components: { logger: Logger; handlers: PeerHandlers }, init: PeerServerInit) {
    this.logger = components.logger;
    this.handlers = components.handlers;
    this.init = init;
  }

  /** Bind and serve. */
  async start(): Promise<void> {
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.init.maxMessageBytes,
      'grpc.max_send_message_length': this.init.maxMessageBytes,
    });
    const notYet = (what: string) =>
      unary(this.logger, what, () => {
        throw Object.assign(new Error(`${what} is not served by this version of swarmd`), {
          code: grpc.status.UNIMPLEMENTED,
          details: `${what} is not served by this version of swarmd`,
          metadata: new grpc.Metadata(),
        });
      });
    server.addService(loadServices().coordination, {
      registerNode: unary(this.logger, 'RegisterNode', (req: RegisterNodeRequest, call) =>
        this.handlers.registerNode(req, call as grpc.ServerUnaryCall<unknown, unknown>),
      ),
      heartbeat: unary(this.logger, 'Heartbeat', (req: HeartbeatRequest, call) =>
        this.handlers.heartbeat(req, call as grpc.ServerUnaryCall<unknown, unknown>),
      ),
      requestTask: this.handlers.requestTask
        ? unary(this.logger, 'RequestTask', (req: RequestTaskRequest, call) =>
            this.handlers.requestTask!(req, call as grpc.ServerUnaryCall<unknown, unknown>),
          )
        : notYet('RequestTask'),
      submitResult:
        this.handlers.submitResult ??
        ((
          _call: grpc.ServerReadableStream<SubmitResultRequest, SubmitResultResponse>,
          callback: grpc.sendUnaryData<SubmitResultResponse>,
        ) =>
          callback({
            code: grpc.status.UNIMPLEMENTED,
            details: 'SubmitResult is not served by this version of swarmd',
            metadata: new grpc.Metadata(),
          })),
      taskChannel:
        this.handlers.taskChannel ??
        ((call: grpc.ServerDuplexStream<TaskChannelRequest, TaskChannelResponse>) =>
          call.emit('error', {
            code: grpc.status.UNIMPLEMENTED,
            details: 'TaskChannel is not served by this version of swarmd',
            metadata: new grpc.Metadata(),
          })),
      rekey: this.handlers.rekey
        ? unary(this.logger, 'Rekey', (req: RekeyRequest, call) =>
            this.handlers.rekey!(req, call as grpc.ServerUnaryCall<unknown, unknown>),
          )
        : notYet('Rekey'),
      usageSummary: this.handlers.usageSummary
        ? unary(this.logger, 'UsageSummary', (req: UsageSummaryRequest, call) =>
            this.handlers.usageSummary!(req, call as grpc.ServerUnaryCall<unknown, unknown>),
          )
        : notYet('UsageSummary'),
    });
    this.health.addToServer(server);
    const tls = this.init.credentials !== undefined;
    const credentials = this.init.credentials?.() ?? grpc.ServerCredentials.createInsecure();
    // swarmd owns the listener (caps, handshake deadline); grpc-js serves what it admits.
    let listener: PeerListener | undefined;
    const { injector, watched } = watchedInjector(server, credentials, {
      secured: (socket) => listener?.secured(socket),
      refused: (error, socket) => this.onRefusal(listener, error, socket),
    });
    if (tls && !watched) {
      this.logger.warn(
        'this grpc-js hides its TLS handshakes: the peer port caps connections but has no handshake deadline',
      );
    }
    listener = new PeerListener(
      {
        logger: this.logger,
        budget: this.refusalBudget,
        inject: (socket) => injector.injectConnection(socket),
      },
      {
        host: this.init.host,
        port: this.init.port,
        limits: this.init.limits ?? PEER_PORT_LIMITS,
        tls: tls && watched,
      },
    );
    try {
      await listener.start();
    } catch (err) {
      server.forceShutdown();
      throw err;
    }
    this.listener = listener;
    this.server = server;
    this.port = listener.port;
    this.logger.info({ port: this.port, host: this.init.host }, 'peer gRPC listening');
  }

  /** Connections the peer port holds now (tests and diagnostics). */
  connections(): { handshakes: number; connections: number; sources: number } {
    return this.listener?.totals() ?? { handshakes: 0, connections: 0, sources: 0 };
  }

  private onRefusal(listener: PeerListener | undefined, error: Error, socket: Socket | undefined): void {
    // Our own deadline closed it: the listener has logged that already.
    if (socket && listener?.closedAtDeadline(socket)) return;
    const remote = (socket && (listener?.sourceOf(socket) ?? socket.remoteAddress)) ?? 'unknown';
    this.logRefusal(error, remote);
  }

  /**
   * One log line per remote address and reason, not one per packet or reconnect, and at most
   * REFUSAL_LOG_LINES a minute in all: a flood from thousands of addresses stays a few lines.
   */
  private logRefusal(error: Error, remoteAddress: string): void {
    const reason = describeTlsRefusal(error);
    const key = `${remoteAddress}|${reason}`;
    if (this.refusalsLogged.has(key)) return;
    if (this.refusalsLogged.size >= MAX_REFUSAL_KEYS) this.refusalsLogged.clear();
    this.refusalsLogged.add(key);
    const line = this.refusalBudget.take();
    if (!line) return;
    const { suppressed } = line;
    this.logger.warn(
      { remote: remoteAddress, tlsError: error.message, ...(suppressed > 0 && { suppressed }) },
      suppressed > 0 ? `${reason} (${suppressed} more refusals were not logged)` : reason,
    );
  }

  /** Mark not serving (health) while draining. */
  setServing(serving: boolean): void {
    this.health.setStatus('', serving ? 'SERVING' : 'NOT_SERVING');
    this.health.setStatus('swarm.v1.SwarmCoordination', serving ? 'SERVING' : 'NOT_SERVING');
  }

  /** Stop serving; in-flight calls get graceMs to finish. Safe to call twice. */
  async stop(graceMs = 2000): Promise<void> {
    const server = this.server;
    const listener = this.listener;
    this.server = undefined;
    this.listener = undefined;
    listener?.close();
    if (server) await shutdownServer(server, graceMs);
    listener?.destroyAll();
  }
}
