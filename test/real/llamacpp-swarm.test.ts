// The whole swarm path with a real model server: two real swarmd processes on loopback, bravo
// with a real llama-server (--alias tiny) as its backend, alpha with none. Clients (`openai`, the
// AI SDK) talk to alpha's gateway; bravo serves over the peer hop, streamed and whole. Then the
// llama-server restarts under bravo's running swarmd, and requests are served again.
//
// Structured output makes the random model end on its own (finish_reason "stop"); a plain
// request stops at max_tokens ("length") and reaches the client as llama-server sent it.
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, Output, streamText } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadOrCreateNodeId } from '../../src/node/identity.js';
import { initSwarm, joinSwarm } from '../../src/security/store.js';
import { ensureBuilt } from '../helpers/build.js';
import { LlamaServer, stopAllLlamaServers } from '../helpers/llama-server.js';
import { waitForPeer } from '../helpers/loopback-swarm.js';
import { createSandbox, loopbackFlags, type Sandbox, writeConfig } from '../helpers/sandbox.js';
import { killAllSwarmd, type Swarmd, startSwarmd } from '../helpers/swarmd.js';
import { waitUntil } from '../helpers/wait.js';

let llama: LlamaServer;
let a: Sandbox;
let b: Sandbox;
let alpha: Swarmd;
let client: OpenAI;

beforeAll(async () => {
  await ensureBuilt();
  llama = await LlamaServer.start({ alias: 'tiny', ctx: 1024, parallel: 2 });
  [a, b] = [await createSandbox(), await createSandbox()];
  const { token } = await initSwarm(a.dataDir, await loadOrCreateNodeId(a.dataDir));
  await joinSwarm(b.dataDir, await loadOrCreateNodeId(b.dataDir), token);
  alpha = await startSwarmd([...loopbackFlags(a), '--name', 'alpha'], { env: a.env });
  // bravo probes its backend often, so the restart below is seen quickly.
  const config = await writeConfig(b, { backends: { probeInterval: '300ms' } });
  await startSwarmd(
    [
      ...loopbackFlags(b),
      '--config',
      config,
      '--name',
      'bravo',
      '--backend',
      llama.url,
      '--peer',
      `127.0.0.1:${alpha.peerPort()}`,
    ],
    { env: b.env },
  );
  await waitForPeer(a, 'bravo', ['tiny']);
  client = new OpenAI({ baseURL: alpha.gatewayUrl(), apiKey: 'unused', maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await killAllSwarmd();
  await stopAllLlamaServers();
  await Promise.all([a?.remove(), b?.remove()]);
});

const YES_NO = {
  type: 'json_schema' as const,
  json_schema: {
    name: 'verdict',
    strict: true,
    schema: {
      type: 'object',
      properties: { answer: { type: 'string', enum: ['yes', 'no'] } },
      required: ['answer'],
      additionalProperties: false,
    },
  },
};

describe('a real llama-server behind a peer, through the openai client', () => {
  it('lists the peer’s model with its per-slot context', async () => {
    const models = await client.models.list();
    const ids = models.data.map((m) => m.id);
    expect(ids).toContain('tiny');
    // Only what can be served now: tiers and auto over tiny, no cloud without a provider.
    expect(ids).toEqual(expect.arrayContaining(['fast', 'deep', 'auto']));
    expect(ids).not.toContain('cloud');
    const out = await a.swarmctl(['models', '--json']);
    const tiny = (
      JSON.parse(out.stdout) as { models: Array<{ id: string; maxContextLength: number | null }> }
    ).models.find((m) => m.id === 'tiny');
    expect(tiny?.maxContextLength).toBe(512);
  });

  it('answers a whole chat, served by bravo', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'tiny', messages: [{ role: 'user', content: 'yes or no?' }], response_format: YES_NO })
      .withResponse();
    expect(response.headers.get('x-swarm-node')).toBe('bravo');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(JSON.parse(data.choices[0]?.message.content ?? '')).toMatchObject({
      answer: expect.stringMatching(/^(yes|no)$/),
    });
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('answers a whole chat cut off by max_tokens as llama-server did: 200, finish_reason length', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'tiny', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 })
      .withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-swarm-node')).toBe('bravo');
    expect(response.headers.get('x-swarm-attempts')).toBe('1');
    expect(response.headers.get('x-swarm-quality')).toBeNull();
    expect(data.choices[0]?.finish_reason).toBe('length');
    expect(data.usage?.completion_tokens).toBe(16);
    expect(data.model).toBe('tiny');
  });

  it('streams a chat from bravo, with usage in the stream', async () => {
    const stream = await client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Say hello.' }],
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(12);
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
  });
});

describe('a real llama-server behind a peer, through the AI SDK', () => {
  const provider = () =>
    createOpenAICompatible({
      name: 'swarm',
      baseURL: alpha.gatewayUrl(),
      includeUsage: true,
      supportsStructuredOutputs: true,
    });

  it('generates a structured object', async () => {
    const result = await generateText({
      model: provider()('tiny'),
      output: Output.object({ schema: z.object({ answer: z.enum(['yes', 'no']) }) }),
      prompt: 'yes or no?',
      maxRetries: 0,
    });
    expect(['yes', 'no']).toContain(result.output.answer);
    expect(result.finishReason).toBe('stop');
    expect(result.usage.outputTokens).toBeGreaterThan(0);
  });

  it('streams text with usage', async () => {
    const result = streamText({
      model: provider()('tiny'),
      prompt: 'Say hello.',
      maxOutputTokens: 10,
      maxRetries: 0,
    });
    let text = '';
    for await (const part of result.textStream) text += part;
    expect(text.length).toBeGreaterThan(0);
    expect(await result.finishReason).toBe('length');
    expect((await result.usage).outputTokens).toBe(10);
  });
});

describe('the llama-server restarting under a running swarmd', () => {
  it('drops the model while the server is down and serves it again once it is back', async () => {
    const port = llama.port;
    await llama.kill();
    await waitUntil(
      async () => !(await client.models.list()).data.some((m) => m.id === 'tiny'),
      'alpha to stop listing tiny',
    );
    const refused = await client.chat.completions
      .create({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, stream: true })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(OpenAI.APIError);

    llama = await LlamaServer.start({ alias: 'tiny', ctx: 1024, parallel: 2, port });
    await waitForPeer(a, 'bravo', ['tiny']);
    const stream = await client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Say hello.' }],
      max_tokens: 6,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text.length).toBeGreaterThan(0);
  });
});
