import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { MdnsSocket } from '../../../src/discovery/mdns-socket.js';
import { nameInUse } from '../../../src/discovery/probe.js';

const FQDN = 'aaaaaaaaaaaaaaaa._llmswarm._tcp.local';
const timing = { probes: 3, intervalMs: 10 };

// A socket that records queries and lets the test play responses.
function fakeSocket(onQuery: (socket: MdnsSocket) => void = () => {}): MdnsSocket & { queries: string[] } {
  const socket = Object.assign(new EventEmitter(), {
    queries: [] as string[],
    send() {},
    query(name: string, _type: string, cb: () => void) {
      socket.queries.push(name);
      cb();
      onQuery(socket);
    },
    respond() {},
  });
  return socket;
}

describe('nameInUse', () => {
  it('sends all probes and reports the name free when nobody answers', async () => {
    const socket = fakeSocket();
    expect(await nameInUse(socket, FQDN, { timing })).toBe(false);
    expect(socket.queries).toEqual([FQDN, FQDN, FQDN]);
    expect(socket.listenerCount('response')).toBe(0);
  });

  it('reports the name in use when another responder answers for it, in any case', async () => {
    const socket = fakeSocket((s) =>
      s.emit('response', { answers: [{ name: FQDN.toUpperCase(), type: 'SRV', ttl: 120 }], additionals: [] }),
    );
    expect(await nameInUse(socket, FQDN, { timing })).toBe(true);
  });

  it('does not take a goodbye or another name as a conflict', async () => {
    const socket = fakeSocket((s) =>
      s.emit('response', {
        answers: [
          { name: FQDN, type: 'SRV', ttl: 0 },
          { name: `b${FQDN.slice(1)}`, type: 'SRV', ttl: 120 },
        ],
      }),
    );
    expect(await nameInUse(socket, FQDN, { timing })).toBe(false);
  });

  it('stops when aborted', async () => {
    const socket = fakeSocket();
    const abort = new AbortController();
    const probing = nameInUse(socket, FQDN, {
      timing: { probes: 3, intervalMs: 1000 },
      signal: abort.signal,
    });
    abort.abort(new Error('stopping'));
    await expect(probing).rejects.toThrow('stopping');
    expect(socket.listenerCount('response')).toBe(0);
  });
});
