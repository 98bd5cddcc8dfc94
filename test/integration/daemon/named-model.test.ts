// A concrete model id is served by that model or fails with its own error; other models stand in
// only for tiers, aliases and `auto` (routing.fallback applies to those). A real swarmd with
// fake Ollamas and the default fallback: llama3.2:3b fails with a 500, empty:1b answers with no
// text (the quality gate's case), longctx:8b answers well and is in every unconfigured tier.
// (The context check and a paused holder are in test/unit/scheduling/plan.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateNodeId } from '../../../src/node/identity.js';
import { initSwarm } from '../../../src/security/store.js';
import { FakeOllama } from '../../fakes/ollama.js';
import { startInBox } from '../../helpers/loopback-swarm.js';
import { createSandbox, type Sandbox, writeConfig } from '../../helpers/sandbox.js';
import { killAllSwarmd } from '../../helpers/swarmd.js';
import { waitUntil } from '../../helpers/wait.js';

let box: Sandbox;
let url = '';
const fakes: FakeOllama[] = [];
let good: FakeOllama;

async function ollama(model: string, script: Parameters<FakeOllama['behave']>[0]) {
  const fake = new FakeOllama({ models: [{ name: model }], loaded: [{ name: model }] });
  fake.behave(script);
  fakes.push(fake);
  return { fake, url: (await fake.start()).url };
}

beforeAll(async () => {
  box = await createSandbox();
  await initSwarm(box.dataDir, await loadOrCreateNodeId(box.dataDir));
  const broken = await ollama('llama3.2:3b', { failWith: 'server-error' });
  const empty = await ollama('empty:1b', { reply: '' });
  const longctx = await ollama('longctx:8b', { reply: 'from longctx' });
  good = longctx.fake;
  const config = await writeConfig(box, {
    version: 1,
    backends: { servers: [broken, empty, longctx].map((f) => ({ url: f.url, kind: 'ollama' })) },
  });
  url = (await startInBox(box, ['--config', config])).gatewayUrl();
  await waitUntil(async () => {
    const out = await box.swarmctl(['models', '--json']);
    return ['llama3.2:3b', 'empty:1b', 'longctx:8b'].every((model) => out.stdout.includes(model));
  }, 'every backend to list its model');
}, 60_000);

afterAll(async () => {
  await killAllSwarmd();
  for (const fake of fakes) await fake.stop();
  await box?.remove();
});

async function chat(model: string) {
  const response = await fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { response, body: (await response.json()) as Record<string, unknown> };
}

const generations = () => good.generations.length;

describe('a named model is never silently replaced', () => {
  it('a backend 500 reaches the client as that model’s error, no stand-in tried', async () => {
    const before = generations();
    const { response, body } = await chat('llama3.2:3b');
    expect(response.status).toBe(500);
    expect(response.headers.get('x-swarm-model')).not.toBe('longctx:8b');
    expect(JSON.stringify(body)).not.toContain('longctx');
    expect(generations()).toBe(before);
  });

  it('a reply the gate would reject is returned as the model sent it', async () => {
    const before = generations();
    const { response, body } = await chat('empty:1b');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-swarm-model')).toBe('empty:1b');
    expect(response.headers.get('x-swarm-attempts')).toBe('1');
    expect((body.choices as { message: { content: string } }[])[0]?.message.content).toBe('');
    expect(generations()).toBe(before);
  });

  it('a tier still falls back past a failing or rejected model', async () => {
    for (let i = 0; i < 3; i++) {
      const { response } = await chat('fast');
      expect(response.status).toBe(200);
      expect(response.headers.get('x-swarm-model')).toBe('longctx:8b');
    }
  });
});
