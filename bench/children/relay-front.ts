// Bench child: the front half of the bare gRPC relay, the smallest version of swarmd's peer hop
// and so the floor of one in Node.js. A bare node:http server; each POST body becomes one frame
// (with an id) on ONE long-lived grpc-js bidirectional call to relay-back.ts, dialled with the
// channel credentials and options swarmd's peer client pool uses (mTLS, the server must be the
// expected node of our swarm). Answers arrive as frames on the same call and are matched to the
// waiting HTTP response by id. No routing, no parsing, no admission, no logging.
//   node --import tsx bench/children/relay-front.ts BACK_PORT BACK_NODE_ID
// Reads its credentials as JSON from BENCH_RELAY_TLS, listens on 127.0.0.1, prints one JSON line
// {"port": n}, stops on SIGTERM.
import { once } from 'node:events';
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { Credentials } from '../../src/security/credentials.js';
import { clientCredentials, peerChannelOptions } from '../../src/security/grpc-credentials.js';
import { decodeAnswer, encodeRequest, RELAY_SERVICE } from './relay-wire.js';

const [backPort, backNodeId] = process.argv.slice(2) as [string, string];
// Only the PEMs and the swarm id travel; they are all clientCredentials reads.
const creds = JSON.parse(process.env.BENCH_RELAY_TLS ?? '{}') as Credentials;

const client = new grpc.Client(
  `127.0.0.1:${backPort}`,
  clientCredentials(creds, backNodeId),
  peerChannelOptions(backNodeId),
);
const relay = RELAY_SERVICE['Relay']!;
const call = client.makeBidiStreamRequest(relay.path, relay.requestSerialize, relay.responseDeserialize);

/** HTTP responses waiting for their answer frame, by frame id. */
const pending = new Map<number, http.ServerResponse>();
let nextId = 0;

call.on('data', (frame: Buffer) => {
  const { id, status, contentType, body } = decodeAnswer(frame);
  const res = pending.get(id);
  if (!res) return;
  pending.delete(id);
  res.writeHead(status, { 'content-type': contentType, 'content-length': body.length }).end(body);
});
call.on('error', (err) => {
  // The relay is gone: fail what waits, and stop, so the bench sees it rather than hangs.
  for (const res of pending.values()) res.writeHead(502).end(String(err));
  process.stderr.write(`relay call failed: ${err.message}\n`);
  process.exit(1);
});

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const id = nextId;
    nextId = (nextId + 1) >>> 0;
    pending.set(id, res);
    call.write(encodeRequest(id, Buffer.concat(chunks)));
  });
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
process.on('SIGTERM', () => {
  call.end();
  client.close();
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
