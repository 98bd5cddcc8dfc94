// The peer port's TCP listener, owned by swarmd rather than grpc-js, which has neither a
// connection cap nor a short TLS handshake deadline (Node's default is 120 s). Each accepted
// socket is counted (connection-caps.ts), handed to grpc-js's connection injector (which runs
// TLS and HTTP/2 as a bound port would, so the caller's certificate stays visible to every
// handler), and closed when its TLS handshake has not finished within the deadline. Accept
// errors (EMFILE when file handles run out) are logged and the port keeps listening.
import { promises as dns } from 'node:dns';
import { createServer, type Server, type Socket } from 'node:net';
import { ErrorCodes, errorMessage, SwarmError } from '../errors.js';
import type { LogBudget } from '../util/log-budget.js';
import type { Logger } from '../util/logger.js';
import {
  type CapRefusal,
  ConnectionCaps,
  type ConnectionLimits,
  describeCapRefusal,
  sourceKey,
} from './connection-caps.js';

/** Where to listen, what to do with each admitted socket, and the limits. */
export interface PeerListenerInit {
  host: string;
  port: number;
  limits: Readonly<ConnectionLimits>;
  /**
   * True when `inject` runs TLS and the caller will report secured(): until then a socket counts
   * as handshaking and is closed at the deadline. False: counted as connected at once.
   */
  tls: boolean;
}

interface Tracked {
  source: string;
  handshaking: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** A TCP listener on host:port (every address host resolves to) that caps what strangers hold. */
export class PeerListener {
  private readonly servers: Server[] = [];
  private readonly caps: ConnectionCaps;
  private readonly tracked = new Map<Socket, Tracked>();
  /** Sockets we closed at the deadline: their TLS error is ours, not the caller's. */
  private readonly expired = new WeakSet<Socket>();
  /** Source of every socket accepted, kept past its close for the TLS error that follows. */
  private readonly sources = new WeakMap<Socket, string>();
  private readonly logger: Logger;
  private readonly budget: LogBudget;
  private readonly inject: (socket: Socket) => void;
  /** The port bound (differs from init.port when that was 0). */
  port = 0;

  constructor(
    components: { logger: Logger; budget: LogBudget; inject: (socket: Socket) => void },
    private readonly init: PeerListenerInit,
  ) {
    this.logger = components.logger;
    this.budget = components.budget;
    this.inject = components.inject;
    this.caps = new ConnectionCaps(init.limits);
  }

  /** Listen on every address the host resolves to (as grpc-js would), all on one port. */
  async start(): Promise<void> {
    const where = formatAddress(this.init.host, this.init.port);
    let addresses: string[];
    try {
      addresses = (await dns.lookup(this.init.host, { all: true })).map((entry) => entry.address);
    } catch (err) {
      throw listenError(where, err);
    }
    const errors: unknown[] = [];
    let port = this.init.port;
    for (const address of addresses) {
      try {
        this.servers.push(await this.listenOn(address, port));
        // Port 0: the first address picks the port, the others take the same one.
        port = this.port;
      } catch (err) {
        errors.push(err);
      }
    }
    if (this.servers.length === 0) throw listenError(where, errors[0]);
    if (errors.length > 0) {
      this.logger.warn(
        { host: this.init.host, port: this.port, err: errorMessage(errors[0]) },
        `peer port listens on ${this.servers.length} of the ${addresses.length} addresses ${this.init.host} resolves to`,
      );
    }
  }

