// Model servers behind an API key (`apiKeyEnv`): a real swarmd with an OpenAI-compatible server
// configured with a `/v1` URL and a llama.cpp router configured with `/v1/` (trailing slash), both
// answering 401 without their key. Requests through the gateway and `pause --unload` must send
// each server its key, and the key must show nowhere: not in status, nodes, models or the log.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateNodeId } from '../../../src/node/identity.js';
import { initSwarm } from '../../../src/security/store.js';
import { FakeLlamaCpp } from '../../fakes/llamacpp.js';
import { FakeOpenAi } from '../../fakes/openai.js';
import { startInBox } from '../../helpers/loopback-swarm.js';
import { createSandbox, type Sandbox, writeConfig } from '../../helpers/sandbox.js';
import { killAllSwarmd, type Swarmd } from '../../helpers/swarmd.js';
import { waitUntil } from '../../helpers/wait.js';

const OPENAI_KEY = 'sk-backend-openai-5f1c2e9a7b';
const LLAMA_KEY = 'sk-backend-llama-0d8e4a6c31';
const OPENAI_MODEL = 'keyed-chat';
const ROUTER_MODEL = 'ggml-org/keyed-router-GGUF:Q4_K_M';

let box: Sandbox;
let daemon: Swarmd;
let openai: FakeOpenAi;
let llama: FakeLlamaCpp;
let client: OpenAI;

beforeAll(async () => {
  box = await createSandbox();
  await initSwarm(box.dataDir, await loadOrCreateNodeId(box.dataDir));
  openai = new FakeOpenAi({ apiKey: OPENAI_KEY, models: [{ id: OPENAI_MODEL }] });
  openai.behave({ reply: 'hello with a key' });
  llama = new FakeLlamaCpp({ apiKey: LLAMA_KEY, router: [{ id: ROUTER_MODEL, status: 'loaded' }] });
  llama.behave({ reply: 'hello from the router' });
  const openaiUrl = (await openai.start()).url;
  const llamaUrl = (await llama.start()).url;
  const config = await writeConfig(box, {
    version: 1,
    backends: {
      servers: [
        { url: `${openaiUrl}/v1`, kind: 'openai', apiKeyEnv: 'TEST_OPENAI_BACKEND_KEY' },
        { url: `${llamaUrl}/v1/`, kind: 'llamacpp', apiKeyEnv: 'TEST_LLAMA_BACKEND_KEY' },
      ],
    },
  });
  box.env.TEST_OPENAI_BACKEND_KEY = OPENAI_KEY;
  box.env.TEST_LLAMA_BACKEND_KEY = LLAMA_KEY;
  daemon = await startInBox(box, ['--config', config]);
  client = new OpenAI({ baseURL: daemon.gatewayUrl(), apiKey: 'unused', maxRetries: 0 });
  // Both servers are probed with their keys, so both models are offered.
  await waitUntil(async () => {
    const out = await box.swarmctl(['models', '--json']);
    return out.stdout.includes(OPENAI_MODEL) && out.stdout.includes(ROUTER_MODEL);
  }, 'both keyed backends to list their models');
}, 60_000);

afterAll(async () => {
  await killAllSwarmd();
  await openai?.stop();
  await llama?.stop();
  await box?.remove();
});

const ask = (model: string, stream = false) =>
  stream
    ? client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] })
    : client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });

describe('backends that want an API key', () => {
  it('a request reaches a /v1-configured OpenAI-compatible server with its key', async () => {
    const reply = (await ask(OPENAI_MODEL)) as OpenAI.ChatCompletion;
    expect(reply.choices[0]?.message.content).toBe('hello with a key');
    expect(openai.generations.at(-1)?.authorization).toBe(`Bearer ${OPENAI_KEY}`);
  });

  it('a streamed request to a server configured with a trailing slash sends its key too', async () => {
    const stream = (await ask(ROUTER_MODEL, true)) as AsyncIterable<OpenAI.ChatCompletionChunk>;
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('hello from the router');
    expect(llama.generations.at(-1)?.authorization).toBe(`Bearer ${LLAMA_KEY}`);
  });

  it('pause --unload unloads the keyed llama.cpp router with its key', async () => {
    const paused = await box.swarmctl(['pause', '--unload', '--grace', '0s', '--json']);
    expect(paused.stderr).toBe('');
    expect(paused.code).toBe(0);
    const report = JSON.parse(paused.stdout) as {
      unload: Array<{ kind: string; outcome: string; models: string[]; detail: string | null }>;
    };
    expect(report.unload.find((entry) => entry.kind === 'llamacpp')).toMatchObject({
      outcome: 'unloaded',
      models: [ROUTER_MODEL],
    });
    const unloads = llama.requests.filter((r) => r.method === 'POST' && r.path === '/models/unload');
    expect(unloads.map((r) => r.headers.authorization)).toEqual([`Bearer ${LLAMA_KEY}`]);
    expect(llama.state.router).toEqual([{ id: ROUTER_MODEL, status: 'unloaded' }]);
    await box.swarmctl(['resume']);
  });

  it('the keys show nowhere: status, nodes, models, the log', async () => {
    const seen = [daemon.stdout, daemon.stderr];
    for (const command of ['status', 'nodes', 'models']) {
      const out = await box.swarmctl([command, '--json']);
      expect(out.code).toBe(0);
      seen.push(out.stdout, out.stderr);
    }
    for (const text of seen) {
      expect(text).not.toContain(OPENAI_KEY);
      expect(text).not.toContain(LLAMA_KEY);
    }
  });
});
