// Bench child: the back half of the bare gRPC relay, the floor of a peer hop (see relay-front.ts).
// A grpc-js server with swarmd's peer mTLS (serverCredentials: our node certificate, a client
// certificate from the swarm CA required) serving one raw-bytes bidirectional method. Each request
// frame on a call is POSTed to the upstream (the fake Ollama) over a keep-alive http.Agent, and
// the whole answer goes back on the same call as one frame with the same id.
//   node --import tsx bench/children/relay-back.ts http://127.0.0.1:PORT/v1/chat/completions
// Reads its credentials as JSON from BENCH_RELAY_TLS, listens on 127.0.0.1, prints one JSON line
// {"port": n}, stops on SIGTERM.
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { Credentials } from '../../src/security/credentials.js';
import { serverCredentials } from '../../src/security/grpc-credentials.js';
import { decodeRequest, encodeAnswer, RELAY_SERVICE, type RelayAnswer } from './relay-wire.js';

const upstream = new URL(process.argv[2] ?? '');
// Only the PEMs and the swarm id travel; they are all serverCredentials reads.
const creds = JSON.parse(process.env.BENCH_RELAY_TLS ?? '{}') as Credentials;
const agent = new http.Agent({ keepAlive: true });

/** POST one body to the upstream and collect the whole answer. */
function forward(id: number, body: Buffer): Promise<RelayAnswer> {
  return new Promise((resolve) => {
    const req = http.request(
      upstream,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            id,
            status: res.statusCode ?? 502,
            contentType: res.headers['content-type'] ?? '',
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', (err) =>
      resolve({ id, status: 502, contentType: 'text/plain', body: Buffer.from(String(err)) }),
    );
    req.end(body);
  });
}

const server = new grpc.Server();
server.addService(RELAY_SERVICE, {
  Relay: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    call.on('data', (frame: Buffer) => {
      const { id, body } = decodeRequest(frame);
      void forward(id, body).then((answer) => call.write(encodeAnswer(answer)));
    });
    call.on('end', () => call.end());
  },
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', serverCredentials(creds), (err, bound) =>
    err ? reject(err) : resolve(bound),
  ),
);
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on('SIGTERM', () => {
  agent.destroy();
  server.forceShutdown();
  process.exit(0);
});
