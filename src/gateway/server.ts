// The OpenAI-compatible HTTP endpoint (node:http, keep-alive): host/origin/key checks,
// the route table, model listing, health, and the inference routes (inference.ts).
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { ErrorCodes, SwarmError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { SOFTWARE_VERSION } from '../version.js';
import { DEFAULT_MAX_BODY_BYTES } from './body.js';
import { toHttpError } from './error-map.js';
import { handleInference, type InferenceContext } from './inference.js';
import { modelList, modelObject } from './models.js';
import { type Headers, sendError, sendJson, sendText } from './respond.js';
import { matchRoute, pathOf } from './routes.js';
import {
  ANONYMOUS_CLIENT,
  ApiKeys,
  type ClientIdentity,
  createHostCheck,
  originAllowed,
} from './security.js';
import { serveTaskRoute } from './tasks.js';
import type { GatewayComponents, GatewayInit } from './types.js';

const DEFAULT_STOP_GRACE_MS = 5000;

/** The gateway every IDE, SDK and curl points at (`http://127.0.0.1:8765/v1`). */
export class GatewayServer {
  private readonly components: GatewayComponents;
  private readonly init: GatewayInit;
  private readonly logger: Logger;
  private readonly keys: ApiKeys;
  private readonly hostAllowed: (host?: string) => boolean;
  private readonly baseHeaders: Headers;
  private readonly inference: InferenceContext;
  private readonly inflight = new Set<AbortController>();
  private readonly createdAt = Math.floor(Date.now() / 1000);
  private readonly startedMs = Date.now();
  private server: Server | null = null;
  private boundPort: number | null = null;
  private stopping: Promise<void> | null = null;
  private onDrained: (() => void) | null = null;

  constructor(components: GatewayComponents, init: GatewayInit) {
    this.components = components;
    this.init = init;
    this.logger = components.logger.child({ component: 'gateway' });
    this.keys = new ApiKeys(init.apiKeys);
    this.hostAllowed = createHostCheck(init.host, [hostname()]);
    this.baseHeaders = { 'x-swarm-node': init.nodeName, 'x-swarm-node-id': init.nodeId };
    this.inference = {
      logger: this.logger,
      dispatcher: components.dispatcher,
      tasks: components.tasks,
      decidePrivacy: components.decidePrivacy,
      maxBodyBytes: init.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      track: (controller) => this.track(controller),
    };
  }

  /** The port listened on, once started. */
  get port(): number | null {
    return this.boundPort;
  }

  /** Listen; resolves with the bound port. EADDRINUSE → SwarmError PORT_IN_USE naming gateway.port. */
  async start(): Promise<number> {
    if (this.boundPort !== null) return this.boundPort;
    const server = createServer({ keepAlive: true }, (req, res) => this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(this.listenError(err));
      server.once('error', onError);
      server.listen({ host: this.init.host, port: this.init.port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => this.logger.error({ err }, 'gateway server error'));
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    this.logger.info(
      { host: this.init.host, port: this.boundPort, auth: this.keys.required },
      'OpenAI-compatible gateway listening',
    );
    return this.boundPort;
  }

  /** Stop accepting, let requests in flight finish (up to the grace period), then abort the rest. Safe twice. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (this.inflight.size > 0) {
      const grace = this.init.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, grace);
        this.onDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      for (const controller of this.inflight) controller.abort(new Error('swarmd is shutting down'));
    }
    server.closeAllConnections();
    await closed;
    this.server = null;
    this.logger.info('gateway stopped');
  }

  private track(controller: AbortController): () => void {
    this.inflight.add(controller);
    return () => {
      this.inflight.delete(controller);
      if (this.inflight.size === 0 && this.onDrained) this.onDrained();
    };
  }

  private listenError(err: NodeJS.ErrnoException): SwarmError {
    const where = `${this.init.host}:${this.init.port}`;
    const why =
      err.code === 'EADDRINUSE'
        ? 'the address is in use (another swarmd or another server?)'
        : `${err.code ?? 'error'}: ${err.message}`;
    return new SwarmError(
      ErrorCodes.PORT_IN_USE,
      `the OpenAI gateway cannot listen on ${where}: ${why}; set gateway.port (--gateway.port or SWARMD_GATEWAY__PORT) to a free port, or gateway.host to an address of this machine`,
      { cause: err },
    );
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    // 128 random bits: an async task is fetched by this id, so it must not be guessable.
    const requestId = `req_${randomBytes(16).toString('hex')}`;
    const headers: Headers = { ...this.baseHeaders, 'x-request-id': requestId };
    try {
      this.route(req, res, requestId, headers);
    } catch (err) {
      this.fail(res, err, headers, requestId);
    }
  }

  private route(req: IncomingMessage, res: ServerResponse, requestId: string, headers: Headers): void {
    if (!this.hostAllowed(req.headers.host)) {
      throw new SwarmError(
        ErrorCodes.GATEWAY_FORBIDDEN_HOST,
        `Host ${JSON.stringify(req.headers.host)} is refused: this gateway listens on loopback and answers only to localhost names (DNS rebinding protection); use http://127.0.0.1:${this.boundPort}/v1`,
      );
    }
    const origin = req.headers.origin;
    if (!originAllowed(origin, this.keys.required)) {
      throw new SwarmError(
        ErrorCodes.GATEWAY_FORBIDDEN_ORIGIN,
        `requests from web pages (Origin ${JSON.stringify(origin)}) are refused; set gateway.apiKeys to let browsers in with a key`,
      );
    }
    if (this.stopping) {
      throw new SwarmError(
        ErrorCodes.NO_CAPACITY,
        'this swarmd is shutting down; retry on another node or later',
      );
    }
    const path = pathOf(req.url);
    let client: ClientIdentity = ANONYMOUS_CLIENT;
    if (path.startsWith('/v1')) {
      const identity = this.keys.identify(req.headers.authorization);
      if (identity === null) {
        throw new SwarmError(
          ErrorCodes.UNAUTHORIZED,
          'Incorrect or missing API key: send one of gateway.apiKeys as "Authorization: Bearer <key>".',
        );
      }
      client = identity;
    }
    const match = matchRoute(req.method, path);
    if (!match.ok) {
      if (match.status === 405) {
        headers['allow'] = match.allow ?? '';
        throw new SwarmError(
          ErrorCodes.GATEWAY_METHOD_NOT_ALLOWED,
          `${req.method} is not allowed on ${path}; use ${match.allow}`,
        );
      }
      throw new SwarmError(
        ErrorCodes.GATEWAY_NOT_FOUND,
        `Unknown request URL: ${req.method} ${path}. The OpenAI-compatible API is under /v1 (chat/completions, completions, embeddings, models, tasks).`,
      );
    }
    switch (match.name) {
      case 'chat':
      case 'completions':
      case 'embeddings':
        void handleInference(this.inference, match.name, req, res, { requestId, client, headers });
        return;
      case 'models':
        sendJson(res, 200, modelList(this.components.catalogue(), this.createdAt), headers);
        return;
      case 'model':
        this.sendModel(res, match.param ?? '', headers);
        return;
      case 'tasks':
      case 'task':
      case 'cancelTask':
        serveTaskRoute(this.components.tasks, match.name, match.param, req.url, res, headers, client);
        return;
      case 'health':
        sendJson(res, 200, this.health(), headers);
        return;
      case 'root':
        sendText(
          res,
          200,
          `swarmd ${SOFTWARE_VERSION} on ${this.init.nodeName}: OpenAI-compatible API at /v1 (GET /v1/models lists the swarm's models)\n`,
          headers,
        );
        return;
    }
  }

  private sendModel(res: ServerResponse, id: string, headers: Headers): void {
    const entry = this.components.catalogue().find((candidate) => candidate.id === id);
    if (!entry) {
      const error = toHttpError(
        new SwarmError(ErrorCodes.MODEL_NOT_FOUND, 'GET /v1/models lists the names this swarm serves.'),
        { model: id },
      );
      sendError(res, { ...error, error: { ...error.error, param: 'model' } }, headers);
      return;
    }
    sendJson(res, 200, modelObject(entry, this.createdAt), headers);
  }

  private health(): Record<string, unknown> {
    return {
      status: 'ok',
      node: this.init.nodeName,
      nodeId: this.init.nodeId,
      version: SOFTWARE_VERSION,
      inflight: this.inflight.size,
      uptimeS: Math.round((Date.now() - this.startedMs) / 1000),
    };
  }

  private fail(res: ServerResponse, err: unknown, headers: Headers, requestId: string): void {
    const error = toHttpError(err, { requestId });
    if (err instanceof SwarmError) {
      this.logger.debug({ reqId: requestId, status: error.status, code: err.code }, 'request refused');
    } else {
      this.logger.error({ reqId: requestId, err }, 'gateway handler failed');
    }
    sendError(res, error, headers);
  }
}
