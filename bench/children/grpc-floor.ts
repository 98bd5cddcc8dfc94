// Bench child: the gRPC floor. Serves the standard grpc.health.v1 Health service twice on
// 127.0.0.1 — insecure, and mTLS with the same credential shape swarmd's peers use (a CA that
// both sides trust, client certificate required) — and on the mTLS one a bidirectional echo
// (each message written back on the same call: the floor of a task-channel frame).
// Reads {caCertPem, nodeCertPem, nodeKeyPem} as JSON from the BENCH_GRPC_TLS variable, prints
// {"insecure": port, "tls": port}, stops on SIGTERM.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ECHO_SERVICE } from './grpc-echo.js';

const tls = JSON.parse(process.env.BENCH_GRPC_TLS ?? '{}') as {
  caCertPem: string;
  nodeCertPem: string;
  nodeKeyPem: string;
};

function bind(server: grpc.Server, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (err, port) => (err ? reject(err) : resolve(port))),
  );
}

const servers = [new grpc.Server(), new grpc.Server()];
for (const server of servers) new HealthImplementation({ '': 'SERVING' }).addToServer(server);
servers[1]!.addService(ECHO_SERVICE, {
  Echo: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    call.on('data', (message: Buffer) => call.write(message));
    call.on('end', () => call.end());
  },
});
const insecure = await bind(servers[0]!, grpc.ServerCredentials.createInsecure());
const secure = await bind(
  servers[1]!,
  // As src/security/grpc-credentials.ts serverCredentials().
  grpc.ServerCredentials.createSsl(
    Buffer.from(tls.caCertPem),
    [{ cert_chain: Buffer.from(tls.nodeCertPem), private_key: Buffer.from(tls.nodeKeyPem) }],
    true,
  ),
);
process.stdout.write(`${JSON.stringify({ insecure, tls: secure })}\n`);
process.on('SIGTERM', () => {
  for (const server of servers) server.forceShutdown();
  process.exit(0);
});
