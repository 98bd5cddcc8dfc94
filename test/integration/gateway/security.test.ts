import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { rejected } from '../../helpers/expect-error.js';
import { type Harness, rawRequest, startGateway } from './helpers.js';

let h: Harness;

const messages = [{ role: 'user' as const, content: 'hi' }];
const KEY = 'sk-swarm-0123456789abcdef';
const chatJson = JSON.stringify({ model: 'coder', messages });

describe('gateway security', () => {
  it('requires a configured API key (401 invalid_api_key otherwise) and labels the client by key', async () => {
    h = await startGateway({ apiKeys: ['another-key-0000000', KEY], apiKey: 'wrong-key' });
    const err = await rejected(
      h.client.chat.completions.create({ model: 'coder', messages }),
      OpenAI.AuthenticationError,
    );
    expect(err.code).toBe('invalid_api_key');
    await rejected(h.client.models.list(), OpenAI.AuthenticationError);
    expect(h.dispatcher.requests).toHaveLength(0);

    const good = new OpenAI({ baseURL: h.baseURL, apiKey: KEY, maxRetries: 0 });
    await good.chat.completions.create({ model: 'coder', messages });
    expect(h.dispatcher.requests[0]?.client).toBe('key-1');
  });

  it('leaves /health open when keys are set', async () => {
    h = await startGateway({ apiKeys: [KEY] });
    expect((await rawRequest(h.port, { path: '/health' })).status).toBe(200);
  });

  it('refuses a browser-like Origin with 403 when no keys are set, and allows local pages', async () => {
    h = await startGateway();
    const refused = await rawRequest(h.port, {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: chatJson,
    });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).error.type).toBe('invalid_request_error');
    expect(refused.headers['x-swarm-error-code']).toBe(ErrorCodes.GATEWAY_FORBIDDEN_ORIGIN);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    expect(h.dispatcher.requests).toHaveLength(0);

    const viaClient = new OpenAI({
      baseURL: h.baseURL,
      apiKey: 'x',
      maxRetries: 0,
      defaultHeaders: { origin: 'http://attacker.example' },
    });
    await expect(viaClient.models.list()).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);

    const local = await rawRequest(h.port, {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { origin: 'http://localhost:3000', 'content-type': 'application/json' },
      body: chatJson,
    });
    expect(local.status).toBe(200);
  });

  it('lets any Origin through to the key check when keys are set', async () => {
    h = await startGateway({ apiKeys: [KEY] });
    const reply = await rawRequest(h.port, {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { origin: 'https://app.example', authorization: `Bearer ${KEY}` },
      body: chatJson,
    });
    expect(reply.status).toBe(200);
  });

  it('refuses a foreign Host header on loopback (DNS rebinding)', async () => {
    h = await startGateway();
    const reply = await rawRequest(h.port, {
      path: '/v1/models',
      headers: { host: `evil.example:${h.port}` },
    });
    expect(reply.status).toBe(403);
    expect(reply.headers['x-swarm-error-code']).toBe(ErrorCodes.GATEWAY_FORBIDDEN_HOST);
    const ok = await rawRequest(h.port, { path: '/v1/models', headers: { host: `localhost:${h.port}` } });
    expect(ok.status).toBe(200);
  });

  it('answers 413 to a body over the limit, by Content-Length and by streaming upload', async () => {
    h = await startGateway({ maxBodyBytes: 64 * 1024 });
    const huge = 'x'.repeat(200 * 1024);
    const err = await rejected(
      h.client.chat.completions.create({ model: 'coder', messages: [{ role: 'user', content: huge }] }),
      OpenAI.APIError,
    );
    expect(err.status).toBe(413);
    expect(err.code).toBe('request_too_large');

    const chunked = await rawRequest(h.port, {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'transfer-encoding': 'chunked' },
      body: JSON.stringify({ model: 'coder', messages: [{ role: 'user', content: huge }] }),
    });
    expect(chunked.status).toBe(413);
    expect(h.dispatcher.requests).toHaveLength(0);
  });

  it('answers 413 to a body over the default 32 MiB limit', async () => {
    h = await startGateway();
    const content = 'y'.repeat(33 * 1024 * 1024);
    const err = await rejected(
      h.client.chat.completions.create({ model: 'coder', messages: [{ role: 'user', content }] }),
      OpenAI.APIError,
    );
    expect(err.status).toBe(413);
  });

  it('refuses invalid JSON with 400 invalid_request_error', async () => {
    h = await startGateway();
    const reply = await rawRequest(h.port, {
      method: 'POST',
      path: '/v1/chat/completions',
      body: '{"model":',
    });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_json',
    });
  });
});
