import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, getText, postJson, requestText } from '../../../src/backends/http.js';
import { BackendError, ErrorCodes } from '../../../src/errors.js';
import { FakeOpenAi } from '../../fakes/openai.js';
import { rejected } from '../../helpers/expect-error.js';
import { closedPortUrl } from './helpers.js';

let server: Server | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('backend http helper', () => {
  it('reads JSON and sends the API key', async () => {
    let auth: string | undefined;
    const url = await serve((req, res) => {
      auth = req.headers.authorization;
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    expect(await getJson(`${url}/x`, { timeoutMs: 1000, apiKey: 'k1' })).toEqual({ ok: true });
    expect(auth).toBe('Bearer k1');
  });

  it('posts a JSON body', async () => {
    let seen = '';
    const url = await serve((req, res) => {
      req.on('data', (c) => {
        seen += c;
      });
      req.on('end', () => res.end(seen));
    });
    expect(await postJson(`${url}/echo`, { a: 1 }, { timeoutMs: 1000 })).toEqual({ a: 1 });
  });

  it('gets through after the server restarts on the same port (stale keep-alive sockets)', async () => {
    const fake = new FakeOpenAi({ models: [{ id: 'a' }] });
    try {
      await fake.start();
      const port = Number(new URL(fake.url).port);
      const many = () =>
        Promise.all([1, 2, 3, 4, 5, 6].map(() => getJson(`${fake.url}/v1/models`, { timeoutMs: 1000 })));
      await many();
      await fake.stop();
      await fake.start({ port });
      expect(await many()).toHaveLength(6);
    } finally {
      await fake.stop();
    }
  });

  it('turns a refused connection into BACKEND_UNREACHABLE', async () => {
    const url = await closedPortUrl();
    await expect(getJson(`${url}/x`, { timeoutMs: 1000 })).rejects.toMatchObject({
      code: ErrorCodes.BACKEND_UNREACHABLE,
    });
  });

  it('turns a silent server into BACKEND_UNREACHABLE after the timeout', async () => {
    const url = await serve(() => {
      // never answers
    });
    const started = Date.now();
    await expect(getText(`${url}/slow`, { timeoutMs: 150 })).rejects.toMatchObject({
      code: ErrorCodes.BACKEND_UNREACHABLE,
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('turns an unparsable body or a non-2xx status into BACKEND_BAD_RESPONSE', async () => {
    const url = await serve((req, res) => {
      if (req.url === '/text') res.end('not json');
      else {
        res.statusCode = 500;
        res.end('{"error":"x"}');
      }
    });
    await expect(getJson(`${url}/text`, { timeoutMs: 1000 })).rejects.toMatchObject({
      code: ErrorCodes.BACKEND_BAD_RESPONSE,
    });
    await expect(getJson(`${url}/500`, { timeoutMs: 1000 })).rejects.toMatchObject({
      code: ErrorCodes.BACKEND_BAD_RESPONSE,
    });
    // requestText itself does not judge the status.
    expect((await requestText(`${url}/500`, { timeoutMs: 1000 })).status).toBe(500);
  });

  it('rejects with the caller signal reason, not a BackendError, when the caller aborts', async () => {
    const url = await serve(() => {
      // never answers
    });
    const controller = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => controller.abort(reason), 50);
    const outcome = await rejected(getText(`${url}/x`, { timeoutMs: 5000, signal: controller.signal }));
    expect(outcome).toBe(reason);
    expect(outcome).not.toBeInstanceOf(BackendError);
  });
});
