import { describe, expect, it } from 'vitest';
import {
  BackendInvokeError,
  httpError,
  readUpstreamError,
  retryAfterMs,
  upstreamErrorFromText,
} from '../../../src/backends/invoke-errors.js';
import { BackendError, ErrorCodes, SwarmError } from '../../../src/errors.js';

const map = (status: number, body: unknown, wait: number | null = null) =>
  httpError({
    url: 'http://h/v1/chat/completions',
    status,
    upstream: upstreamErrorFromText(typeof body === 'string' ? body : JSON.stringify(body)),
    retryAfterMs: wait,
  });

describe('httpError: each server refusal gets a stable code and retryable', () => {
  const cases: Array<[string, number, unknown, string, boolean]> = [
    [
      'Ollama unknown model',
      404,
      {
        error: {
          message: 'model "x" not found, try pulling it first',
          type: 'not_found_error',
          param: null,
          code: null,
        },
      },
      ErrorCodes.MODEL_NOT_FOUND,
      false,
    ],
    [
      'Ollama queue full',
      503,
      {
        error: {
          message: 'server busy, please try again.  maximum pending requests exceeded',
          type: 'api_error',
          param: null,
          code: null,
        },
      },
      ErrorCodes.BACKEND_OVERLOADED,
      true,
    ],
    [
      'Ollama runner crash',
      500,
      { error: { message: 'llama runner process has terminated', type: 'api_error' } },
      ErrorCodes.BACKEND_ERROR,
      true,
    ],
    [
      'vLLM unknown model (flat, <0.10.1)',
      404,
      {
        object: 'error',
        message: 'The model `foo` does not exist.',
        type: 'NotFoundError',
        param: null,
        code: 404,
      },
      ErrorCodes.MODEL_NOT_FOUND,
      false,
    ],
    [
      'vLLM context overflow',
      400,
      {
        error: {
          message:
            "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens.",
          type: 'BadRequestError',
          param: null,
          code: 400,
        },
      },
      ErrorCodes.CONTEXT_LENGTH_EXCEEDED,
      false,
    ],
    [
      'llama.cpp context overflow',
      400,
      {
        error: {
          code: 400,
          message: 'the request exceeds the available context size, try increasing it',
          type: 'exceed_context_size_error',
          n_prompt_tokens: 9000,
          n_ctx: 8192,
        },
      },
      ErrorCodes.CONTEXT_LENGTH_EXCEEDED,
      false,
    ],
    [
      'llama.cpp loading',
      503,
      { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } },
      ErrorCodes.BACKEND_OVERLOADED,
      true,
    ],
    [
      'llama-swap concurrency (after v250)',
      429,
      {
        src: 'llama-swap',
        error: {
          message: 'Too many requests',
          type: 'rate_limit_error',
          param: null,
          code: 'concurrency_limit',
        },
      },
      ErrorCodes.BACKEND_OVERLOADED,
      true,
    ],
    ['llama-swap concurrency (≤v226 text)', 429, 'Too many requests\n', ErrorCodes.BACKEND_OVERLOADED, true],
    [
      'llama-swap unknown model (≥v218)',
      404,
      { src: 'llama-swap', error: 'no local server found for requested model' },
      ErrorCodes.MODEL_NOT_FOUND,
      false,
    ],
    [
      'llama-swap unknown model (v170)',
      400,
      { error: 'could not find real modelID for x' },
      ErrorCodes.MODEL_NOT_FOUND,
      false,
    ],
    [
      'LM Studio 0.4 unknown model',
      400,
      {
        error: {
          message: 'Invalid model identifier "x". Please specify a valid downloaded model.',
          type: 'invalid_request_error',
        },
      },
      ErrorCodes.MODEL_NOT_FOUND,
      false,
    ],
    [
      'OpenAI context',
      400,
      {
        error: {
          message: 'too long',
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
      },
      ErrorCodes.CONTEXT_LENGTH_EXCEEDED,
      false,
    ],
    [
      'OpenAI model_not_found',
      404,
      {
        error: {
          message: 'The model `x` does not exist',
          type: 'invalid_request_error',
          code: 'model_not_found',
        },
      },
      ErrorCodes.MODEL_NOT_FOUND,
      false,
    ],
    [
      'OpenAI bad parameter',
      400,
      {
        error: {
          message: "Invalid value for 'temperature'",
          type: 'invalid_request_error',
          param: 'temperature',
          code: null,
        },
      },
      ErrorCodes.BACKEND_BAD_REQUEST,
      false,
    ],
    [
      'OpenAI wrong key',
      401,
      {
        error: {
          message: 'Incorrect API key provided.',
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      },
      ErrorCodes.BACKEND_AUTH_FAILED,
      true,
    ],
    [
      'OpenAI quota',
      429,
      { error: { message: 'quota', type: 'insufficient_quota', code: 'insufficient_quota' } },
      ErrorCodes.BACKEND_QUOTA_EXCEEDED,
      true,
    ],
    [
      'OpenRouter no credits',
      402,
      { error: { code: 402, message: 'Insufficient credits' } },
      ErrorCodes.BACKEND_QUOTA_EXCEEDED,
      true,
    ],
    [
      'OpenRouter timeout',
      408,
      { error: { code: 408, message: 'timed out' } },
      ErrorCodes.BACKEND_TIMEOUT,
      true,
    ],
    [
      'OpenRouter model down',
      502,
      { error: { code: 502, message: 'model down' } },
      ErrorCodes.BACKEND_ERROR,
      true,
    ],
    [
      'Gemini array-wrapped context error',
      400,
      [
        {
          error: {
            code: 400,
            message:
              'The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).',
            status: 'INVALID_ARGUMENT',
          },
        },
      ],
      ErrorCodes.CONTEXT_LENGTH_EXCEEDED,
      false,
    ],
    [
      'Gemini array-wrapped bad field',
      400,
      [{ error: { code: 400, message: 'Unknown name "thinking"', status: 'INVALID_ARGUMENT' } }],
      ErrorCodes.BACKEND_BAD_REQUEST,
      false,
    ],
    ["Go's 404 page", 404, '404 page not found', ErrorCodes.MODEL_NOT_FOUND, false],
    [
      'LM Studio 200 with an error body',
      200,
      { error: 'Unexpected endpoint or method. (POST /x). Returning 200 anyway' },
      ErrorCodes.BACKEND_ERROR,
      true,
    ],
  ];
  for (const [name, status, body, code, retryable] of cases) {
    it(name, () => {
      const err = map(status, body);
      expect(err).toBeInstanceOf(BackendError);
      expect(err).toBeInstanceOf(SwarmError);
      expect({ code: err.code, retryable: err.retryable }).toEqual({ code, retryable });
    });
  }

  it('carries the status, the wait and the upstream error', () => {
    const err = map(
      429,
      { error: { message: 'slow down', type: 'requests', code: 'rate_limit_exceeded' } },
      1500,
    );
    expect(err).toMatchObject({ status: 429, retryAfterMs: 1500, chunksDelivered: 0 });
    expect(err.upstream).toMatchObject({ code: 'rate_limit_exceeded', type: 'requests' });
  });

  it('a stream broken after chunks is not retryable; before any it is', () => {
    expect(
      new BackendInvokeError(ErrorCodes.BACKEND_STREAM_BROKEN, 'x', { chunksDelivered: 0 }).retryable,
    ).toBe(true);
    expect(
      new BackendInvokeError(ErrorCodes.BACKEND_STREAM_BROKEN, 'x', { chunksDelivered: 3 }).retryable,
    ).toBe(false);
  });
});

describe('readUpstreamError', () => {
  it('reads every envelope', () => {
    expect(readUpstreamError({ error: { message: 'm', type: 't', code: 'c' } })).toEqual({
      message: 'm',
      type: 't',
      code: 'c',
      status: null,
    });
    expect(readUpstreamError({ error: { code: 503, message: 'm', type: 'unavailable_error' } })).toEqual({
      message: 'm',
      type: 'unavailable_error',
      code: null,
      status: 503,
    });
    expect(readUpstreamError([{ error: { code: 404, message: 'm', status: 'NOT_FOUND' } }])).toEqual({
      message: 'm',
      type: 'NOT_FOUND',
      code: null,
      status: 404,
    });
    expect(readUpstreamError({ error: 'plain' })).toEqual({
      message: 'plain',
      type: null,
      code: null,
      status: null,
    });
    expect(readUpstreamError({ detail: 'Not Found' })).toEqual({
      message: 'Not Found',
      type: null,
      code: null,
      status: null,
    });
    expect(readUpstreamError({ choices: [] })).toBeNull();
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-09-01T00:00:00Z');
  it('prefers retry-after-ms, then seconds, then an HTTP date', () => {
    expect(retryAfterMs({ 'retry-after-ms': '1500', 'retry-after': '9' }, now)).toBe(1500);
    expect(retryAfterMs({ 'retry-after': '1' }, now)).toBe(1000);
    expect(retryAfterMs({ 'retry-after': 'Tue, 01 Sep 2026 00:00:05 GMT' }, now)).toBe(5000);
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeNull();
    expect(retryAfterMs({}, now)).toBeNull();
  });
});
