// A model server's plain 429 is a capacity refusal, not a failure: the request waits and queues
// like any busy target, up to routing.queueTimeout, and gets 429 with Retry-After (never 503)
// only when nothing took it by then. A real swarmd with one fake Ollama.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateNodeId } from '../../../src/node/identity.js';
import { initSwarm } from '../../../src/security/store.js';
import { openAiError } from '../../fakes/generation/errors.js';
import { FakeOllama } from '../../fakes/ollama.js';
import { startInBox } from '../../helpers/loopback-swarm.js';
import { createSandbox, type Sandbox, writeConfig } from '../../helpers/sandbox.js';
import { killAllSwarmd } from '../../helpers/swarmd.js';
import { waitUntil } from '../../helpers/wait.js';

let box: Sandbox;
let url = '';
let fake: FakeOllama;
const BUSY = openAiError(429, 'server busy, try again', { type: 'rate_limit_error' }, { 'retry-after': '1' });

beforeAll(async () => {
  box = await createSandbox();
  await initSwarm(box.dataDir, await loadOrCreateNodeId(box.dataDir));
  fake = new FakeOllama({ models: [{ name: 'busy:1b' }], loaded: [{ name: 'busy:1b' }] });
  const fakeUrl = (await fake.start()).url;
  const config = await writeConfig(box, {
    version: 1,
    backends: { servers: [{ url: fakeUrl, kind: 'ollama' }] },
    routing: { queueTimeout: '1500ms' },
  });
  url = (await startInBox(box, ['--config', config])).gatewayUrl();
  await waitUntil(
    async () => (await box.swarmctl(['models', '--json'])).stdout.includes('busy:1b'),
    'the backend to list its model',
  );
}, 60_000);

afterAll(async () => {
  await killAllSwarmd();
  await fake?.stop();
  await box?.remove();
});

const chat = () =>
  fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'busy:1b', messages: [{ role: 'user', content: 'hi' }] }),
  });

describe('a model server answering 429', () => {
  it('is waited for: the request is served once the server takes it', async () => {
    fake.behave({ failWith: BUSY, failTimes: 2, reply: 'finally' });
    const response = await chat();
    expect(response.status).toBe(200);
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe('finally');
  });

  it('answers 429 with Retry-After, never 503, when it stays full past the queue timeout', async () => {
    fake.behave({ failWith: BUSY, failTimes: null });
    const response = await chat();
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(response.headers.get('x-swarm-error-code')).toBe('SWARM_ERR_QUEUE_FULL');
  });
});
