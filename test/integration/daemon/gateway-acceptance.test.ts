// Acceptance of the OpenAI-compatible gateway through the real `openai` client (maxRetries 0,
// so every recovery is the gateway's own and shows in x-swarm-attempts), against real swarmd
// processes on loopback (mDNS off, static peers, fakes for every model server and the cloud):
//
//   alpha + bravo  a paired swarm; clients talk to alpha. Fallback from a failing backend,
//                  `auto` choosing a tier, a client disconnect stopping a peer's generation,
//                  per-backend concurrency caps under load.
//   charlie        alone, with a fake cloud provider and a local fallback tier: privacy levels,
//                  and prompts with secrets served locally instead of in the cloud.
//   delta          alone, with a fake cloud provider, no fallback and a daily budget one request
//                  spends: secrets refused outright, the budget stop, and a queue of one that
//                  answers 429 with Retry-After.
//
// Every daemon starts once, in beforeAll; each test uses its own models or fakes.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeServer } from '../../fakes/fake-server.js';
import { FakeOllama } from '../../fakes/ollama.js';
import { FakeOpenAi } from '../../fakes/openai.js';
import { rejected } from '../../helpers/expect-error.js';
import { pairBoxes, startInBox, waitForPeer } from '../../helpers/loopback-swarm.js';
import { createSandbox, type Sandbox, writeConfig } from '../../helpers/sandbox.js';
import { killAllSwarmd, type Swarmd } from '../../helpers/swarmd.js';
import { sleep, waitUntil } from '../../helpers/wait.js';

const CLOUD_KEY_ENV = 'TESTCLOUD_KEY';
const CLOUD_KEY = 'testcloud-key-0123456789';
// AWS's documented example key: a real secret pattern, not a real credential.
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const PEM_HEADER = '-----BEGIN RSA PRIVATE KEY-----';
const LONG_REPLY = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');

const boxes: Sandbox[] = [];
const fakes: FakeServer<object>[] = [];

function fake<T extends FakeServer<object>>(server: T): T {
  fakes.push(server);
  return server;
}

/** A fake Ollama with these models installed and loaded. */
function ollama(...names: string[]): FakeOllama {
  const models = names.map((name) => ({ name }));
  return fake(new FakeOllama({ models, loaded: models }));
}

// alpha: small:1b (fast tier), shared-m:7b that always fails, busy-m:3b capped at 2.
const aSmall = ollama('small:1b');
const aFailing = ollama('shared-m:7b');
const aBusy = ollama('busy-m:3b');
// bravo: big:70b (deep tier) and shared-m:7b that work, stream-m:8b that streams slowly, busy-m:3b capped at 2.
const bMain = ollama('big:70b', 'shared-m:7b');
const bSlow = ollama('stream-m:8b');
const bBusy = ollama('busy-m:3b');
// charlie: a fake cloud and a local model (its fast tier, the fallback).
const cCloud = fake(new FakeOpenAi({ models: [{ id: 'cloud-model' }], apiKey: CLOUD_KEY }));
const cLocal = ollama('c-local:1b');
// delta: a fake cloud and slow-m:1b with one slot.
const dCloud = fake(new FakeOpenAi({ models: [{ id: 'cloud-model' }], apiKey: CLOUD_KEY }));
const dSlow = ollama('slow-m:1b');

let alpha: OpenAI;
let charlie: OpenAI;
let delta: OpenAI;

