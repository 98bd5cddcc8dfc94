// swarmd's llama.cpp adapter, detection, monitor and invoke path against a real llama-server
// (the tiny random-weights model): what the probe reads (models, per-slot context, slots), what
// a request gets back (whole and streamed, usage included), that a client going away frees the
// server's slot, and --api-key.
import { afterAll, describe, expect, it } from 'vitest';
import { detectBackend } from '../../src/backends/detect.js';
import { invokeBackend } from '../../src/backends/invoke.js';
import { BackendInvokeError } from '../../src/backends/invoke-errors.js';
import { probe } from '../../src/backends/llamacpp.js';
import { BackendMonitor } from '../../src/backends/monitor.js';
import { ErrorCodes } from '../../src/errors.js';
import type { JsonObject } from '../../src/inference/types.js';
import { silentLogger } from '../../src/util/logger.js';
import { LlamaServer, sleep, stopAllLlamaServers } from '../helpers/llama-server.js';

afterAll(stopAllLlamaServers);

const ctx = { timeoutMs: 5000, defaultMaxConcurrency: 4, modelOverrides: {} };
const hi = [{ role: 'user', content: 'Say hello.' }];

const target = (server: LlamaServer, apiKey?: string) => ({
  kind: 'llamacpp' as const,
  baseUrl: server.url,
  model: 'tiny',
  ...(apiKey !== undefined && { apiKey }),
});

interface Slot {
  id: number;
  n_ctx: number;
  is_processing: boolean;
}

describe('probing a real llama-server', () => {
  it('lists its one model under --alias, loaded, with the per-slot context and -np as concurrency', async () => {
    const server = await LlamaServer.start({ alias: 'tiny', ctx: 1024, parallel: 4 });
    const result = await probe(server.url, ctx);
    expect(result).toMatchObject({ healthy: true, error: null });
    expect(result.version).toMatch(/\S/);
    expect(result.models).toEqual([
      { id: 'tiny', loaded: true, contextLength: 256, maxConcurrency: 4, sizeVramBytes: null },
    ]);
    // The numbers are the server's own: /slots has one entry per -np slot, each with that context.
    const slots = await server.getJson<Slot[]>('/slots');
    expect(slots.map((slot) => slot.n_ctx)).toEqual([256, 256, 256, 256]);
    const props = await server.getJson<{ total_slots: number; build_info: string }>('/props');
    expect(props.total_slots).toBe(4);
    expect(result.version).toBe(props.build_info);
  });

  it('follows -np for concurrency (one slot: one request at a time)', async () => {
    const server = await LlamaServer.start({ alias: 'tiny', ctx: 512, parallel: 1 });
    const result = await probe(server.url, ctx);
    expect(result.models).toEqual([
      { id: 'tiny', loaded: true, contextLength: 512, maxConcurrency: 1, sizeVramBytes: null },
    ]);
  });

  it('is detected as llamacpp, and the monitor reports it', async () => {
    const server = await LlamaServer.start({ alias: 'tiny' });
    expect(await detectBackend(server.url, { timeoutMs: 5000 })).toEqual({
      kind: 'llamacpp',
      reachable: true,
      error: null,
    });
    const monitor = new BackendMonitor(
      { logger: silentLogger },
      {
        autoDetect: false,
        probeIntervalMs: 60_000,
        probeTimeoutMs: 5000,
        defaultMaxConcurrency: 4,
        servers: [{ url: server.url, kind: 'auto', models: {} }],
      },
    );
    await monitor.start();
    try {
      expect(monitor.list()).toMatchObject([
        {
          kind: 'llamacpp',
          url: server.url,
          healthy: true,
          models: [{ id: 'tiny', loaded: true, contextLength: 256, maxConcurrency: 2 }],
        },
      ]);
    } finally {
      await monitor.stop();
    }
  });
});

