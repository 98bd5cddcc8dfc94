// Two real swarmd processes on loopback (paired, static peers) with a fake Ollama each, and
// the real `openai` client against node A's gateway: a model only node B has is served by B
// over the peer task transport; A's own model is served locally; unknown names are 404s.
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateNodeId } from '../../../src/node/identity.js';
import { initSwarm, joinSwarm } from '../../../src/security/store.js';
import { FakeOllama } from '../../fakes/ollama.js';
import {
  createSandbox,
  ensureBuilt,
  killAll,
  loopbackFlags,
  type Sandbox,
  SwarmdProcess,
  swarmctl,
} from './swarmd-process.js';

const boxes: Sandbox[] = [];
const fakes: FakeOllama[] = [];
let clientA: OpenAI;
let nameB = '';

function gatewayUrl(daemon: SwarmdProcess): string {
  const ready = daemon.logs().find((line) => line.msg === 'swarmd ready') as { gateway?: string } | undefined;
  return ready!.gateway!;
}

function peerPort(daemon: SwarmdProcess): number {
  const line = daemon.logs().find((entry) => entry.msg === 'peer gRPC listening') as
    | { port?: number }
    | undefined;
  return line!.port!;
}

beforeAll(async () => {
  ensureBuilt();
  const [a, b] = [await createSandbox(), await createSandbox()];
  boxes.push(a, b);
  const { token } = await initSwarm(a.dataDir, await loadOrCreateNodeId(a.dataDir));
  await joinSwarm(b.dataDir, await loadOrCreateNodeId(b.dataDir), token);
  const fakeA = new FakeOllama({ models: [{ name: 'local-only:1b' }], loaded: [{ name: 'local-only:1b' }] });
  const fakeB = new FakeOllama({ models: [{ name: 'peer-only:8b' }], loaded: [{ name: 'peer-only:8b' }] });
  fakes.push(fakeA, fakeB);
  const [urlA, urlB] = [(await fakeA.start()).url, (await fakeB.start()).url];
  fakeA.behave({ reply: 'hello from A' });
  fakeB.behave({ reply: 'hello from B' });
  const nodeA = new SwarmdProcess([...loopbackFlags(a), '--name', 'alpha', '--backend', urlA], a.env);
  await nodeA.ready();
  nameB = 'bravo';
  const nodeB = new SwarmdProcess(
    [...loopbackFlags(b), '--name', nameB, '--backend', urlB, '--peer', `127.0.0.1:${peerPort(nodeA)}`],
    b.env,
  );
  await nodeB.ready();
  clientA = new OpenAI({ baseURL: gatewayUrl(nodeA), apiKey: 'unused', maxRetries: 0 });
  // Wait until A sees B as a usable member with its model.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const out = await swarmctl(join(a.dataDir, 'control.sock'), ['models', '--json']);
    if (out.stdout.includes('peer-only:8b')) break;
    if (Date.now() > deadline) throw new Error(`A never saw B's model: ${out.stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}, 60_000);

afterAll(async () => {
  await killAll();
  await Promise.all(fakes.map((fake) => fake.stop()));
  await Promise.all(boxes.map((box) => box.remove()));
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
    expect(fakes[1]!.generations.length).toBeGreaterThan(0);
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
    const error = await clientA.chat.completions
      .create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });
});
