// The multicast-dns socket inside bonjour-service, typed just enough for what we need from it:
// its bind/error events (bonjour adds no 'error' listener, so an error event would crash the
// process) and its send errors (bonjour passes announce and query sends a callback that
// ignores the error, so with no multicast route it reports "up" while nobody hears it).
import type { EventEmitter } from 'node:events';
import type { Bonjour } from 'bonjour-service';
import { ConfigError, ErrorCodes, SwarmError } from '../errors.js';

const BIND_TIMEOUT_MS = 5000;

/** One resource record of a received packet. */
export interface MdnsRecord {
  name: string;
  type: string;
  ttl?: number;
}

/** A decoded mDNS packet. */
export interface MdnsPacket {
  answers?: MdnsRecord[];
  additionals?: MdnsRecord[];
}

type SendCallback = (err?: Error | null) => void;

/** The multicast-dns instance (multicast-dns 7) that bonjour-service drives. */
export interface MdnsSocket extends EventEmitter {
  send(value: unknown, rinfo?: unknown, cb?: SendCallback): void;
  query(name: string, type: string, cb: SendCallback): void;
  /** Send a response (answers, additionals) to the group. */
  respond(packet: { answers: unknown[]; additionals?: unknown[] }, cb?: SendCallback): void;
}

/** The multicast-dns socket of a Bonjour instance (a private field of bonjour-service 1.4). */
export function mdnsSocketOf(bonjour: Bonjour): MdnsSocket {
  const server = (bonjour as unknown as { server?: { mdns?: MdnsSocket } }).server;
  if (!server?.mdns || typeof server.mdns.send !== 'function') {
    throw new Error('bonjour-service internals changed: Bonjour.server.mdns not found');
  }
  return server.mdns;
}

/**
 * Route every send through `onError` as well as the caller's callback. multicast-dns sends
 * queries and responses through `send`, so this sees the errors bonjour drops.
 */
export function watchSendErrors(mdns: MdnsSocket, onError: (err: Error) => void): void {
  const send = mdns.send.bind(mdns);
  mdns.send = (value: unknown, rinfo?: unknown, cb?: SendCallback): void => {
    const callback = typeof rinfo === 'function' ? (rinfo as SendCallback) : cb;
    const target = typeof rinfo === 'function' ? null : rinfo;
    send(value, target, (err?: Error | null) => {
      if (err) onError(err);
      callback?.(err);
    });
  };
}

/** Wait until the socket is bound; rejects with advice when it cannot bind. */
export function waitForBind(
  mdns: MdnsSocket,
  address: string | undefined,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      mdns.removeListener('ready', onReady);
      mdns.removeListener('error', onError);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onReady = (): void => done();
    const onError = (err: NodeJS.ErrnoException): void => done(bindError(err, address));
    const onAbort = (): void => done(signal.reason as Error);
    const timer = setTimeout(
      () =>
        done(new SwarmError(ErrorCodes.PORT_IN_USE, 'the mDNS socket (UDP 5353) did not bind within 5 s')),
      BIND_TIMEOUT_MS,
    );
    mdns.once('ready', onReady);
    mdns.once('error', onError);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

// Say what to do about a failed bind of UDP 5353 (multicast-dns binds `bind ?? interface`).
function bindError(err: NodeJS.ErrnoException, address: string | undefined): SwarmError {
  if (err.code === 'EADDRNOTAVAIL') {
    return new ConfigError(
      `cannot bind the mDNS socket to ${address}: no interface of this box has that address; ` +
        'fix discovery.mdns.bind / discovery.mdns.interface',
      { cause: err },
    );
  }
  return new SwarmError(
    ErrorCodes.PORT_IN_USE,
    `cannot bind the mDNS socket (UDP 5353${address ? ` on ${address}` : ''}): ${err.code ?? err.message}; ` +
      'another program may hold the port without address reuse (swarmctl doctor tells which), ' +
      'or turn mDNS off (discovery.mdns.enabled=false) and list peers',
    { cause: err },
  );
}
