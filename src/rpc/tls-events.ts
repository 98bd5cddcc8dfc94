// The TLS side of the peer port's connections. grpc-js runs TLS inside its own http2 server and
// says nothing about handshakes, so we listen on that server: `secureConnection` (a handshake
// finished: the listener stops its deadline) and `tlsClientError` (a handshake refused: logged).
// grpc-js keeps its http2 servers in a private field: if a release renames it, watched is false
// and the listener falls back to capping connections without a handshake deadline.
import type { Socket } from 'node:net';
import type * as grpc from '@grpc/grpc-js';

/** What the injector's TLS server reports, by the plain socket the listener accepted. */
export interface TlsEvents {
  secured(socket: Socket): void;
  refused(error: Error, socket: Socket | undefined): void;
}

interface TlsSocket {
  /** The plain socket under the TLS socket (Node keeps it here). */
  _parent?: Socket;
}

interface EventSource {
  on(event: 'secureConnection', listener: (socket: TlsSocket) => void): unknown;
  on(event: 'tlsClientError', listener: (error: Error, socket: TlsSocket) => void): unknown;
}

/** A grpc-js connection injector for `credentials`, with `events` told about its TLS handshakes. */
export function watchedInjector(
  server: grpc.Server,
  credentials: grpc.ServerCredentials,
  events: TlsEvents,
): { injector: grpc.ConnectionInjector; watched: boolean } {
  const http2Servers = (server as unknown as { http2Servers?: Map<EventSource, unknown> }).http2Servers;
  const before = new Set(http2Servers instanceof Map ? http2Servers.keys() : []);
  const injector = server.createConnectionInjector(credentials);
  if (!(http2Servers instanceof Map)) return { injector, watched: false };
  const created = [...http2Servers.keys()].filter((http2Server) => !before.has(http2Server));
  if (created.length !== 1) return { injector, watched: false };
  const http2Server = created[0]!;
  http2Server.on('secureConnection', (socket) => {
    if (socket._parent) events.secured(socket._parent);
  });
  http2Server.on('tlsClientError', (error, socket) => events.refused(error, socket._parent));
  return { injector, watched: true };
}

/** Turn an OpenSSL handshake error into words a person can act on. */
export function describeTlsRefusal(error: Error): string {
  const text = `${(error as { code?: string }).code ?? ''} ${error.message}`;
  if (/wrong version number|http request|unknown protocol|packet length too long/i.test(text)) {
    return 'plaintext (not TLS) connection refused: only swarm members speaking mTLS are served';
  }
  if (/peer did not return a certificate|certificate required/i.test(text)) {
    return 'TLS connection without a client certificate refused: only swarm members are served';
  }
  if (
    /unknown ca|certificate verify failed|unable to get|self.signed|bad certificate|unsupported certificate/i.test(
      text,
    )
  ) {
    return 'TLS connection with a certificate from another swarm (or an old one) refused: re-join with `swarmctl join <token>`';
  }
  if (/socket hang up|ECONNRESET/i.test(text)) {
    // The caller checks our certificate first and hangs up when it does not trust it.
    return 'TLS handshake broken off by the caller: a node of another swarm (or with old credentials) does not trust this swarm';
  }
  if (/no shared cipher|no suitable|handshake failure/i.test(text)) {
    return 'TLS handshake refused: this node is not in a swarm yet (swarmctl init / join)';
  }
  return `TLS handshake refused: ${error.message}`;
}
