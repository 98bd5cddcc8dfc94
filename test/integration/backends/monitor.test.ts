import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendMonitor, type BackendMonitorInit } from '../../../src/backends/monitor.js';
import type { BackendStatus } from '../../../src/backends/types.js';
import type { BackendServerConfig } from '../../../src/config/schema.js';
import { createLogger, silentLogger } from '../../../src/util/logger.js';
import { FakeLlamaSwap } from '../../fakes/llama-swap.js';
import { FakeLlamaCpp } from '../../fakes/llamacpp.js';
import { FakeOllama } from '../../fakes/ollama.js';
import { FakeOpenAi } from '../../fakes/openai.js';
import { FakeVllm } from '../../fakes/vllm.js';
import { eventually } from '../../helpers/wait.js';
import { closedPortUrl, useFakes } from './helpers.js';

const start = useFakes();
const INTERVAL = 200;
// Generous: "within one probe period" plus slack for a loaded CI box.
const WITHIN = 3000;

const monitors: BackendMonitor[] = [];
let plain: Server | null = null;
afterEach(async () => {
  await Promise.all(monitors.splice(0).map((m) => m.stop()));
  plain?.closeAllConnections();
  await new Promise<void>((r) => (plain ? plain.close(() => r()) : r()));
  plain = null;
});

function server(url: string, extra: Partial<BackendServerConfig> = {}): BackendServerConfig {
  return { url, kind: 'auto', models: {}, ...extra };
}

function monitor(init: Partial<BackendMonitorInit>, logger = silentLogger): BackendMonitor {
  const m = new BackendMonitor(
    { logger },
    {
      autoDetect: false,
      probeIntervalMs: INTERVAL,
      probeTimeoutMs: 1000,
      defaultMaxConcurrency: 4,
      servers: [],
      autoDetectUrls: [],
      ...init,
    },
  );
  monitors.push(m);
  return m;
}

function idOf(kind: string, url: string): string {
  return `${kind}@127.0.0.1:${new URL(url).port}`;
}

function byId(m: BackendMonitor, id: string): BackendStatus | undefined {
  return m.list().find((s) => s.id === id);
}

