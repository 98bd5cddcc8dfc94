import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { rejected } from '../../helpers/expect-error.js';
import { sleep, waitUntil } from '../../helpers/wait.js';
import { aborted, chatChunk, type Harness, outcome, servedBy, startGateway } from './helpers.js';

let h: Harness;

const messages = [{ role: 'user' as const, content: 'hi' }];

function failWith(err: unknown): (typeof h.dispatcher)['script'] {
  return async () => {
    throw err;
  };
}

describe('gateway errors (openai client)', () => {
  it('MODEL_NOT_FOUND → NotFoundError model_not_found, naming the model', async () => {
    h = await startGateway();
    h.dispatcher.script = failWith(new SwarmError(ErrorCodes.MODEL_NOT_FOUND, 'no node serves it'));
    const err = await rejected(
      h.client.chat.completions.create({ model: 'nope', messages }),
      OpenAI.APIError,
    );
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.status).toBe(404);
    expect(err.code).toBe('model_not_found');
    expect(err.type).toBe('invalid_request_error');
    expect(err.message).toContain('`nope`');
    expect(err.headers?.get('x-swarm-error-code')).toBe(ErrorCodes.MODEL_NOT_FOUND);
    expect(err.headers?.get('x-request-id')).toMatch(/^req_/);
    expect(err.headers?.get('x-swarm-node')).toBe('box-a');
  });

  it('QUEUE_FULL → RateLimitError with Retry-After and retry-after-ms', async () => {
    h = await startGateway();
    h.dispatcher.script = failWith(
      Object.assign(new SwarmError(ErrorCodes.QUEUE_FULL, 'every queue is full'), { retryAfterMs: 1500 }),
    );
    const err = await rejected(
      h.client.chat.completions.create({ model: 'coder', messages }),
      OpenAI.APIError,
    );
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.code).toBe('rate_limit_exceeded');
    expect(err.headers?.get('retry-after')).toBe('2');
    expect(err.headers?.get('retry-after-ms')).toBe('1500');
  });

  it.each([
    [ErrorCodes.CONTEXT_LENGTH_EXCEEDED, OpenAI.BadRequestError, 400, 'context_length_exceeded'],
    [ErrorCodes.BACKEND_BAD_REQUEST, OpenAI.BadRequestError, 400, null],
    [ErrorCodes.PRIVACY_INVALID, OpenAI.BadRequestError, 400, 'invalid_privacy'],
    [ErrorCodes.BACKEND_OVERLOADED, OpenAI.InternalServerError, 503, 'server_is_overloaded'],
    [ErrorCodes.NO_CAPACITY, OpenAI.InternalServerError, 503, 'no_capacity'],
    [ErrorCodes.PEER_UNREACHABLE, OpenAI.InternalServerError, 500, 'server_error'],
  ])('%s → %o %i', async (code, errorClass, status, openaiCode) => {
    h = await startGateway();
    h.dispatcher.script = failWith(new SwarmError(code, 'it failed'));
    const err = await rejected(
      h.client.chat.completions.create({ model: 'coder', messages }),
      OpenAI.APIError,
    );
    expect(err).toBeInstanceOf(errorClass);
    expect(err.status).toBe(status);
    expect(err.code).toBe(openaiCode);
    expect(err.headers?.get('x-swarm-error-code')).toBe(code);
    if (status === 503) expect(Number(err.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('an unexpected exception → 500 server_error that hides its message', async () => {
    h = await startGateway();
    h.dispatcher.script = failWith(new TypeError('cannot read /secret/path'));
    const err = await rejected(
      h.client.chat.completions.create({ model: 'coder', messages }),
      OpenAI.APIError,
    );
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err.type).toBe('server_error');
    expect(err.message).not.toContain('secret');
  });

  it('a streaming request that fails before any chunk gets a normal JSON error', async () => {
    h = await startGateway();
    h.dispatcher.script = failWith(new SwarmError(ErrorCodes.MODEL_NOT_FOUND, 'no'));
    const err = await rejected(
      h.client.chat.completions.create({ model: 'nope', messages, stream: true }),
      OpenAI.APIError,
    );
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.code).toBe('model_not_found');
  });

  it('a failure after the first chunk arrives as an error in the stream', async () => {
    h = await startGateway();
    h.dispatcher.script = async (_request, hooks) => {
      hooks.onStart?.(servedBy);
      hooks.onChunk?.(chatChunk({ role: 'assistant', content: 'par' }));
      await sleep(5);
      throw new SwarmError(ErrorCodes.BACKEND_STREAM_BROKEN, 'the backend stopped mid-answer');
    };
    const stream = await h.client.chat.completions.create({ model: 'coder', messages, stream: true });
    const texts: string[] = [];
    const err = await rejected(
      (async () => {
        for await (const chunk of stream) texts.push(chunk.choices[0]?.delta.content ?? '');
      })(),
      OpenAI.APIError,
    );
    expect(texts).toEqual(['par']);
    expect(err.code).toBe('server_error');
    expect(err.message).toContain('the backend stopped mid-answer');
  });

  it('invalid requests → BadRequestError naming the param', async () => {
    h = await startGateway();
    const err = await rejected(
      h.client.chat.completions.create({
        model: 'coder',
      } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming),
      OpenAI.APIError,
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe('messages');
    expect(err.code).toBe('missing_required_parameter');
    const bad = await rejected(
      h.client.chat.completions.create(
        { model: 'coder', messages },
        { headers: { 'x-swarm-privacy': 'public' } },
      ),
      OpenAI.APIError,
    );
    expect(bad.code).toBe('invalid_privacy');
    expect(h.dispatcher.requests).toHaveLength(0);
  });

  it('out-of-bound n and max_tokens → 400 naming the bound, and the backend never sees them', async () => {
    h = await startGateway();
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ n: 1e9 }, 'n', /between 1 and 128/],
      [{ n: 0 }, 'n', /between 1 and 128/],
      [{ max_tokens: -5 }, 'max_tokens', /at least 1/],
      [{ max_tokens: 0 }, 'max_tokens', /at least 1/],
      [{ max_completion_tokens: 2.5 }, 'max_completion_tokens', /whole number/],
    ];
    for (const [extra, param, bound] of cases) {
      const err = await rejected(
        h.client.chat.completions.create({
          model: 'coder',
          messages,
          ...extra,
        } as OpenAI.ChatCompletionCreateParamsNonStreaming),
        OpenAI.APIError,
      );
      expect(err, param).toBeInstanceOf(OpenAI.BadRequestError);
      expect(err.param).toBe(param);
      expect(err.message).toMatch(bound);
    }
    expect(h.dispatcher.requests).toHaveLength(0);
    // Large values pass: backends clamp max_tokens to what the context leaves.
    await h.client.chat.completions.create({ model: 'coder', messages, max_tokens: 1_000_000, n: 2 });
    expect(h.dispatcher.requests).toHaveLength(1);
  });

  it('JSON nested past 512 levels → 400 invalid_json naming the bound, not a 500', async () => {
    h = await startGateway();
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const body = `{"model":"coder","messages":[{"role":"user","content":"hi"}],"tools":${deep}}`;
    const res = await fetch(`${h.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
      body,
    });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { code: string; message: string } };
    expect(json.error.code).toBe('invalid_json');
    expect(json.error.message).toMatch(/512/);
    expect(h.dispatcher.requests).toHaveLength(0);
  });

  it('aborting a non-streaming call aborts the dispatcher signal promptly', async () => {
    h = await startGateway();
    let abortedAt = 0;
    h.dispatcher.script = async (_request, hooks) => {
      await aborted(hooks.signal);
      abortedAt = Date.now();
      throw new SwarmError(ErrorCodes.BACKEND_ERROR, 'aborted');
    };
    const controller = new AbortController();
    const call = h.client.chat.completions.create(
      { model: 'coder', messages },
      { signal: controller.signal },
    );
    await waitUntil(() => h.dispatcher.signals.length === 1, 'the dispatcher to be called', 3000, 5);
    const abortAt = Date.now();
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    await waitUntil(() => abortedAt !== 0, "the dispatcher's signal to abort", 3000, 5);
    expect(abortedAt - abortAt).toBeLessThan(500);
  });

  it('aborting a stream mid-way aborts the dispatcher signal promptly', async () => {
    h = await startGateway();
    let abortedAt = 0;
    h.dispatcher.script = async (_request, hooks) => {
      hooks.onStart?.(servedBy);
      hooks.onChunk?.(chatChunk({ role: 'assistant', content: 'first' }));
      await aborted(hooks.signal);
      abortedAt = Date.now();
      return outcome(null);
    };
    const controller = new AbortController();
    const stream = await h.client.chat.completions.create(
      { model: 'coder', messages, stream: true },
      { signal: controller.signal },
    );
    let abortAt = 0;
    let received = 0;
    // The SDK ends the iteration quietly (or throws APIUserAbortError) once its signal aborts.
    await (async () => {
      for await (const _chunk of stream) {
        received++;
        abortAt = Date.now();
        controller.abort();
      }
    })().catch((err: unknown) => expect(err).toBeInstanceOf(OpenAI.APIUserAbortError));
    expect(received).toBe(1);
    await waitUntil(() => abortedAt !== 0, "the dispatcher's signal to abort", 3000, 5);
    expect(abortedAt - abortAt).toBeLessThan(500);
  });
});
