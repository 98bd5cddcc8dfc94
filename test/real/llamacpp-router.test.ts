// llama-server in router mode (--models-dir with two copies of the tiny model): swarmd's probe
// sees both models and which one is loaded, a request loads its model on first use, and
// `swarmctl pause --unload` (a real swarmd) lets the loaded one go through the router's API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unloadBackend } from '../../src/activity/unload.js';
import { invokeBackend } from '../../src/backends/invoke.js';
import { probe } from '../../src/backends/llamacpp.js';
import type { BackendStatus, ModelInfo } from '../../src/backends/types.js';
import { ensureBuilt } from '../helpers/build.js';
import { LlamaServer, routerModelsDir, stopAllLlamaServers } from '../helpers/llama-server.js';
import { createSandbox, loopbackFlags, type Sandbox } from '../helpers/sandbox.js';
import { killAllSwarmd, startSwarmd } from '../helpers/swarmd.js';
import { waitUntil } from '../helpers/wait.js';

const ctx = { timeoutMs: 5000, defaultMaxConcurrency: 4, modelOverrides: {} };
let models: Awaited<ReturnType<typeof routerModelsDir>>;
let server: LlamaServer;

beforeAll(async () => {
  models = await routerModelsDir(['alpha-tiny', 'bravo-tiny']);
  // Each model's own llama-server gets these: 3 slots of 256 tokens.
  server = await LlamaServer.start({ modelsDir: models.dir, parallel: 3, ctx: 768 });
});

afterAll(async () => {
  await killAllSwarmd();
  await stopAllLlamaServers();
  await models?.remove();
});

const loaded = (list: ModelInfo[]) => Object.fromEntries(list.map((m) => [m.id, m.loaded]));

async function chat(model: string): Promise<void> {
  const result = await invokeBackend(
    { kind: 'llamacpp', baseUrl: server.url, model },
    {
      kind: 'chat',
      body: { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 },
      stream: false,
    },
    { signal: AbortSignal.timeout(20_000) },
  );
  expect(result.usage?.completionTokens).toBeGreaterThan(0);
}

describe('a llama-server router', () => {
  it('lists every model of its directory, unloaded until asked for', async () => {
    const result = await probe(server.url, ctx);
    expect(result.healthy).toBe(true);
    expect(loaded(result.models)).toEqual({ 'alpha-tiny': false, 'bravo-tiny': false });
  });

  it('loads a model on its first request, then knows its slots and context; the other stays unloaded', async () => {
    await chat('alpha-tiny');
    const result = await probe(server.url, ctx);
    expect(loaded(result.models)).toEqual({ 'alpha-tiny': true, 'bravo-tiny': false });
    // The loaded model's -np and per-slot context, from its own /props (asked through the router).
    expect(result.models.find((m) => m.id === 'alpha-tiny')).toMatchObject({
      contextLength: 256,
      maxConcurrency: 3,
    });
    // Nothing is known of an unloaded one: the configured default (4) stands, and probing did not load it.
    expect(result.models.find((m) => m.id === 'bravo-tiny')).toMatchObject({
      contextLength: null,
      maxConcurrency: 4,
    });
  });

  it('unloads what is loaded through its API, and nothing else', async () => {
    const status = await backendStatus();
    const report = await unloadBackend(status);
    expect(report).toMatchObject({ outcome: 'unloaded', models: ['alpha-tiny'] });
    await waitUntil(
      async () => Object.values(loaded((await probe(server.url, ctx)).models)).every((v) => !v),
      'every router model to be unloaded',
      10_000,
    );
  });
});

describe('swarmctl pause --unload on a node whose backend is a llama-server router', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    await ensureBuilt();
    sandbox = await createSandbox();
  });

  afterAll(async () => {
    await killAllSwarmd();
    await sandbox?.remove();
  });

  it('unloads the router’s loaded model and says which', async () => {
    await chat('bravo-tiny');
    await startSwarmd([...loopbackFlags(sandbox), '--name', 'gamer', '--backend', server.url], {
      env: sandbox.env,
    });
    const out = await sandbox.swarmctl(['pause', '--unload', '--json']);
    expect(out.code, out.stderr).toBe(0);
    const json = JSON.parse(out.stdout) as { activity: string; unload: unknown[] };
    expect(json.activity).toBe('paused');
    expect(json.unload).toEqual([
      expect.objectContaining({ kind: 'llamacpp', outcome: 'unloaded', models: ['bravo-tiny'] }),
    ]);
    await waitUntil(
      async () => Object.values(loaded((await probe(server.url, ctx)).models)).every((v) => !v),
      'bravo-tiny to be unloaded',
      10_000,
    );
  });
});

async function backendStatus(): Promise<BackendStatus> {
  const result = await probe(server.url, ctx);
  return {
    id: `llamacpp@127.0.0.1:${server.port}`,
    kind: 'llamacpp',
    url: server.url,
    healthy: result.healthy,
    version: result.version,
    error: result.error,
    models: result.models,
    probedAt: Date.now(),
  };
}