describe('BackendMonitor', () => {
  it('lists configured servers and the auto-detect URLs where a model server answers', async () => {
    const ollama = await start(new FakeOllama({ models: [{ name: 'a:1' }] }));
    const swap = await start(new FakeLlamaSwap({ models: [{ id: 'b' }] }));
    const vllm = await start(new FakeVllm({ models: [{ id: 'c', maxModelLen: 4096 }] }));
    const nothing = await closedPortUrl();
    const m = monitor({
      autoDetect: true,
      servers: [server(ollama.url, { kind: 'ollama' })],
      // The configured Ollama also sits on an auto-detect URL: it must be listed once.
      autoDetectUrls: [`${ollama.url}/`, swap.url, vllm.url, nothing],
    });
    await m.start();
    const listed = m.list();
    expect(listed.map((s) => s.id).sort()).toEqual(
      [idOf('ollama', ollama.url), idOf('llama-swap', swap.url), idOf('vllm', vllm.url)].sort(),
    );
    expect(listed.every((s) => s.healthy && s.error === null)).toBe(true);
    expect(byId(m, idOf('vllm', vllm.url))?.models).toEqual([
      { id: 'c', loaded: true, contextLength: 4096, maxConcurrency: 4, sizeVramBytes: null },
    ]);
    expect(byId(m, idOf('ollama', ollama.url))?.url).toBe(ollama.url);
  });

  it('ignores auto-detect when autoDetect is off', async () => {
    const swap = await start(new FakeLlamaSwap({ models: [{ id: 'b' }] }));
    const m = monitor({ autoDetect: false, autoDetectUrls: [swap.url] });
    await m.start();
    expect(m.list()).toEqual([]);
  });

  it('lists a configured server that is down, and an auto-kind one it cannot identify, as unhealthy', async () => {
    const down = await closedPortUrl();
    plain = createServer((_req, res) => {
      res.statusCode = 404;
      res.end('nope');
    });
    await new Promise<void>((r) => plain!.listen(0, '127.0.0.1', r));
    const unknown = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
    const m = monitor({ servers: [server(down, { kind: 'vllm' }), server(unknown)] });
    await m.start();
    const [first, second] = m.list();
    expect(first).toMatchObject({ id: idOf('vllm', down), healthy: false, models: [] });
    expect(first?.error).toEqual(expect.any(String));
    expect(second).toMatchObject({ url: unknown, healthy: false, models: [] });
    expect(second?.error).toEqual(expect.any(String));
  });

  it('shows a backend going down within a probe period, and coming back', async () => {
    const ollama = await start(new FakeOllama({ models: [{ name: 'a:1' }] }));
    const swap = await start(new FakeLlamaSwap({ models: [{ id: 'b' }] }));
    const m = monitor({ autoDetect: true, servers: [server(ollama.url)], autoDetectUrls: [swap.url] });
    let changes = 0;
    await m.start();
    m.onChange(() => changes++);
    const ollamaId = idOf('ollama', ollama.url);
    const swapId = idOf('llama-swap', swap.url);
    expect(byId(m, ollamaId)?.healthy).toBe(true);

    await ollama.stop();
    await swap.stop();
    await eventually(() => {
      expect(byId(m, ollamaId)).toMatchObject({ healthy: false, models: [] });
      // Auto-detected and gone: still listed, as unhealthy.
      expect(byId(m, swapId)).toMatchObject({ healthy: false });
    }, WITHIN);
    const afterDown = changes;
    expect(afterDown).toBeGreaterThan(0);
    // Still probed while down, so the picture stays fresh.
    const downAt = byId(m, swapId)!.probedAt;
    await eventually(() => expect(byId(m, swapId)!.probedAt).toBeGreaterThan(downAt), WITHIN);
    expect(byId(m, swapId)?.healthy).toBe(false);

    await ollama.start();
    await swap.start();
    await eventually(() => {
      expect(byId(m, ollamaId)).toMatchObject({ healthy: true, error: null });
      expect(byId(m, ollamaId)?.models.map((x) => x.id)).toEqual(['a:1']);
      expect(byId(m, swapId)?.healthy).toBe(true);
    }, WITHIN);
    expect(changes).toBeGreaterThan(afterDown);
  });

  it('fires onChange when a model becomes loaded, and not on probes that change nothing', async () => {
    const ollama = await start(new FakeOllama({ models: [{ name: 'a:1' }, { name: 'b:1' }] }));
    const m = monitor({ servers: [server(ollama.url, { kind: 'ollama' })] });
    await m.start();
    let changes = 0;
    const off = m.onChange(() => changes++);

    const rounds = ollama.requestsTo('/api/tags').length;
    await eventually(
      () => expect(ollama.requestsTo('/api/tags').length).toBeGreaterThanOrEqual(rounds + 3),
      WITHIN,
    );
    expect(changes).toBe(0);

    ollama.setState({ loaded: [{ name: 'b:1', contextLength: 2048 }] });
    await eventually(() => expect(changes).toBe(1), WITHIN);
    const b = byId(m, idOf('ollama', ollama.url))?.models.find((x) => x.id === 'b:1');
    expect(b).toMatchObject({ loaded: true, contextLength: 2048 });

    off();
    ollama.setState({ loaded: [] });
    await eventually(
      () => expect(byId(m, idOf('ollama', ollama.url))?.models.some((x) => x.loaded)).toBe(false),
      WITHIN,
    );
    expect(changes).toBe(1);
  });

  it('resolves concurrency: per-model config, then server config, then the server, then the default', async () => {
    const a = await start(new FakeLlamaCpp({ modelId: 'm', totalSlots: 3 }));
    const b = await start(new FakeLlamaCpp({ modelId: 'm', totalSlots: 3 }));
    const c = await start(new FakeLlamaCpp({ modelId: 'm', totalSlots: 3 }));
    const d = await start(new FakeOllama({ models: [{ name: 'x:1' }] }));
    const m = monitor({
      defaultMaxConcurrency: 5,
      servers: [
        server(a.url, { kind: 'llamacpp' }),
        server(b.url, { kind: 'llamacpp', maxConcurrency: 8 }),
        server(c.url, { kind: 'llamacpp', maxConcurrency: 8, models: { m: { maxConcurrency: 1 } } }),
        server(d.url, { kind: 'ollama' }),
      ],
    });
    await m.start();
    expect(m.list().map((s) => s.models[0]?.maxConcurrency)).toEqual([3, 8, 1, 5]);
  });

  it('sends the key named by apiKeyEnv', async () => {
    const api = await start(new FakeOpenAi({ apiKey: 'sekrit', models: [{ id: 'gpt' }] }));
    const withKey = monitor({
      servers: [server(api.url, { kind: 'openai', apiKeyEnv: 'K' })],
      env: { K: 'sekrit' },
    });
    const withoutKey = monitor({ servers: [server(api.url, { kind: 'openai', apiKeyEnv: 'K' })], env: {} });
    await withKey.start();
    await withoutKey.start();
    expect(withKey.list()[0]?.healthy).toBe(true);
    expect(withoutKey.list()[0]?.healthy).toBe(false);
  });

  it('hands each server out with its key, whatever the URL spelling, and never in a copy', async () => {
    const api = await start(new FakeOpenAi({ apiKey: 'sekrit-1', models: [{ id: 'gpt' }] }));
    const cpp = await start(new FakeLlamaCpp({ modelId: 'solo' }));
    const m = monitor({
      servers: [
        server(`${api.url}/v1/`, { kind: 'openai', apiKeyEnv: 'K' }),
        server(`${cpp.url}//`, { kind: 'llamacpp' }),
      ],
      env: { K: 'sekrit-1' },
    });
    await m.start();
    const local = m.local();
    expect(local.map((b) => [b.status.id, b.status.healthy, b.apiKey])).toEqual([
      [idOf('openai', api.url), true, 'sekrit-1'],
      [idOf('llamacpp', cpp.url), true, undefined],
    ]);
    expect(local.map((b) => b.status)).toEqual(m.list());
    // What could be logged, serialised or spread: the status only.
    expect(JSON.stringify(local)).not.toContain('sekrit-1');
    expect(Object.keys({ ...local[0] })).toEqual(['status']);
  });

  it('re-identifies an auto-detected port taken over by another kind of server', async () => {
    const swap = await start(new FakeLlamaSwap({ models: [{ id: 'b' }] }));
    const port = Number(new URL(swap.url).port);
    const m = monitor({ autoDetect: true, autoDetectUrls: [swap.url] });
    await m.start();
    expect(m.list().map((s) => s.id)).toEqual([idOf('llama-swap', swap.url)]);
    await swap.stop();
    const cpp = await start(new FakeLlamaCpp({ modelId: 'solo' }), port);
    await eventually(() => {
      expect(m.list()).toMatchObject([{ id: idOf('llamacpp', cpp.url), healthy: true }]);
    }, WITHIN);
  });

  it('shows a loading llama-server as unhealthy until it is ready', async () => {
    const cpp = await start(new FakeLlamaCpp({ loading: true }));
    const m = monitor({ autoDetect: true, autoDetectUrls: [cpp.url] });
    await m.start();
    expect(m.list()).toMatchObject([{ id: idOf('llamacpp', cpp.url), healthy: false }]);
    cpp.setState({ loading: false });
    await eventually(() => expect(m.list()).toMatchObject([{ healthy: true }]), WITHIN);
  });

  it('logs a backend going down once, not on every probe', async () => {
    const lines: Array<{ level: number; backend?: string }> = [];
    const logger = createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) });
    const ollama = await start(new FakeOllama({ models: [{ name: 'a:1' }] }));
    const m = monitor({ servers: [server(ollama.url, { kind: 'ollama' })] }, logger);
    await m.start();
    await ollama.stop();
    const id = idOf('ollama', ollama.url);
    await eventually(() => expect(byId(m, id)?.healthy).toBe(false), WITHIN);
    const probedAt = byId(m, id)!.probedAt;
    // Let a few more rounds fail.
    await eventually(() => expect(byId(m, id)!.probedAt).toBeGreaterThan(probedAt + 2 * INTERVAL), WITHIN);
    const mine = lines.filter((l) => l.backend === id);
    expect(mine.filter((l) => l.level === 30)).toHaveLength(1); // up, on the first probe
    expect(mine.filter((l) => l.level === 40)).toHaveLength(1); // down, once
  });

  it('stops probing on stop(), which is safe to call twice', async () => {
    const ollama = await start(new FakeOllama());
    const m = monitor({ servers: [server(ollama.url, { kind: 'ollama' })] });
    await m.start();
    await m.stop();
    await m.stop();
    const seen = ollama.requests.length;
    await new Promise((r) => setTimeout(r, INTERVAL * 3));
    expect(ollama.requests.length).toBe(seen);
  });
});
