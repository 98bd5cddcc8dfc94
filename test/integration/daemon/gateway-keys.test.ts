// API keys on the gateway: a key can carry its own privacy level, which its requests get
// unless their header says otherwise; without a key, or with a wrong one, the gateway refuses.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOllama } from '../../fakes/ollama.js';
import { rejected } from '../../helpers/expect-error.js';
import { pairBoxes, startInBox } from '../../helpers/loopback-swarm.js';
import { createSandbox, type Sandbox, writeConfig } from '../../helpers/sandbox.js';
import { killAllSwarmd } from '../../helpers/swarmd.js';

const PLAIN = 'sk-plain-0123456789abcdef';
const LOCAL = 'sk-local-0123456789abcdef';
let box: Sandbox;
let fake: FakeOllama;
let url = '';

beforeAll(async () => {
  box = await createSandbox();
  await pairBoxes(box);
  fake = new FakeOllama({ models: [{ name: 'm:1b' }], loaded: [{ name: 'm:1b' }] });
  const backend = (await fake.start()).url;
  const config = await writeConfig(box, {
    version: 1,
    gateway: { apiKeys: [PLAIN, { key: LOCAL, privacy: 'local' }] },
  });
  const daemon = await startInBox(box, ['--config', config, '--backend', backend]);
  url = daemon.gatewayUrl();
}, 60_000);

afterAll(async () => {
  await killAllSwarmd();
  await fake?.stop();
  await box?.remove();
});

const ask = (apiKey: string, headers: Record<string, string> = {}) =>
  new OpenAI({ baseURL: url, apiKey, maxRetries: 0 }).chat.completions
    .create({ model: 'm:1b', messages: [{ role: 'user', content: 'hi' }] }, { headers })
    .withResponse();

describe('gateway API keys', () => {
  it('gives a request the privacy configured for its key', async () => {
    const { response } = await ask(LOCAL);
    expect(response.headers.get('x-swarm-privacy')).toBe('local');
    expect(response.headers.get('x-swarm-privacy-reason')).toBe('api-key');
  });

  it('uses the default for a key with no privacy of its own', async () => {
    const { response } = await ask(PLAIN);
    expect(response.headers.get('x-swarm-privacy')).toBe('lan');
  });

  it('lets the header win over the key', async () => {
    const { response } = await ask(LOCAL, { 'x-swarm-privacy': 'lan' });
    expect(response.headers.get('x-swarm-privacy')).toBe('lan');
  });

  it('refuses a wrong key with 401 invalid_api_key', async () => {
    await rejected(ask('sk-wrong-0123456789abcdef'), OpenAI.AuthenticationError);
  });
});
