// A pool of gRPC clients to peers, one per endpoint, with short deadlines so a dead
// peer costs one timeout, not a hang. Credentials come from a provider so the
// transport can change (plaintext today, mTLS once the swarm holds credentials).
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../util/logger.js';
import { coordinationClient } from './proto.js';
import type {
  HeartbeatRequest,
  HeartbeatResponse,
  RegisterNodeRequest,
  RegisterNodeResponse,
} from './wire.js';

export interface PeerClientPoolInit {
  maxMessageBytes: number;
  /** Channel credentials and extra options for dialling one endpoint. */
  credentials?: (endpoint: string) => { credentials: grpc.ChannelCredentials; options?: grpc.ChannelOptions };
}

type UnaryMethod<Req, Res> = (
  request: Req,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: Res) => void,
) => grpc.ClientUnaryCall;

/** gRPC clients to peers, keyed by endpoint. */
export class PeerClientPool {
  private readonly clients = new Map<string, grpc.Client>();
  private readonly init: PeerClientPoolInit;
  private readonly logger: Logger;

  constructor(components: { logger: Logger }, init: PeerClientPoolInit) {
    this.logger = components.logger;
    this.init = init;
  }

  /** RegisterNode on one endpoint. */
  register(endpoint: string, request: RegisterNodeRequest, timeoutMs: number): Promise<RegisterNodeResponse> {
    return this.call<RegisterNodeRequest, RegisterNodeResponse>(endpoint, 'registerNode', request, timeoutMs);
  }

  /** Heartbeat on one endpoint. */
  heartbeat(endpoint: string, request: HeartbeatRequest, timeoutMs: number): Promise<HeartbeatResponse> {
    return this.call<HeartbeatRequest, HeartbeatResponse>(endpoint, 'heartbeat', request, timeoutMs);
  }

  /** Close the client of one endpoint (it is re-made on next use). */
  close(endpoint: string): void {
    this.clients.get(endpoint)?.close();
    this.clients.delete(endpoint);
  }

  /** Close every client, e.g. when credentials change or at shutdown. */
  closeAll(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private client(endpoint: string): grpc.Client {
    let client = this.clients.get(endpoint);
    if (!client) {
      const Client = coordinationClient();
      const provided = this.init.credentials?.(endpoint);
      client = new Client(endpoint, provided?.credentials ?? grpc.credentials.createInsecure(), {
        'grpc.max_receive_message_length': this.init.maxMessageBytes,
        'grpc.max_send_message_length': this.init.maxMessageBytes,
        // Reconnect quickly: a restarted peer should be reachable again within a heartbeat.
        'grpc.initial_reconnect_backoff_ms': 200,
        'grpc.max_reconnect_backoff_ms': 1000,
        'grpc.min_reconnect_backoff_ms': 100,
        ...provided?.options,
      });
      this.clients.set(endpoint, client);
      this.logger.debug({ endpoint }, 'peer client created');
    }
    return client;
  }

  private call<Req, Res>(endpoint: string, method: string, request: Req, timeoutMs: number): Promise<Res> {
    const client = this.client(endpoint) as unknown as Record<string, UnaryMethod<Req, Res>>;
    return new Promise((resolve, reject) => {
      client[method]!.call(client, request, { deadline: Date.now() + timeoutMs }, (error, response) => {
        if (error) reject(error);
        else resolve(response as Res);
      });
    });
  }
}
