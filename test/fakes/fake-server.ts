// Base of the fake model servers used by tests: a real node:http server on 127.0.0.1 with a
// route table, mutable state, a request log, and stop()/start() that keep the same port so a
// test can take a "server" down and bring it back where the code under test expects it.
// It also keeps the generation bookkeeping every fake shares (generation/serve.ts): the script
// set with behave(), requests in flight, the generation log, and TCP connections accepted.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_SCRIPT, type GenerationRecord, type GenerationScript } from './generation/script.js';
import type { GenerationHost } from './generation/serve.js';

/** One request as the fake received it. */
export interface LoggedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The query string without '?', '' when none. */
  query: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request handed to a route, with its body already read. */
export interface FakeRequest extends LoggedRequest {
  /** The body parsed as JSON; undefined when it is not JSON. */
  json(): unknown;
}

/** Handles one route. */
export type RouteHandler = (req: FakeRequest, res: ServerResponse) => void | Promise<void>;

/** Route table: keys are `METHOD /path` (HEAD falls back to the GET route, as real servers do). */
export type Routes = Record<string, RouteHandler>;

/** The interface every fake shares. */
export interface FakeBackend<S> {
  /** Listen (again), on 127.0.0.1 unless a host is given; the first start picks a free port unless one is given. */
  start(opts?: { port?: number; host?: string }): Promise<{ url: string }>;
  /** Close the listener and every open connection, like a killed server. Safe when stopped. */
  stop(): Promise<void>;
  /** Merge a patch into the state the routes answer from. */
  setState(patch: Partial<S>): void;
  readonly state: S;
  /** Every request received, oldest first. */
  readonly requests: LoggedRequest[];
  /** Base URL (http://127.0.0.1:port), valid after the first start. */
  readonly url: string;
}

/** Send a JSON body. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/** Send a text body. */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(text);
}

/** Shared machinery; each fake adds its routes and its answer to unknown routes. */
export abstract class FakeServer<S extends object> implements FakeBackend<S>, GenerationHost {
  readonly requests: LoggedRequest[] = [];
  /** Every generation request, oldest first, updated as each one progresses and ends. */
  readonly generations: GenerationRecord[] = [];
  /** Generation requests being answered now. */
  inflight = 0;
  /** The most generation requests ever answered at once. */
  maxInflightSeen = 0;
  /** TCP connections accepted since construction (keep-alive reuse shows as few). */
  connections = 0;
  private currentScript: GenerationScript = { ...DEFAULT_SCRIPT };
  private current: S;
  private server: Server | null = null;
  private port = 0;
  private host = '127.0.0.1';

  constructor(initial: S) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  get url(): string {
    // A wildcard bind is reached through loopback from the same box.
    const host = this.host === '0.0.0.0' || this.host === '::' ? '127.0.0.1' : this.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  setState(patch: Partial<S>): void {
    this.current = { ...this.current, ...patch };
  }

  /** The generation script in force. */
  get script(): GenerationScript {
    return this.currentScript;
  }

  /** Merge a patch into the generation script (reply, delays, failures, hang). */
  behave(patch: Partial<GenerationScript>): void {
    this.currentScript = { ...this.currentScript, ...patch };
  }

  /** The scripted failure to apply to the request arriving now, counting down failTimes. */
  takeFailure(): GenerationScript['failWith'] {
    const { failWith, failTimes } = this.currentScript;
    if (failWith === null) return null;
    if (failTimes !== null) {
      const left = failTimes - 1;
      this.currentScript = {
        ...this.currentScript,
        failTimes: left,
        ...(left <= 0 ? { failWith: null } : {}),
      };
    }
    return failWith;
  }

  /** Count a generation in; returns how many are in flight with it. */
  begin(record: GenerationRecord): number {
    this.generations.push(record);
    this.inflight += 1;
    this.maxInflightSeen = Math.max(this.maxInflightSeen, this.inflight);
    return this.inflight;
  }

  /** Count a generation out (it finished, failed, or its client left). */
  end(_record: GenerationRecord): void {
    this.inflight -= 1;
  }

  /** Requests received for one path (any method). */
  requestsTo(path: string): LoggedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async start(opts: { port?: number; host?: string } = {}): Promise<{ url: string }> {
    if (this.server) return { url: this.url };
    this.host = opts.host ?? this.host;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const [path = '/', query = ''] = (req.url ?? '/').split('?', 2);
        const logged: LoggedRequest = {
          method: req.method ?? 'GET',
          path,
          query,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(logged);
        void this.dispatch(logged, res);
      });
    });
    server.on('connection', () => {
      this.connections += 1;
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return { url: this.url };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    // Keep-alive sockets would otherwise keep answering from the "dead" server.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The routes, built from the current state on each request. */
  protected abstract routes(): Routes;

  /** The answer to a route the server does not have. */
  protected abstract notFound(req: FakeRequest, res: ServerResponse): void;

  /** A chance to answer before routing (e.g. 503 for everything while loading); true when handled. */
  protected intercept(_req: FakeRequest, _res: ServerResponse): boolean {
    return false;
  }

  private async dispatch(logged: LoggedRequest, res: ServerResponse): Promise<void> {
    const req: FakeRequest = {
      ...logged,
      json() {
        try {
          return JSON.parse(logged.body);
        } catch {
          return undefined;
        }
      },
    };
    try {
      if (this.intercept(req, res)) return;
      const routes = this.routes();
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const handler = routes[`${method} ${req.path}`];
      if (handler) await handler(req, res);
      else this.notFound(req, res);
    } catch (err) {
      if (!res.headersSent) sendText(res, 500, `fake server error: ${String(err)}`);
      else res.destroy();
    }
  }
}
