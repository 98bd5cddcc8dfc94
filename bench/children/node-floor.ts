// Bench child: the floor of a local hop in Node.js. A bare node:http server that forwards each
// POST body to one upstream (the fake Ollama) over a keep-alive http.Agent and pipes the answer
// back (status, content-type, body). Nothing else: no routing, no parsing, no logging, so what it
// adds over calling the upstream directly is what any Node.js HTTP proxy adds at least.
//   node --import tsx bench/children/node-floor.ts http://127.0.0.1:PORT
// Listens on 127.0.0.1, prints one JSON line {"port": n}, stops on SIGTERM.
import { once } from 'node:events';
import http from 'node:http';

const upstream = new URL(process.argv[2] ?? '');
const agent = new http.Agent({ keepAlive: true });

const server = http.createServer((req, res) => {
  const forward = http.request(
    {
      host: upstream.hostname,
      port: upstream.port,
      path: req.url,
      method: req.method,
      agent,
      headers: {
        'content-type': req.headers['content-type'] ?? 'application/json',
        ...(req.headers['content-length'] ? { 'content-length': req.headers['content-length'] } : {}),
      },
    },
    (answer) => {
      const type = answer.headers['content-type'];
      res.writeHead(answer.statusCode ?? 502, type ? { 'content-type': type } : {});
      answer.pipe(res);
    },
  );
  forward.on('error', (err) => {
    res.writeHead(502).end(String(err));
  });
  req.pipe(forward);
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
process.on('SIGTERM', () => {
  agent.destroy();
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
