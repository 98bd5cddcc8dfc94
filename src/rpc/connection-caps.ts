// How many connections the peer port holds at once, counted in total and per source address,
// with a tighter cap on those still in their TLS handshake: that is the work a stranger can
// cause without credentials (about 50 KB of TLS state each). Pure: the listener asks and reports.

/** The caps of the peer port and how long a TLS handshake may take. */
export interface ConnectionLimits {
  /** A connection that has not finished its TLS handshake by then is closed. */
  handshakeTimeoutMs: number;
  /** Connections still in their TLS handshake, from all addresses together. */
  handshakes: number;
  /** Connections still in their TLS handshake from one source address. */
  handshakesPerSource: number;
  /** All connections, handshake finished or not. */
  connections: number;
  /** All connections from one source address. */
  connectionsPerSource: number;
}

/** The peer port's limits (README, Security). A member holds a few connections; a swarm is 2-10 boxes. */
export const PEER_PORT_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  handshakeTimeoutMs: 5_000,
  handshakes: 128,
  handshakesPerSource: 8,
  connections: 1_024,
  connectionsPerSource: 64,
});

/** Why a connection was turned away, in words for the log. */
export type CapRefusal = 'handshakes' | 'handshakesPerSource' | 'connections' | 'connectionsPerSource';

interface SourceCount {
  handshakes: number;
  connections: number;
}

/** Counts of open connections; admit() before serving one, then report secured() and closed(). */
export class ConnectionCaps {
  private handshakes = 0;
  private connections = 0;
  private readonly sources = new Map<string, SourceCount>();

  constructor(private readonly limits: Readonly<ConnectionLimits>) {}

  /** null (counted as handshaking from now on) or the cap that refuses it (not counted). */
  admit(source: string): CapRefusal | null {
    const count = this.sources.get(source) ?? { handshakes: 0, connections: 0 };
    if (this.connections >= this.limits.connections) return 'connections';
    if (count.connections >= this.limits.connectionsPerSource) return 'connectionsPerSource';
    if (this.handshakes >= this.limits.handshakes) return 'handshakes';
    if (count.handshakes >= this.limits.handshakesPerSource) return 'handshakesPerSource';
    this.handshakes += 1;
    this.connections += 1;
    count.handshakes += 1;
    count.connections += 1;
    this.sources.set(source, count);
    return null;
  }

  /** An admitted connection finished its handshake: it no longer counts as handshaking. */
  secured(source: string): void {
    const count = this.sources.get(source);
    if (!count || count.handshakes === 0) return;
    count.handshakes -= 1;
    this.handshakes -= 1;
  }

  /** An admitted connection closed; `handshaking` says whether it was still in its handshake. */
  closed(source: string, handshaking: boolean): void {
    const count = this.sources.get(source);
    if (!count || count.connections === 0) return;
    count.connections -= 1;
    this.connections -= 1;
    if (handshaking && count.handshakes > 0) {
      count.handshakes -= 1;
      this.handshakes -= 1;
    }
    if (count.connections === 0) this.sources.delete(source);
  }

  /** Current totals (for tests and logs). */
  totals(): { handshakes: number; connections: number; sources: number } {
    return { handshakes: this.handshakes, connections: this.connections, sources: this.sources.size };
  }
}

/** The cap a refusal hit, for a log line: "8 handshakes from 10.0.0.5 already pending". */
export function describeCapRefusal(
  refusal: CapRefusal,
  source: string,
  limits: Readonly<ConnectionLimits>,
): string {
  switch (refusal) {
    case 'handshakes':
      return `${limits.handshakes} TLS handshakes already pending on the peer port`;
    case 'handshakesPerSource':
      return `${limits.handshakesPerSource} TLS handshakes from ${source} already pending`;
    case 'connections':
      return `the peer port already holds ${limits.connections} connections`;
    case 'connectionsPerSource':
      return `${source} already holds ${limits.connectionsPerSource} connections to the peer port`;
  }
}

/** One key per source address: an IPv4 peer on a dual-stack socket ("::ffff:10.0.0.5") is "10.0.0.5". */
export function sourceKey(remoteAddress: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  return mapped ? mapped[1]! : remoteAddress.toLowerCase();
}
