// Two real swarmd processes on loopback, alpha (model local-only:1b) and bravo (peer-only:8b),
// and only bravo lists alpha (--peer). Alpha restarts, cleanly or killed: bravo finds it again
// by itself; what alpha's /v1/models lists is routed; a request for alpha's model sent while
// alpha restarts waits for it, and one for a node someone took out (stopped, paused) fails at
// once, saying why (a named model never falls through to another one). Default config, except
// that bravo has no fallback tiers; the `openai` client with its own retries off.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateNodeId } from '../../../src/node/identity.js';
import { initSwarm, joinSwarm } from '../../../src/security/store.js';
import { FakeOllama } from '../../fakes/ollama.js';
import { ensureBuilt, SWARMD } from '../../helpers/build.js';
import { waitForPeer } from '../../helpers/loopback-swarm.js';
import { createSandbox, loopbackFlags, type Sandbox, writeConfig } from '../../helpers/sandbox.js';
import { killAllSwarmd, type Swarmd, startSwarmd } from '../../helpers/swarmd.js';
import { waitUntil } from '../../helpers/wait.js';

let a: Sandbox;
let b: Sandbox;
let fakeA: FakeOllama;
let fakeB: FakeOllama;
let urlA: string;
let portA: number;
let nodeA: Swarmd;
let nodeB: Swarmd;

/** A port free right now on loopback, so alpha can come back at the same address. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startAlpha(): Promise<Swarmd> {
  return startSwarmd(
    [...loopbackFlags(a, { port: false }), '--port', String(portA), '--name', 'alpha', '--backend', urlA],
    { env: a.env },
  );
}

/** SIGKILL alpha's own process: its PID must run swarmd itself, not a wrapper. */
async function killAlpha(): Promise<void> {
  const argv = readFileSync(`/proc/${nodeA.pid}/cmdline`, 'utf8').split('\0');
  expect(argv.slice(0, 2)).toEqual([process.execPath, SWARMD]);
  await nodeA.kill();
}

const client = (daemon: Swarmd) =>
  new OpenAI({ baseURL: daemon.gatewayUrl(), apiKey: 'unused', maxRetries: 0, timeout: 60_000 });

const ask = (daemon: Swarmd, model: string) =>
  client(daemon)
    .chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();

/** The request's error, or a failure when it succeeded. */
async function failure(daemon: Swarmd, model: string) {
  const err = await ask(daemon, model).then(
    ({ data, response }) => {
      throw new Error(
        `a request for ${model} succeeded: ${response.headers.get('x-swarm-node')} ${response.headers.get('x-swarm-backend')} ${JSON.stringify(data.choices)}`,
      );
    },
    (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
  );
  return { status: err.status, code: err.headers?.get('x-swarm-error-code'), message: err.message };
}

beforeAll(async () => {
  await ensureBuilt();
  [a, b] = [await createSandbox(), await createSandbox()];
  const { token } = await initSwarm(a.dataDir, await loadOrCreateNodeId(a.dataDir));
  await joinSwarm(b.dataDir, await loadOrCreateNodeId(b.dataDir), token);
  fakeA = new FakeOllama({ models: [{ name: 'local-only:1b' }], loaded: [{ name: 'local-only:1b' }] });
  fakeB = new FakeOllama({ models: [{ name: 'peer-only:8b' }], loaded: [{ name: 'peer-only:8b' }] });
  urlA = (await fakeA.start()).url;
  const urlB = (await fakeB.start()).url;
  const configB = await writeConfig(b, { routing: { fallback: [] } });
  fakeA.behave({ reply: 'hello from A' });
  fakeB.behave({ reply: 'hello from B' });
  portA = await freePort();
  nodeA = await startAlpha();
  nodeB = await startSwarmd(
    [
      ...loopbackFlags(b),
      ...['--config', configB, '--name', 'bravo', '--backend', urlB],
      ...['--peer', `127.0.0.1:${nodeA.peerPort()}`],
    ],
    { env: b.env },
  );
  await waitForPeer(a, 'bravo', ['peer-only:8b']);
  await waitForPeer(b, 'alpha', ['local-only:1b']);
}, 60_000);

afterAll(async () => {
  await killAllSwarmd();
  await Promise.all([fakeA?.stop(), fakeB?.stop()]);
  await Promise.all([a?.remove(), b?.remove()]);
});

describe('a node that restarts', () => {
  it('stopped cleanly, is refused at once with the reason; restarted, it is found again on both sides', async () => {
    nodeA.signal('SIGTERM');
    await nodeA.exit();
    // Stopped by a person: bravo does not wait for it.
    const started = Date.now();
    const refused = await failure(nodeB, 'local-only:1b');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(refused.status).toBe(503);
    expect(refused.message).toContain('local-only:1b on alpha: left the swarm');
    // Alpha comes back knowing nobody (it lists no peer): only bravo can find it.
    nodeA = await startAlpha();
    await waitForPeer(b, 'alpha', ['local-only:1b'], 10_000);
    await waitForPeer(a, 'bravo', ['peer-only:8b'], 10_000);
    const { data, response } = await ask(nodeB, 'local-only:1b');
    expect(data.choices[0]?.message.content).toBe('hello from A');
    expect(response.headers.get('x-swarm-node')).toBe('alpha');
  });

  it('lists a peer’s model in /v1/models only once a request for it is served (or waits)', async () => {
    nodeA.signal('SIGTERM');
    await nodeA.exit();
    nodeA = await startAlpha();
    // Right after start: the first moment alpha lists bravo's model, ask for it.
    const models = client(nodeA).models;
    await waitUntil(
      async () => (await models.list()).data.some((model) => model.id === 'peer-only:8b'),
      'alpha to list bravo’s model',
      10_000,
      10,
    );
    const { data, response } = await ask(nodeA, 'peer-only:8b');
    expect(data.choices[0]?.message.content).toBe('hello from B');
    expect(response.headers.get('x-swarm-node')).toBe('bravo');
  });

  it('killed: a request for its model sent meanwhile waits for it and is served once it is back', async () => {
    await waitForPeer(b, 'alpha', ['local-only:1b']);
    await killAlpha();
    const pending = ask(nodeB, 'local-only:1b');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    nodeA = await startAlpha();
    const { data, response } = await pending;
    expect(data.choices[0]?.message.content).toBe('hello from A');
    expect(response.headers.get('x-swarm-node')).toBe('alpha');
  });

  it('paused: a request for its model fails at once, saying it is paused', async () => {
    await waitForPeer(b, 'alpha', ['local-only:1b']);
    expect((await a.swarmctl(['pause'])).code).toBe(0);
    await waitUntil(
      async () => (await failure(nodeB, 'local-only:1b').catch(() => null)) !== null,
      'bravo to see alpha paused',
      5_000,
    );
    const started = Date.now();
    const refused = await failure(nodeB, 'local-only:1b');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(refused.status).toBe(503);
    expect(refused.message).toContain('local-only:1b on alpha: paused (manual)');
    // A concrete model id is never swapped for another model, whatever the fallback tiers
    // (alpha has the default ones): alpha refuses the same way, naming the pause.
    const own = await failure(nodeA, 'local-only:1b');
    expect(own.status).toBe(503);
    expect(own.message).toContain('paused (manual)');
    expect((await a.swarmctl(['resume'])).code).toBe(0);
  });
});
