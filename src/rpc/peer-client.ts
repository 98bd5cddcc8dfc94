// A pool of gRPC clients to peers, one per (endpoint, expected node id), with short
// deadlines so a dead peer costs one timeout, not a hang. Credentials come from a
// provider: mTLS with the swarm's certificates, or none while this node is unpaired
// (then every call fails at once instead of dialling).
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../util/logger.js';
import { coordinationClient } from './proto.js';
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

/** The worker's end of a SubmitResult stream. */
export interface ResultStream {
  /** Send one message; false when the stream is already closed. */
  write(message: SubmitResultRequest): boolean;
  /** Finish the stream (after the final or error message). */
  end(): void;
  /** Settles when the coordinator answers; rejects when it ends the call (e.g. the client went away). */
  done: Promise<SubmitResultResponse>;
}

/** Credentials for dialling a peer, or null when this node may not dial anyone. */
export type ChannelProvider = (
  expectedNodeId: string | undefined,
) => { credentials: grpc.ChannelCredentials; options?: grpc.ChannelOptions } | null;

export interface PeerClientPoolInit {
  maxMessageBytes: number;
  /** Default: plaintext (tests of membership alone). The daemon passes mTLS. */
  channel?: ChannelProvider;
}

type UnaryMethod<Req, Res> = (
  request: Req,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: Res) => void,
) => grpc.ClientUnaryCall;

/** A gRPC status error raised locally (no call was made). */
function localError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** gRPC clients to peers. */
export class PeerClientPool {
  private readonly clients = new Map<string, grpc.Client>();
  private readonly init: PeerClientPoolInit;
  private readonly logger: Logger;

  constructor(components: { logger: Logger }, init: PeerClientPoolInit) {
    this.logger = components.logger;
    this.init = init;
  }

  /** True when calls can be made (credentials are present). */
  ready(): boolean {
    return this.init.channel ? this.init.channel(undefined) !== null : true;
  }

  /** RegisterNode on one endpoint. */
  register(endpoint: string, request: RegisterNodeRequest, timeoutMs: number, expectedId?: string) {
    return this.call<RegisterNodeRequest, RegisterNodeResponse>(
      endpoint,
      expectedId,
      'registerNode',
      request,
      timeoutMs,
    );
  }

  /** Heartbeat on one endpoint. */
  heartbeat(endpoint: string, request: HeartbeatRequest, timeoutMs: number, expectedId?: string) {
    return this.call<HeartbeatRequest, HeartbeatResponse>(
      endpoint,
      expectedId,
      'heartbeat',
      request,
      timeoutMs,
    );
  }

  /** Hand new swarm credentials to a member. */
  rekey(endpoint: string, request: RekeyRequest, timeoutMs: number, expectedId: string) {
    return this.call<RekeyRequest, RekeyResponse>(endpoint, expectedId, 'rekey', request, timeoutMs);
  }

  /** Ask a worker to run a task; it admits or refuses. */
  requestTask(endpoint: string, request: RequestTaskRequest, timeoutMs: number, expectedId: string) {
    return this.call<RequestTaskRequest, RequestTaskResponse>(
      endpoint,
      expectedId,
      'requestTask',
      request,
      timeoutMs,
    );
  }

  /** Ask a member for its usage totals over a window. */
  usageSummary(endpoint: string, request: UsageSummaryRequest, timeoutMs: number, expectedId: string) {
    return this.call<UsageSummaryRequest, UsageSummaryResponse>(
      endpoint,
      expectedId,
      'usageSummary',
      request,
      timeoutMs,
    );
  }

  /** Open a result stream to a coordinator (no deadline: it lasts as long as generation). */
  submitResult(endpoint: string, expectedId: string): ResultStream {
    const client = this.client(endpoint, expectedId) as unknown as Record<
      string,
      (
        callback: (error: grpc.ServiceError | null, response?: SubmitResultResponse) => void,
      ) => grpc.ClientWritableStream<SubmitResultRequest>
    > | null;
    if (!client) {
      const error = localError(
        grpc.status.UNAVAILABLE,
        'this node is not in a swarm (run swarmctl init or join)',
      );
      return { write: () => false, end: () => undefined, done: Promise.reject(error) };
    }
    let closed = false;
    let call: grpc.ClientWritableStream<SubmitResultRequest> | undefined;
    const done = new Promise<SubmitResultResponse>((resolve, reject) => {
      call = client['submitResult']!.call(client, (error, response) => {
        closed = true;
        if (error) reject(error);
        else resolve(response as SubmitResultResponse);
      });
    });
    // The caller may never await `done` when it has nothing left to say: keep that quiet.
    done.catch(() => undefined);
    return {
      write: (message) => {
        if (closed || !call) return false;
        call.write(message);
        return true;
      },
      end: () => {
        if (!closed) call?.end();
      },
      done,
    };
  }

  /**
   * Open a task channel to a worker (no deadline: it lives until either side closes it), or
   * null while this node is not in a swarm.
   */
  taskChannel(
    endpoint: string,
    expectedId: string,
  ): grpc.ClientDuplexStream<TaskChannelRequest, TaskChannelResponse> | null {
    const client = this.client(endpoint, expectedId) as unknown as Record<
      string,
      () => grpc.ClientDuplexStream<TaskChannelRequest, TaskChannelResponse>
    > | null;
    return client ? client['taskChannel']!.call(client) : null;
  }

  /** Close the clients of one endpoint (they are re-made on next use). */
  close(endpoint: string): void {
    for (const [key, client] of this.clients) {
      if (key.startsWith(`${endpoint}#`)) {
        client.close();
        this.clients.delete(key);
      }
    }
  }

  /** Close every client, e.g. when credentials change or at shutdown. */
  closeAll(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private client(endpoint: string, expectedId: string | undefined): grpc.Client | null {
    const key = `${endpoint}#${expectedId ?? '*'}`;
    let client = this.clients.get(key);
    if (!client) {
      const channel = this.init.channel
        ? this.init.channel(expectedId)
        : { credentials: grpc.credentials.createInsecure() };
      if (!channel) return null;
      const Client = coordinationClient();
      client = new Client(endpoint, channel.credentials, {
        'grpc.max_receive_message_length': this.init.maxMessageBytes,
        'grpc.max_send_message_length': this.init.maxMessageBytes,
        // Reconnect quickly: a restarted peer should be reachable again within a heartbeat.
        'grpc.initial_reconnect_backoff_ms': 200,
        'grpc.max_reconnect_backoff_ms': 1000,
        'grpc.min_reconnect_backoff_ms': 100,
        ...channel.options,
      });
      this.clients.set(key, client);
      this.logger.debug({ endpoint, expectedId }, 'peer client created');
    }
    return client;
  }

  private call<Req, Res>(
    endpoint: string,
    expectedId: string | undefined,
    method: string,
    request: Req,
    timeoutMs: number,
  ): Promise<Res> {
    const client = this.client(endpoint, expectedId) as unknown as Record<
      string,
      UnaryMethod<Req, Res>
    > | null;
    if (!client) {
      return Promise.reject(
        localError(grpc.status.UNAVAILABLE, 'this node is not in a swarm (run swarmctl init or join)'),
      );
    }
    return new Promise((resolve, reject) => {
      client[method]!.call(client, request, { deadline: Date.now() + timeoutMs }, (error, response) => {
        if (error) reject(error);
        else resolve(response as Res);
      });
    });
  }
}
