// Shared bits of the backend integration tests: a probe context and fakes torn down after each test.
import { afterEach } from 'vitest';
import type { ProbeContext } from '../../../src/backends/adapter.js';
import type { FakeBackend } from '../../fakes/fake-server.js';

/** A probe context with short deadlines and default concurrency 4. */
export function probeCtx(extra: Partial<ProbeContext> = {}): ProbeContext {
  return { timeoutMs: 2000, defaultMaxConcurrency: 4, modelOverrides: {}, ...extra };
}

/** Start a fake now and stop it after the current test. */
export function useFakes(): <F extends FakeBackend<unknown>>(fake: F, port?: number) => Promise<F> {
  const started: Array<FakeBackend<unknown>> = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((f) => f.stop()));
  });
  return async (fake, port) => {
    started.push(fake);
    await fake.start(port === undefined ? {} : { port });
    return fake;
  };
}

/** A port nothing listens on: a server that was started and stopped. */
export async function closedPortUrl(): Promise<string> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
