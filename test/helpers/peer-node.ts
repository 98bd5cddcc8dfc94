// A membership node on loopback for integration tests: real PeerServer, real
// PeerClientPool, real Membership, with facts and backends supplied by the test.
import { randomBytes } from 'node:crypto';
import type { BackendStatus } from '../../src/backends/types.js';
import { Membership } from '../../src/membership/membership.js';
import { SelfNode } from '../../src/membership/self-node.js';
import { PeerClientPool } from '../../src/rpc/peer-client.js';
import { type PeerHandlers, PeerServer } from '../../src/rpc/peer-server.js';
import { Slots } from '../../src/tasks/slots.js';
import { type RunOnBackend, TaskWorker } from '../../src/tasks/worker.js';
import { serveTaskChannel } from '../../src/tasks/worker-channel.js';
import { silentLogger } from '../../src/util/logger.js';

/** A healthy local Ollama with one loaded model and one slot: the worker backend of task tests. */
export const QWEN_BACKEND: BackendStatus = {
  id: 'ollama@127.0.0.1:11434',
  kind: 'ollama',
  url: 'http://127.0.0.1:11434',
  healthy: true,
  version: '0.33.0',
  error: null,
  probedAt: 0,
  models: [{ id: 'qwen3:8b', loaded: true, contextLength: 8192, maxConcurrency: 1, sizeVramBytes: null }],
};

export interface PeerNodeOptions {
  id?: string;
  name?: string;
  staticPeers?: string[];
  protocol?: { major: number; minor: number };
  backends?: BackendStatus[];
  heartbeatIntervalMs?: number;
  suspectAfterMs?: number;
  deadAfterMs?: number;
  forgetAfterMs?: number;
  /** Listen on this port (a restart at the same address); default: one the OS picks. */
  port?: number;
  /** Still looking at its backends (NodeInfo.starting); default false. */
  starting?: () => boolean;
  /** Requests running now, in total and per backend model (SelfNode `inflight`). */
  inflight?: () => { total: number; byModel: (backendId: string, modelId: string) => number };
  /** Extra peer handlers (task RPCs), given the node's parts once they exist. */
  handlers?: (parts: {
    self: SelfNode;
    membership: Membership;
    pool: PeerClientPool;
  }) => Partial<PeerHandlers>;
}

export interface PeerNode {
  id: string;
  endpoint: string;
  self: SelfNode;
  membership: Membership;
  server: PeerServer;
  pool: PeerClientPool;
  /** Stop without telling anyone (like a crash). */
  crash(): Promise<void>;
  /** Leave cleanly, then stop. */
  stop(): Promise<void>;
}

/** Start a node listening on 127.0.0.1 with an OS-chosen port. */
export async function startPeerNode(options: PeerNodeOptions = {}): Promise<PeerNode> {
  const id = options.id ?? randomBytes(8).toString('hex');
  let endpoints: string[] = [];
  const self = new SelfNode({
    id,
    name: options.name ?? `node-${id.slice(0, 4)}`,
    softwareVersion: 'test',
    endpoints: () => endpoints,
    facts: () => null,
    backends: () => options.backends ?? [],
    ...(options.protocol && { protocol: options.protocol }),
    ...(options.inflight && { inflight: options.inflight }),
    ...(options.starting && { starting: options.starting }),
  });
  const pool = new PeerClientPool({ logger: silentLogger }, { maxMessageBytes: 4 * 1024 * 1024 });
  const membership = new Membership(
    { logger: silentLogger, self, pool },
    {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 200,
      suspectAfterMs: options.suspectAfterMs ?? 600,
      deadAfterMs: options.deadAfterMs ?? 1200,
      rpcTimeoutMs: 500,
      forgetAfterMs: options.forgetAfterMs ?? 60_000,
      staticPeers: options.staticPeers ?? [],
    },
  );
  const server = new PeerServer(
    {
      logger: silentLogger,
      handlers: {
        registerNode: (request) => membership.handleRegister(request),
        heartbeat: (request) => membership.handleHeartbeat(request),
        ...options.handlers?.({ self, membership, pool }),
      },
    },
    { host: '127.0.0.1', port: options.port ?? 0, maxMessageBytes: 4 * 1024 * 1024 },
  );
  await server.start();
  endpoints = [`127.0.0.1:${server.port}`];
  membership.start();
  let stopped = false;
  const halt = async () => {
    if (stopped) return;
    stopped = true;
    membership.stop();
    pool.closeAll();
    await server.stop(100);
  };
  return {
    id,
    endpoint: endpoints[0]!,
    self,
    membership,
    server,
    pool,
    crash: halt,
    stop: async () => {
      if (!stopped) await membership.leave();
      await halt();
    },
  };
}

/**
 * A node whose TaskWorker runs peers' tasks on QWEN_BACKEND with `run`: it answers RequestTask,
 * and TaskChannel too when `taskChannel` is set.
 */
export async function startWorkerNode(
  run: RunOnBackend,
  options: { taskChannel?: boolean } = {},
): Promise<{ node: PeerNode; worker: TaskWorker }> {
  let worker: TaskWorker | undefined;
  const node = await startPeerNode({
    backends: [QWEN_BACKEND],
    handlers: ({ self, membership, pool }) => {
      const running = new TaskWorker({
        logger: silentLogger,
        self,
        membership,
        pool,
        slots: new Slots(),
        backends: () => [{ status: QWEN_BACKEND, apiKey: undefined }],
        run,
      });
      worker = running;
      return {
        requestTask: (request) => running.handleRequestTask(request),
        ...(options.taskChannel && {
          taskChannel: (call) =>
            serveTaskChannel(call, { logger: silentLogger, worker: running, authorize: () => undefined }),
        }),
      };
    },
  });
  return { node, worker: worker! };
}

/** The liveness this node shows for a peer, or undefined when it does not know it. */
export function stateOf(node: PeerNode, peerId: string): string | undefined {
  return node.membership.views().find((view) => view.node?.id === peerId)?.state;
}
