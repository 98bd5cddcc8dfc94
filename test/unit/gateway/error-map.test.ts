import { describe, expect, it } from 'vitest';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { ERROR_RULES, toHttpError } from '../../../src/gateway/error-map.js';
import { RequestError } from '../../../src/gateway/request-error.js';

describe('gateway error mapping', () => {
  it.each([
    [ErrorCodes.MODEL_NOT_FOUND, 404, 'invalid_request_error', 'model_not_found'],
    [ErrorCodes.CONTEXT_LENGTH_EXCEEDED, 400, 'invalid_request_error', 'context_length_exceeded'],
    [ErrorCodes.QUEUE_FULL, 429, 'requests', 'rate_limit_exceeded'],
    [ErrorCodes.BACKEND_OVERLOADED, 503, 'server_error', 'server_is_overloaded'],
    [ErrorCodes.NO_CAPACITY, 503, 'server_error', 'no_capacity'],
    [ErrorCodes.BACKEND_BAD_REQUEST, 400, 'invalid_request_error', null],
    [ErrorCodes.UNAUTHORIZED, 401, 'invalid_request_error', 'invalid_api_key'],
    [ErrorCodes.PRIVACY_INVALID, 400, 'invalid_request_error', 'invalid_privacy'],
    [ErrorCodes.ARGS_INVALID, 400, 'invalid_request_error', null],
    [ErrorCodes.GATEWAY_BODY_TOO_LARGE, 413, 'invalid_request_error', 'request_too_large'],
    [ErrorCodes.BACKEND_UNREACHABLE, 500, 'server_error', 'server_error'],
    [ErrorCodes.NODE_NOT_FOUND, 503, 'server_error', 'no_capacity'],
    [ErrorCodes.TASK_REFUSED, 503, 'server_error', 'server_is_overloaded'],
    [ErrorCodes.WORKER_LOST, 503, 'server_error', 'worker_lost'],
    [ErrorCodes.BACKEND_AUTH_FAILED, 502, 'server_error', 'upstream_auth_failed'],
    [ErrorCodes.TASK_NOT_FOUND, 404, 'invalid_request_error', 'task_not_found'],
  ])('%s → %i %s/%s', (code, status, type, openaiCode) => {
    const mapped = toHttpError(new SwarmError(code, 'what went wrong'));
    expect(mapped.status).toBe(status);
    expect(mapped.error).toEqual({ message: expect.any(String), type, param: null, code: openaiCode });
    expect(mapped.headers['x-swarm-error-code']).toBe(code);
    expect(mapped.swarmCode).toBe(code);
  });

  it('words model_not_found like OpenAI, naming the model', () => {
    const mapped = toHttpError(new SwarmError(ErrorCodes.MODEL_NOT_FOUND, 'no node has it'), {
      model: 'qwen9',
    });
    expect(mapped.error.message).toMatch(/^The model `qwen9` does not exist/);
  });

  it('sends Retry-After in seconds and retry-after-ms on 429 and 503', () => {
    const queue = toHttpError(new SwarmError(ErrorCodes.QUEUE_FULL, 'queue full'));
    expect(queue.headers['retry-after']).toBe('1');
    expect(queue.headers['retry-after-ms']).toBe('1000');
    const overloaded = toHttpError(new SwarmError(ErrorCodes.BACKEND_OVERLOADED, 'busy'));
    expect(Number(overloaded.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const plain = toHttpError(new SwarmError(ErrorCodes.MODEL_NOT_FOUND, 'x'));
    expect(plain.headers['retry-after']).toBeUndefined();
  });

  it('prefers a retryAfterMs the error carries, rounding seconds up', () => {
    const err = Object.assign(new SwarmError(ErrorCodes.QUEUE_FULL, 'full'), { retryAfterMs: 2300 });
    const mapped = toHttpError(err);
    expect(mapped.headers['retry-after']).toBe('3');
    expect(mapped.headers['retry-after-ms']).toBe('2300');
    const zero = Object.assign(new SwarmError(ErrorCodes.QUEUE_FULL, 'full'), { retryAfterMs: 0 });
    expect(toHttpError(zero).headers['retry-after-ms']).toBe('1000');
  });

  it('carries param and code of a RequestError', () => {
    const mapped = toHttpError(
      new RequestError("Missing required parameter: 'messages'.", {
        param: 'messages',
        openaiCode: 'missing_required_parameter',
      }),
    );
    expect(mapped.status).toBe(400);
    expect(mapped.error.param).toBe('messages');
    expect(mapped.error.code).toBe('missing_required_parameter');
    expect(mapped.swarmCode).toBe(ErrorCodes.GATEWAY_BAD_REQUEST);
  });

  it('never shows the message or stack of an unexpected error', () => {
    const mapped = toHttpError(new TypeError('secret /home/user/path at line 3'), { requestId: 'req_1' });
    expect(mapped.status).toBe(500);
    expect(mapped.error.type).toBe('server_error');
    expect(mapped.error.message).not.toContain('secret');
    expect(mapped.error.message).toContain('req_1');
    expect(mapped.swarmCode).toBe(ErrorCodes.INTERNAL);
  });

  it('maps every rule to a 4xx or 5xx status', () => {
    for (const rule of Object.values(ERROR_RULES)) {
      expect(rule.status).toBeGreaterThanOrEqual(400);
      expect(rule.status).toBeLessThan(600);
    }
  });
});
