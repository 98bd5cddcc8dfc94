// Report TLS handshakes the peer port refuses (plaintext, another swarm's or no client
// certificate). grpc-js handles these inside its http2 server and says nothing, so we
// listen on that server's `tlsClientError`. grpc-js keeps its http2 servers in a private
// field: if a release renames it, we lose these log lines, never the refusal itself.
import type { Server } from '@grpc/grpc-js';

type TlsErrorListener = (error: Error, remoteAddress: string) => void;

interface RawSocket {
  remoteAddress?: string;
}

interface TlsSocket extends RawSocket {
  /** The plain socket under the TLS socket (Node keeps it here). */
  _parent?: RawSocket;
}

interface EventSource {
  on(event: 'connection', listener: (socket: RawSocket) => void): unknown;
  on(event: 'tlsClientError', listener: (error: Error, socket: TlsSocket) => void): unknown;
}

/** Call `listener` for every refused TLS handshake on the server's bound ports; false if unsupported. */
export function watchTlsRefusals(server: Server, listener: TlsErrorListener): boolean {
  const http2Servers = (server as unknown as { http2Servers?: Map<EventSource, unknown> }).http2Servers;
  if (!(http2Servers instanceof Map)) return false;
  // A caller that hangs up mid-handshake leaves a socket with no address: note it on connect.
  const remotes = new WeakMap<RawSocket, string>();
  for (const http2Server of http2Servers.keys()) {
    http2Server.on('connection', (socket) => {
      if (socket.remoteAddress) remotes.set(socket, socket.remoteAddress);
    });
    http2Server.on('tlsClientError', (error, socket) => {
      const remote = socket.remoteAddress ?? (socket._parent && remotes.get(socket._parent)) ?? 'unknown';
      listener(error, remote);
    });
  }
  return true;
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