describe('running requests on a real llama-server', () => {
  it('answers a whole chat with usage and stops at max_tokens with finish_reason "length"', async () => {
    const server = await LlamaServer.start({ alias: 'tiny' });
    const result = await invokeBackend(
      target(server),
      {
        kind: 'chat',
        body: { model: 'anything', messages: hi, max_tokens: 8, temperature: 0 },
        stream: false,
      },
      { signal: AbortSignal.timeout(10_000) },
    );
    const body = result.body as { model: string; choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
    expect(result.finishReason).toBe('length');
    expect(result.usage).toMatchObject({ completionTokens: 8 });
    expect(result.usage?.promptTokens).toBeGreaterThan(0);
  });

  it('names the swarm’s model id in replies, never the file path llama-server puts there', async () => {
    const server = await LlamaServer.start({});
    const asSwarm = { ...target(server), model: 'tiny-in-swarm' };
    const body = { model: 'tiny-in-swarm', messages: hi, max_tokens: 4 };
    const whole = await invokeBackend(
      asSwarm,
      { kind: 'chat', body, stream: false },
      { signal: AbortSignal.timeout(10_000) },
    );
    expect(whole.body?.model).toBe('tiny-in-swarm');
    const chunks: JsonObject[] = [];
    await invokeBackend(
      asSwarm,
      { kind: 'chat', body, stream: true },
      { signal: AbortSignal.timeout(10_000), onChunk: (chunk) => chunks.push(chunk) },
    );
    expect(chunks.length).toBeGreaterThan(0);
    expect(new Set(chunks.map((c) => c.model))).toEqual(new Set(['tiny-in-swarm']));
    expect(JSON.stringify([whole.body, chunks])).not.toContain('.gguf');
  });

  it('streams canonical chunks and reports usage from the stream', async () => {
    const server = await LlamaServer.start({ alias: 'tiny' });
    const chunks: JsonObject[] = [];
    const result = await invokeBackend(
      target(server),
      { kind: 'chat', body: { model: 'tiny', messages: hi, max_tokens: 8, temperature: 0 }, stream: true },
      { signal: AbortSignal.timeout(10_000), onChunk: (chunk) => chunks.push(chunk) },
    );
    const deltas = chunks.map((c) => (c.choices as Array<{ delta: { role?: string; content?: string } }>)[0]);
    expect(deltas[0]?.delta.role).toBe('assistant');
    expect(deltas.map((d) => d?.delta.content ?? '').join('').length).toBeGreaterThan(0);
    expect(result.finishReason).toBe('length');
    expect(result.usage).toMatchObject({ completionTokens: 8 });
    // One id for the whole answer, as OpenAI clients expect.
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('frees the slot when the client goes away mid-stream', async () => {
    const server = await LlamaServer.start({ alias: 'tiny', ctx: 4096, parallel: 1 });
    const abort = new AbortController();
    let chunks = 0;
    const run = invokeBackend(
      target(server),
      {
        kind: 'chat',
        // ignore_eos: the random model must not end early; the whole context takes seconds to fill.
        body: { model: 'tiny', messages: hi, max_tokens: 4000, ignore_eos: true },
        stream: true,
      },
      {
        signal: abort.signal,
        onChunk: () => {
          chunks += 1;
        },
      },
    ).catch((err: unknown) => err);
    while (chunks < 5) await sleep(5);
    expect(await server.busySlots()).toBe(1);
    abort.abort();
    expect((await run) as Error).toMatchObject({ name: 'AbortError' });
    // Uncut, the 4000 tokens take about 4 s here; the slot must be free well before that.
    const freedAt = Date.now();
    while ((await server.busySlots()) > 0) {
      if (Date.now() - freedAt > 1500) throw new Error('the slot is still busy 1.5 s after the client left');
      await sleep(20);
    }
  });
});

describe('embeddings from a real llama-server (--embeddings --pooling mean)', () => {
  it('answers floats by default and base64 little-endian float32 when asked, as the fakes do', async () => {
    const server = await LlamaServer.start({
      alias: 'tiny',
      extraArgs: ['--embeddings', '--pooling', 'mean'],
    });
    const ask = async (extra: JsonObject) => {
      const result = await invokeBackend(
        target(server),
        { kind: 'embeddings', body: { model: 'tiny', input: 'hello there', ...extra }, stream: false },
        { signal: AbortSignal.timeout(10_000) },
      );
      return (result.body as { data: Array<{ embedding: unknown }> }).data[0]?.embedding;
    };
    const floats = (await ask({})) as number[];
    expect(floats.length).toBeGreaterThan(0);
    expect(floats.every((v) => typeof v === 'number')).toBe(true);
    const base64 = await ask({ encoding_format: 'base64' });
    expect(typeof base64).toBe('string');
    const bytes = Buffer.from(base64 as string, 'base64');
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    expect(decoded).toHaveLength(floats.length);
    for (const [i, v] of decoded.entries()) expect(v).toBeCloseTo(floats[i]!, 5);
  });
});

describe('a real llama-server with --api-key', () => {
  it('is probed with the key and refuses a request without it as an auth failure', async () => {
    const server = await LlamaServer.start({ alias: 'tiny', apiKey: 'sekrit-1' });
    const withKey = await probe(server.url, { ...ctx, apiKey: 'sekrit-1' });
    expect(withKey).toMatchObject({ healthy: true, models: [{ id: 'tiny' }] });
    const without = await probe(server.url, ctx);
    expect(without.healthy).toBe(false);
    expect(without.error).toMatch(/401/);

    const request = {
      kind: 'chat' as const,
      body: { model: 'tiny', messages: hi, max_tokens: 4 },
      stream: false,
    };
    const ok = await invokeBackend(target(server, 'sekrit-1'), request, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(ok.usage?.completionTokens).toBeGreaterThan(0);
    const refused = await invokeBackend(target(server, 'wrong'), request, {
      signal: AbortSignal.timeout(10_000),
    }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(BackendInvokeError);
    expect(refused).toMatchObject({ code: ErrorCodes.BACKEND_AUTH_FAILED, status: 401 });
  });
});
