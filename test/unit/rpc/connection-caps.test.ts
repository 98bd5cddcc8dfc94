import { describe, expect, it } from 'vitest';
import {
  ConnectionCaps,
  type ConnectionLimits,
  describeCapRefusal,
  PEER_PORT_LIMITS,
  sourceKey,
} from '../../../src/rpc/connection-caps.js';

const LIMITS: ConnectionLimits = {
  handshakeTimeoutMs: 1000,
  handshakes: 4,
  handshakesPerSource: 2,
  connections: 6,
  connectionsPerSource: 3,
};

describe('ConnectionCaps', () => {
  it('holds at most handshakesPerSource handshakes from one address, others still get in', () => {
    const caps = new ConnectionCaps(LIMITS);
    expect(caps.admit('10.0.0.9')).toBeNull();
    expect(caps.admit('10.0.0.9')).toBeNull();
    expect(caps.admit('10.0.0.9')).toBe('handshakesPerSource');
    expect(caps.admit('10.0.0.7')).toBeNull();
    expect(caps.totals()).toEqual({ handshakes: 3, connections: 3, sources: 2 });
  });

  it('holds at most `handshakes` in total, whatever the number of addresses', () => {
    const caps = new ConnectionCaps(LIMITS);
    for (let i = 1; i <= 4; i++) expect(caps.admit(`10.0.0.${i}`)).toBeNull();
    expect(caps.admit('10.0.0.5')).toBe('handshakes');
    expect(caps.totals().handshakes).toBe(4);
  });

  it('a finished handshake frees its handshake slot but still counts as a connection', () => {
    const caps = new ConnectionCaps(LIMITS);
    caps.admit('10.0.0.9');
    caps.admit('10.0.0.9');
    caps.secured('10.0.0.9');
    expect(caps.admit('10.0.0.9')).toBeNull();
    // Three connections from that address now: the per-address connection cap.
    caps.secured('10.0.0.9');
    expect(caps.admit('10.0.0.9')).toBe('connectionsPerSource');
    expect(caps.totals()).toEqual({ handshakes: 1, connections: 3, sources: 1 });
  });

  it('caps all connections in total', () => {
    const caps = new ConnectionCaps(LIMITS);
    for (let i = 1; i <= 6; i++) {
      expect(caps.admit(`10.0.0.${i}`)).toBeNull();
      caps.secured(`10.0.0.${i}`);
    }
    expect(caps.admit('10.0.0.7')).toBe('connections');
  });

  it('a closed connection gives back what it held, and an address with none is forgotten', () => {
    const caps = new ConnectionCaps(LIMITS);
    caps.admit('10.0.0.9');
    caps.admit('10.0.0.9');
    caps.secured('10.0.0.9');
    caps.closed('10.0.0.9', false);
    expect(caps.totals()).toEqual({ handshakes: 1, connections: 1, sources: 1 });
    caps.closed('10.0.0.9', true);
    expect(caps.totals()).toEqual({ handshakes: 0, connections: 0, sources: 0 });
    // Reports for an address it does not hold change nothing.
    caps.closed('10.0.0.9', true);
    caps.secured('10.0.0.9');
    expect(caps.totals()).toEqual({ handshakes: 0, connections: 0, sources: 0 });
  });

  it('says which cap refused, with the number and the address', () => {
    expect(describeCapRefusal('handshakesPerSource', '10.0.0.9', LIMITS)).toBe(
      '2 TLS handshakes from 10.0.0.9 already pending',
    );
    expect(describeCapRefusal('connections', '10.0.0.9', LIMITS)).toContain('6 connections');
  });

  it('ships a handshake deadline of a few seconds and a per-address cap below the total', () => {
    expect(PEER_PORT_LIMITS.handshakeTimeoutMs).toBeLessThanOrEqual(10_000);
    expect(PEER_PORT_LIMITS.handshakesPerSource).toBeLessThan(PEER_PORT_LIMITS.handshakes);
    expect(PEER_PORT_LIMITS.connectionsPerSource).toBeLessThan(PEER_PORT_LIMITS.connections);
  });
});

describe('sourceKey', () => {
  it('counts an IPv4 peer on a dual-stack socket as its IPv4 address', () => {
    expect(sourceKey('::ffff:10.0.0.5')).toBe('10.0.0.5');
    expect(sourceKey('10.0.0.5')).toBe('10.0.0.5');
    expect(sourceKey('FE80::1')).toBe('fe80::1');
  });
});
