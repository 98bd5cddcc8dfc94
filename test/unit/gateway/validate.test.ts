import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { parseJsonObject } from '../../../src/gateway/body.js';
import { RequestError } from '../../../src/gateway/request-error.js';
import { validateRequest } from '../../../src/gateway/validate.js';
import type { InferenceKind, JsonObject } from '../../../src/inference/types.js';
import { thrown } from '../../helpers/expect-error.js';

const refusal = (kind: InferenceKind, body: JsonObject) =>
  thrown(() => validateRequest(kind, body), RequestError);

const messages = [{ role: 'user', content: 'hi' }];

describe('request validation', () => {
  it('reads model, stream, include_usage and metadata.action from a chat body', () => {
    const facts = validateRequest('chat', {
      model: 'm',
      messages,
      stream: true,
      stream_options: { include_usage: true },
      metadata: { action: 'edit' },
      temperature: 0.2,
    });
    expect(facts).toEqual({ model: 'm', stream: true, includeUsage: true, metadataAction: 'edit' });
  });

  it('ignores include_usage when not streaming, and stream on embeddings', () => {
    expect(
      validateRequest('chat', { model: 'm', messages, stream_options: { include_usage: true } }),
    ).toMatchObject({
      stream: false,
      includeUsage: false,
    });
    expect(validateRequest('embeddings', { model: 'e', input: 'x', stream: true }).stream).toBe(false);
  });

  it.each([
    ['chat', { messages }, 'model'],
    ['chat', { model: 'm' }, 'messages'],
    ['completions', { model: 'm' }, 'prompt'],
    ['embeddings', { model: 'm' }, 'input'],
  ] as const)('%s without a field → missing_required_parameter naming it', (kind, body, param) => {
    const err = refusal(kind, body);
    expect(err.code).toBe(ErrorCodes.GATEWAY_BAD_REQUEST);
    expect(err.param).toBe(param);
    expect(err.openaiCode).toBe('missing_required_parameter');
  });

  it.each([
    [{ model: 3, messages }, 'model', 'invalid_type'],
    [{ model: '', messages }, 'model', 'invalid_value'],
    [{ model: 'm', messages: 'hi' }, 'messages', 'invalid_type'],
    [{ model: 'm', messages: [] }, 'messages', 'invalid_value'],
    [{ model: 'm', messages: [{ content: 'x' }] }, 'messages[0].role', 'missing_required_parameter'],
    [{ model: 'm', messages, stream: 'yes' }, 'stream', 'invalid_type'],
    [
      { model: 'm', messages, stream_options: { include_usage: 1 } },
      'stream_options.include_usage',
      'invalid_type',
    ],
  ])('refuses %j at %s', (body, param, code) => {
    const err = refusal('chat', body);
    expect(err.param).toBe(param);
    expect(err.openaiCode).toBe(code);
  });

  it('accepts token arrays as prompt and input', () => {
    expect(validateRequest('completions', { model: 'm', prompt: [1, 2, 3] }).model).toBe('m');
    expect(validateRequest('embeddings', { model: 'm', input: ['a', 'b'] }).model).toBe('m');
  });
});

describe('JSON body parsing', () => {
  it('parses an object', () => {
    expect(parseJsonObject(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
  });

  it.each(['', '{"a":', '[1]', 'null', '"text"'])('refuses %j with a 400 RequestError', (text) => {
    expect(() => parseJsonObject(Buffer.from(text))).toThrow(RequestError);
  });
});