function client(daemon: Swarmd): OpenAI {
  return new OpenAI({ baseURL: daemon.gatewayUrl(), apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
}

function cloudProvider(cloud: FakeOpenAi, prices: Record<string, unknown> = {}) {
  return {
    name: 'testcloud',
    baseUrl: `${cloud.url}/v1`,
    apiKeyEnv: CLOUD_KEY_ENV,
    models: ['cloud-model'],
    prices,
  };
}

async function sandbox(): Promise<Sandbox> {
  const box = await createSandbox();
  box.env[CLOUD_KEY_ENV] = CLOUD_KEY;
  boxes.push(box);
  return box;
}

function chatRequests(server: FakeServer<object>): number {
  return server.requestsTo('/v1/chat/completions').length;
}

/** Run `count` jobs with at most `parallel` at once; settles every job (bounded load). */
async function runBounded<T>(
  count: number,
  parallel: number,
  job: (index: number) => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await job(index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
  return results;
}

beforeAll(async () => {
  await Promise.all(fakes.map((server) => server.start()));
  aFailing.behave({ failWith: 'server-error' });
  bMain.behave({ reply: 'hello from bravo' });
  aSmall.behave({ reply: 'hello from alpha small' });
  bSlow.behave({ reply: LONG_REPLY, tokenDelayMs: 100 });
  aBusy.behave({ reply: 'one two three four five', tokenDelayMs: 20 });
  bBusy.behave({ reply: 'one two three four five', tokenDelayMs: 20 });
  cCloud.behave({ reply: 'hello from the cloud' });
  cLocal.behave({ reply: 'hello from charlie' });
  dCloud.behave({ reply: 'hello from the cloud' });

  const [a, b, c, d] = [await sandbox(), await sandbox(), await sandbox(), await sandbox()];
  await pairBoxes(a, b);

  const configA = await writeConfig(a, {
    backends: {
      servers: [
        { url: aSmall.url, kind: 'ollama' },
        { url: aFailing.url, kind: 'ollama' },
        { url: aBusy.url, kind: 'ollama', maxConcurrency: 2 },
      ],
    },
    // No fallback tiers: a request stays on the models it named, so the caps and the
    // queue are what the load test sees (the default would spill onto small:1b and big:70b).
    routing: { tiers: { fast: ['small:1b'], deep: ['big:70b'] }, fallback: [] },
  });
  const configB = await writeConfig(b, {
    backends: {
      servers: [
        { url: bMain.url, kind: 'ollama' },
        { url: bSlow.url, kind: 'ollama' },
        { url: bBusy.url, kind: 'ollama', maxConcurrency: 2 },
      ],
    },
    routing: { tiers: { fast: ['small:1b'], deep: ['big:70b'] }, fallback: [] },
  });
  const configC = await writeConfig(c, {
    backends: { servers: [{ url: cLocal.url, kind: 'ollama' }] },
    // A request for cloud-model that may not go to the cloud falls back to the fast tier: the
    // alias of the same name opts that model name into stand-ins (a concrete id has none).
    routing: {
      tiers: { fast: ['c-local:1b'] },
      fallback: ['fast'],
      aliases: { 'cloud-model': { models: ['cloud-model'] } },
    },
    cloud: { providers: [cloudProvider(cCloud)] },
  });
  const configD = await writeConfig(d, {
    backends: { servers: [{ url: dSlow.url, kind: 'ollama', maxConcurrency: 1 }] },
    routing: { fallback: [], queueSize: 1, queueTimeout: '1500ms' },
    cloud: {
      // $1000 per million tokens: one request of a few tokens costs about a cent.
      providers: [cloudProvider(dCloud, { 'cloud-model': { inputPerMTok: 1000, outputPerMTok: 1000 } })],
    },
    usage: { budgets: { daily: { stopUsd: 0.001 } } },
  });

  const start = (box: Sandbox, config: string, name: string, extra: string[] = []) =>
    startInBox(box, ['--config', config, '--name', name, ...extra]);
  const [nodeA, nodeC, nodeD] = await Promise.all([
    start(a, configA, 'alpha'),
    start(c, configC, 'charlie'),
    start(d, configD, 'delta'),
  ]);
  await start(b, configB, 'bravo', ['--peer', `127.0.0.1:${nodeA.peerPort()}`]);
  alpha = client(nodeA);
  charlie = client(nodeC);
  delta = client(nodeD);
  // alpha hands work to bravo, and bravo must reach alpha back to stream results.
  await waitForPeer(a, 'bravo', ['big:70b', 'shared-m:7b', 'stream-m:8b', 'busy-m:3b']);
  await waitForPeer(b, 'alpha', ['small:1b', 'shared-m:7b', 'busy-m:3b']);
}, 60_000);

afterAll(async () => {
  await killAllSwarmd();
  await Promise.all(fakes.map((server) => server.stop()));
  await Promise.all(boxes.map((box) => box.remove()));
});

describe('gateway acceptance through the openai client', () => {
  it('falls back from a failing local backend to the peer that has the model', async () => {
    const failedBefore = aFailing.generations.length;
    const { data, response } = await alpha.chat.completions
      .create({ model: 'shared-m:7b', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('hello from bravo');
    expect(response.headers.get('x-swarm-node')).toBe('bravo');
    expect(response.headers.get('x-swarm-model')).toBe('shared-m:7b');
    expect(response.headers.get('x-swarm-attempts')).toBe('2');
    // The first attempt really reached alpha's own backend and failed there.
    const failed = aFailing.generations.slice(failedBefore);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.status).toBe(500);
    expect(failed[0]?.failure).not.toBeNull();
  });

  it('`auto` sends a simple request to the fast tier and a complex one to the deep tier', async () => {
    const simple = await alpha.chat.completions
      .create({ model: 'auto', messages: [{ role: 'user', content: 'translate hello to French' }] })
      .withResponse();
    expect(simple.response.headers.get('x-swarm-model')).toBe('small:1b');
    expect(simple.response.headers.get('x-swarm-tier')).toBe('fast');
    expect(simple.response.headers.get('x-swarm-node')).toBe('alpha');
    expect(simple.data.choices[0]?.message.content).toBe('hello from alpha small');

    const byAction = await alpha.chat.completions
      .create(
        { model: 'auto', messages: [{ role: 'user', content: 'a service that stores user sessions' }] },
        { headers: { 'x-swarm-action': 'architect' } },
      )
      .withResponse();
    expect(byAction.response.headers.get('x-swarm-model')).toBe('big:70b');
    expect(byAction.response.headers.get('x-swarm-tier')).toBe('deep');
    expect(byAction.response.headers.get('x-swarm-node')).toBe('bravo');

    const byKeywords = await alpha.chat.completions
      .create({
        model: 'auto',
        messages: [
          {
            role: 'user',
            content:
              'Design the module boundaries and refactor the storage layer to remove the race condition',
          },
        ],
      })
      .withResponse();
    expect(byKeywords.response.headers.get('x-swarm-model')).toBe('big:70b');
    expect(byKeywords.response.headers.get('x-swarm-tier')).toBe('deep');
  });

  describe('privacy and the cloud', () => {
    const SECRETS = [
      ['an AWS access key', `deploy with aws_access_key_id ${AWS_KEY} please`],
      ['a PEM private key', `${PEM_HEADER}\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----\nwhat is this?`],
    ];
    const ask = (to: OpenAI, content: string, privacy: string | null) =>
      to.chat.completions
        .create(
          { model: 'cloud-model', messages: [{ role: 'user', content }] },
          privacy === null ? {} : { headers: { 'x-swarm-privacy': privacy } },
        )
        .withResponse();

    it('sends a request that allows the cloud to the cloud provider, with its key', async () => {
      const before = chatRequests(cCloud);
      const { data, response } = await ask(charlie, 'what is the capital of France?', 'cloud');
      expect(data.choices[0]?.message.content).toBe('hello from the cloud');
      expect(response.headers.get('x-swarm-backend')).toBe('cloud:testcloud');
      expect(response.headers.get('x-swarm-model')).toBe('cloud-model');
      expect(response.headers.get('x-swarm-privacy')).toBe('cloud');
      const sent = cCloud.requestsTo('/v1/chat/completions').slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0]?.headers.authorization).toBe(`Bearer ${CLOUD_KEY}`);
    });

    it.each(SECRETS)(
      'serves a prompt with %s locally, never in the cloud, whatever the header says',
      async (_what, content) => {
        const before = chatRequests(cCloud);
        const { data, response } = await ask(charlie, content, 'cloud');
        expect(data.choices[0]?.message.content).toBe('hello from charlie');
        expect(response.headers.get('x-swarm-node')).toBe('charlie');
        expect(response.headers.get('x-swarm-model')).toBe('c-local:1b');
        expect(response.headers.get('x-swarm-tier')).toBe('fast');
        // The gateway says the request was held to lan, and why.
        expect(response.headers.get('x-swarm-privacy')).toBe('lan');
        expect(response.headers.get('x-swarm-privacy-reason')).toMatch(/^secret:/);
        expect(chatRequests(cCloud)).toBe(before);
      },
    );

    it.each(SECRETS)('refuses a prompt with %s when only the cloud has the model', async (_what, content) => {
      const before = chatRequests(dCloud);
      const error = await rejected(ask(delta, content, 'cloud'), OpenAI.APIError);
      // delta has no local holder of cloud-model and no fallback: nothing may serve it at lan.
      expect(error.status).toBe(503);
      expect(error.code).toBe('no_capacity');
      expect(error.message).toContain('privacy');
      expect(error.headers?.get('x-swarm-privacy')).toBe('lan');
      expect(error.headers?.get('x-swarm-privacy-reason')).toMatch(/^secret:/);
      expect(chatRequests(dCloud)).toBe(before);
    });

    it('never sends a request without the header (default lan) to the cloud', async () => {
      const [beforeC, beforeD] = [chatRequests(cCloud), chatRequests(dCloud)];
      const local = await ask(charlie, 'what is the capital of France?', null);
      expect(local.response.headers.get('x-swarm-model')).toBe('c-local:1b');
      expect(local.response.headers.get('x-swarm-privacy')).toBe('lan');
      const error = await rejected(ask(delta, 'what is the capital of France?', null), OpenAI.APIError);
      expect(error.status).toBe(503);
      expect(error.headers?.get('x-swarm-privacy')).toBe('lan');
      expect([chatRequests(cCloud), chatRequests(dCloud)]).toEqual([beforeC, beforeD]);
    });
  });

  it('skips the cloud once the daily budget is spent, and says why', async () => {
    const ask = () =>
      delta.chat.completions
        .create(
          { model: 'cloud-model', messages: [{ role: 'user', content: 'what is the capital of France?' }] },
          { headers: { 'x-swarm-privacy': 'cloud' } },
        )
        .withResponse();
    expect(chatRequests(dCloud)).toBe(0);
    const first = await ask();
    expect(first.response.headers.get('x-swarm-backend')).toBe('cloud:testcloud');
    expect(first.data.usage?.total_tokens).toBeGreaterThan(0);
    expect(chatRequests(dCloud)).toBe(1);
    // That request cost more than the $0.001 daily stop: the cloud is skipped from now on.
    for (let i = 0; i < 2; i++) {
      const error = await rejected(ask(), OpenAI.APIError);
      expect(error.status).toBe(503);
      expect(error.message).toMatch(/budget/i);
    }
    expect(chatRequests(dCloud)).toBe(1);
  });

  it('stops the generation on the peer when a streaming client disconnects', async () => {
    const before = bSlow.generations.length;
    const controller = new AbortController();
    const stream = await alpha.chat.completions.create(
      { model: 'stream-m:8b', messages: [{ role: 'user', content: 'write a long essay' }], stream: true },
      { signal: controller.signal },
    );
    let content = '';
    try {
      for await (const chunk of stream) {
        content += chunk.choices[0]?.delta.content ?? '';
        if (content !== '') {
          controller.abort();
          break;
        }
      }
    } catch (err) {
      expect(err).toBeInstanceOf(OpenAI.APIUserAbortError);
    }
    expect(content).toBe('word0');
    await waitUntil(
      () => bSlow.generations[before]?.aborted === true,
      "bravo's fake to see the generation aborted",
      5000,
      50,
    );
    const generation = bSlow.generations[before]!;
    expect(generation.completed).toBe(false);
    expect(generation.eventsSent).toBeLessThan(50);
    expect(bSlow.inflight).toBe(0);
  });

  it('never runs a backend past its concurrency cap under load, and serves every request', async () => {
    const results = await runBounded(40, 10, (i) =>
      alpha.chat.completions
        .create({ model: 'busy-m:3b', messages: [{ role: 'user', content: `request ${i}` }] })
        .withResponse(),
    );
    const failures = results.filter((result) => result.status === 'rejected');
    expect(failures.map((failure) => String((failure as PromiseRejectedResult).reason))).toEqual([]);
    for (const result of results) {
      if (result.status !== 'fulfilled') continue;
      expect(result.value.data.choices[0]?.message.content).toBe('one two three four five');
      expect(result.value.response.headers.get('x-swarm-model')).toBe('busy-m:3b');
    }
    expect(aBusy.maxInflightSeen).toBeLessThanOrEqual(2);
    expect(bBusy.maxInflightSeen).toBeLessThanOrEqual(2);
    // The load did press on the cap (10 at once against 2 + 2 slots).
    expect(aBusy.maxInflightSeen + bBusy.maxInflightSeen).toBeGreaterThanOrEqual(3);
    // Every request ran exactly once, and both nodes took a share.
    expect(aBusy.generations.length + bBusy.generations.length).toBe(40);
    expect(aBusy.generations.length).toBeGreaterThan(0);
    expect(bBusy.generations.length).toBeGreaterThan(0);
  });

  it('answers 429 with Retry-After when the queue is full, and when a queued request waits too long', async () => {
    // slow-m:1b has one slot and takes 3 s; delta queues at most one request for 1.5 s.
    dSlow.behave({ firstTokenDelayMs: 3000, reply: 'slow reply' });
    const ask = () =>
      delta.chat.completions
        .create({ model: 'slow-m:1b', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
    const holding = ask();
    await waitUntil(() => dSlow.inflight === 1, 'the first request to take the only slot', 5000, 20);
    const queued = rejected(ask(), OpenAI.APIError);
    await sleep(300); // let it reach the queue
    const full = await rejected(ask(), OpenAI.APIError);
    expect(full.status).toBe(429);
    expect(full.code).toBe('rate_limit_exceeded');
    expect(Number(full.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(full.message).toMatch(/queue is full/);

    const timedOut = await queued;
    expect(timedOut.status).toBe(429);
    expect(Number(timedOut.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const served = await holding;
    expect(served.data.choices[0]?.message.content).toBe('slow reply');
    expect(dSlow.maxInflightSeen).toBe(1);
    expect(dSlow.generations).toHaveLength(1);
  });
});
