import { createServer } from 'node:net';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { GatewayServer } from '../../../src/gateway/server.js';
import { silentLogger } from '../../../src/util/logger.js';
import { rejected } from '../../helpers/expect-error.js';
import { waitUntil } from '../../helpers/wait.js';
import {
  aborted,
  CATALOGUE,
  type Harness,
  outcome,
  rawRequest,
  ScriptedDispatcher,
  servedBy,
  startGateway,
} from './helpers.js';

let h: Harness;

describe('gateway routes', () => {
  it('lists the catalogue in OpenAI shape with a swarm field per entry', async () => {
    h = await startGateway();
    const page = await h.client.models.list();
    expect(page.data.map((m) => m.id)).toEqual(CATALOGUE.map((e) => e.id));
    const [model, alias] = page.data as unknown as Record<string, unknown>[];
    expect(model).toMatchObject({
      id: 'qwen2.5-coder:7b',
      object: 'model',
      owned_by: 'swarmd',
      created: expect.any(Number),
      swarm: { kind: 'model', nodes: ['box-a', 'box-b'], loaded: true, contextLength: 32768 },
    });
    expect(alias).toMatchObject({ id: 'coder', swarm: { kind: 'alias' } });
    const raw = JSON.parse((await rawRequest(h.port, { path: '/v1/models' })).text);
    expect(raw.object).toBe('list');
  });

  it('retrieves one model and answers model_not_found for others', async () => {
    h = await startGateway();
    expect((await h.client.models.retrieve('qwen2.5-coder:7b')).id).toBe('qwen2.5-coder:7b');
    const err = await rejected(h.client.models.retrieve('missing'), OpenAI.NotFoundError);
    expect(err.code).toBe('model_not_found');
  });

  it('serves embeddings and completions through the dispatcher', async () => {
    h = await startGateway();
    h.dispatcher.script = async (request) =>
      request.kind === 'embeddings'
        ? outcome(
            {
              object: 'list',
              data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }],
              model: 'nomic-embed-text',
            },
            { usage: { promptTokens: 4, completionTokens: 0, totalTokens: 4 } },
          )
        : outcome({
            id: 'cmpl-1',
            object: 'text_completion',
            created: 1,
            model: 'm',
            choices: [{ text: 'world', index: 0, logprobs: null, finish_reason: 'stop' }],
          });
    const embedded = await h.client.embeddings.create({
      model: 'nomic-embed-text',
      input: 'hello',
      encoding_format: 'float',
    });
    expect(embedded.data[0]?.embedding).toEqual([0.1, 0.2]);
    expect(embedded.usage).toMatchObject({ prompt_tokens: 4, total_tokens: 4 });
    const completed = await h.client.completions.create({ model: 'm', prompt: 'hello' });
    expect(completed.choices[0]?.text).toBe('world');
    expect(completed.usage?.total_tokens).toBe(18);
    expect(h.dispatcher.requests.map((r) => r.kind)).toEqual(['embeddings', 'completions']);
  });

  it('streams legacy completions', async () => {
    h = await startGateway();
    h.dispatcher.script = async (_request, hooks) => {
      hooks.onStart?.(servedBy);
      for (const text of ['a', 'b']) {
        hooks.onChunk?.({
          id: 'cmpl-1',
          object: 'text_completion',
          created: 1,
          model: 'm',
          choices: [{ text, index: 0 }],
        });
      }
      return outcome(null);
    };
    const stream = await h.client.completions.create({ model: 'm', prompt: 'x', stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe('ab');
  });

  it('answers health, root, 404 and 405 in the right shapes', async () => {
    h = await startGateway();
    const health = await rawRequest(h.port, { path: '/health' });
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', node: 'box-a', nodeId: 'node-a-id' });
    const root = await rawRequest(h.port, { path: '/' });
    expect(root.status).toBe(200);
    expect(root.text).toContain('/v1');
    const missing = await rawRequest(h.port, { path: '/v1/nothing' });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text).error).toMatchObject({ type: 'invalid_request_error' });
    expect(missing.headers['x-swarm-error-code']).toBe(ErrorCodes.GATEWAY_NOT_FOUND);
    const wrong = await rawRequest(h.port, { path: '/v1/chat/completions' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
    expect(JSON.parse(wrong.text).error.message).toContain('POST');
  });

  it('keeps connections alive between requests', async () => {
    h = await startGateway();
    const first = await rawRequest(h.port, { path: '/health' });
    expect(first.headers.connection).toBe('keep-alive');
  });

  it('fails to start on a taken port with PORT_IN_USE naming gateway.port', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const gateway = new GatewayServer(
        { logger: silentLogger, dispatcher: new ScriptedDispatcher(), catalogue: () => [] },
        { host: '127.0.0.1', port, apiKeys: [], nodeName: 'a', nodeId: 'a' },
      );
      const err = await rejected(gateway.start(), SwarmError);
      expect(err.code).toBe(ErrorCodes.PORT_IN_USE);
      expect(err.message).toContain('gateway.port');
      await gateway.stop();
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('stop() is safe twice and aborts requests still running after the grace period', async () => {
    h = await startGateway({ stopGraceMs: 100 });
    h.dispatcher.script = async (_request, hooks) => {
      await aborted(hooks.signal);
      throw new SwarmError(ErrorCodes.BACKEND_ERROR, 'aborted');
    };
    const call = h.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    const settled = rejected(call, OpenAI.APIError);
    await waitUntil(() => h.dispatcher.signals.length > 0, 'the dispatcher to be called', 5_000, 5);
    await Promise.all([h.gateway.stop(), h.gateway.stop()]);
    expect(h.dispatcher.signals[0]?.aborted).toBe(true);
    await settled;
  });
});
