import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { type MdnsSocket, watchSendErrors } from '../../../src/discovery/mdns-socket.js';

// multicast-dns's send(value, [rinfo], [cb]): a fake that fails every send the same way.
function failingSocket(err: Error | null): MdnsSocket & { targets: unknown[] } {
  const targets: unknown[] = [];
  const socket = Object.assign(new EventEmitter(), {
    targets,
    send(_value: unknown, rinfo?: unknown, cb?: (err?: Error | null) => void) {
      targets.push(rinfo);
      cb?.(err);
    },
    query() {},
    respond() {},
  });
  return socket;
}

describe('watchSendErrors', () => {
  it('reports send errors and still calls the caller back, with or without rinfo', () => {
    const socket = failingSocket(Object.assign(new Error('unreachable'), { code: 'ENETUNREACH' }));
    const seen: string[] = [];
    watchSendErrors(socket, (err) => seen.push((err as NodeJS.ErrnoException).code ?? ''));
    const results: unknown[] = [];
    socket.send({}, (err: unknown) => results.push(err));
    socket.send({}, { port: 5353, address: '224.0.0.251' }, (err) => results.push(err));
    socket.send({});
    expect(seen).toEqual(['ENETUNREACH', 'ENETUNREACH', 'ENETUNREACH']);
    expect(results).toHaveLength(2);
    expect(socket.targets).toEqual([null, { port: 5353, address: '224.0.0.251' }, undefined]);
  });

  it('stays silent when sends succeed', () => {
    const socket = failingSocket(null);
    const seen: unknown[] = [];
    watchSendErrors(socket, (err) => seen.push(err));
    socket.send({});
    expect(seen).toEqual([]);
  });
});