  private listenOn(address: string, port: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket));
      server.once('error', reject);
      server.listen({ host: address, port }, () => {
        server.off('error', reject);
        // From now on an error is a failed accept (EMFILE, ENFILE): log it and keep listening.
        server.on('error', (err) => this.acceptFailed(err));
        const bound = server.address();
        if (bound && typeof bound !== 'string') this.port = bound.port;
        resolve(server);
      });
    });
  }

  private accept(socket: Socket): void {
    // A reset before the handshake must not become an unhandled 'error' event.
    socket.on('error', () => {});
    const remote = socket.remoteAddress;
    if (remote === undefined) {
      socket.destroy();
      return;
    }
    const source = sourceKey(remote);
    this.sources.set(socket, source);
    const refusal = this.caps.admit(source);
    if (refusal) {
      this.refuse(socket, source, refusal);
      return;
    }
    const entry: Tracked = { source, handshaking: this.init.tls, timer: undefined };
    this.tracked.set(socket, entry);
    socket.once('close', () => {
      clearTimeout(entry.timer);
      this.tracked.delete(socket);
      this.caps.closed(source, entry.handshaking);
    });
    if (entry.handshaking) {
      // setImmediate: handshake bytes that arrived while this process was busy are read first.
      entry.timer = setTimeout(
        () => setImmediate(() => this.expire(socket, entry)),
        this.init.limits.handshakeTimeoutMs,
      );
      entry.timer.unref();
    } else {
      this.caps.secured(source);
    }
    this.inject(socket);
  }

  /** The TLS handshake of a socket we accepted finished: it is a member's connection now. */
  secured(socket: Socket): void {
    const entry = this.tracked.get(socket);
    if (!entry?.handshaking) return;
    entry.handshaking = false;
    clearTimeout(entry.timer);
    this.caps.secured(entry.source);
  }

  /** The source address of a socket we accepted. */
  sourceOf(socket: Socket): string | undefined {
    return this.sources.get(socket);
  }

  /** True for a socket this listener closed at the handshake deadline. */
  closedAtDeadline(socket: Socket): boolean {
    return this.expired.has(socket);
  }

  /** Connections held now (for tests and diagnostics). */
  totals(): { handshakes: number; connections: number; sources: number } {
    return this.caps.totals();
  }

  private expire(socket: Socket, entry: Tracked): void {
    if (!entry.handshaking || socket.destroyed) return;
    this.expired.add(socket);
    socket.destroy();
    this.log(
      { remote: entry.source },
      `TLS handshake from ${entry.source} not finished within ${this.init.limits.handshakeTimeoutMs} ms: connection closed`,
    );
  }

  private refuse(socket: Socket, source: string, refusal: CapRefusal): void {
    // A reset frees the socket at once on both ends (no TIME_WAIT here).
    socket.resetAndDestroy();
    this.log(
      { remote: source, cap: refusal },
      `connection from ${source} refused: ${describeCapRefusal(refusal, source, this.init.limits)}`,
    );
  }

  private acceptFailed(err: Error): void {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EMFILE' || code === 'ENFILE'
        ? 'this process is out of file handles (raise LimitNOFILE or `ulimit -n`)'
        : errorMessage(err);
    this.log({ err: errorMessage(err) }, `peer port could not accept a connection: ${why}`);
  }

  /** Lines strangers can cause share the peer port's budget; the next line says what was left out. */
  private log(fields: Record<string, unknown>, msg: string): void {
    const line = this.budget.take();
    if (!line) return;
    const { suppressed } = line;
    this.logger.warn(
      { ...fields, ...(suppressed > 0 && { suppressed }) },
      suppressed > 0 ? `${msg} (${suppressed} more lines were not logged)` : msg,
    );
  }

  /**
   * Stop accepting and close every connection still in its handshake; the others stay with
   * grpc-js until its shutdown ends them. Does not wait: a listener's close waits for every
   * connection it accepted. Safe to call twice.
   */
  close(): void {
    for (const server of this.servers.splice(0)) server.close();
    for (const [socket, entry] of this.tracked) if (entry.handshaking) socket.destroy();
  }

  /** Close every connection still open (after grpc-js's shutdown had its grace). */
  destroyAll(): void {
    for (const socket of this.tracked.keys()) socket.destroy();
  }
}

function formatAddress(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** A listen failure as the SwarmError the daemon prints: what was in the way and what to do. */
function listenError(where: string, err: unknown): SwarmError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new SwarmError(
      ErrorCodes.PORT_IN_USE,
      `cannot listen on ${where}: the address is in use (another swarmd? set peer.port / --port to another port)`,
      { cause: err },
    );
  }
  return new SwarmError(ErrorCodes.PORT_IN_USE, `cannot listen on ${where}: ${errorMessage(err)}`, {
    cause: err,
  });
}
