// Two real swarmd processes on loopback (paired, static peers) with a fake Ollama each, and
// the real `openai` client against node A's gateway: a model only node B has is served by B
// over the peer task transport; A's own model is served locally; unknown names are 404s.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejected } from '../../helpers/expect-error.js';
import { startTwoNodeSwarm, type TwoNodeSwarm } from '../../helpers/loopback-swarm.js';

let swarm: TwoNodeSwarm;
let clientA: OpenAI;
const nameB = 'bravo';

beforeAll(async () => {
  swarm = await startTwoNodeSwarm();
  clientA = new OpenAI({ baseURL: swarm.nodeA.gatewayUrl(), apiKey: 'unused', maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await swarm?.stop();
});

describe('the OpenAI-compatible gateway across two nodes', () => {
  it('serves a model only the peer has through the peer, saying so in the headers', async () => {
    const { data, response } = await clientA.chat.completions
      .create({ model: 'peer-only:8b', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('hello from B');
    expect(data.usage?.total_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-swarm-node')).toBe(nameB);
    expect(response.headers.get('x-swarm-attempts')).toBe('1');
    expect(swarm.fakeB.generations.length).toBeGreaterThan(0);
  });

  it('streams from the peer, with usage when asked', async () => {
    const stream = await clientA.chat.completions.create({
      model: 'peer-only:8b',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: number | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage.total_tokens;
    }
    expect(text).toBe('hello from B');
    expect(usage).toBeGreaterThan(0);
  });

  it('serves its own model locally', async () => {
    const { data, response } = await clientA.chat.completions
      .create({ model: 'local-only:1b', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('hello from A');
    expect(response.headers.get('x-swarm-node')).toBe('alpha');
  });

  it('answers an unknown model with OpenAI’s 404 model_not_found', async () => {
    const error = await rejected(
      clientA.chat.completions.create({
        model: 'no-such-model',
        messages: [{ role: 'user', content: 'hi' }],
      }),
      OpenAI.NotFoundError,
    );
    expect(error.code).toBe('model_not_found');
  });
});
