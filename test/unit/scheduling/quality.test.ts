import { describe, expect, it } from 'vitest';
import { checkReply, looksLikeRefusal, type QualityGateConfig } from '../../../src/scheduling/quality.js';

const gate: QualityGateConfig = { enabled: true, json: true, empty: true, truncated: true, refusal: true };
const chat = (content: unknown, finish = 'stop', message: Record<string, unknown> = {}) => ({
  object: 'chat.completion',
  choices: [{ index: 0, finish_reason: finish, message: { role: 'assistant', content, ...message } }],
});
const req = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const jsonReq = { ...req, response_format: { type: 'json_object' } };

describe('checkReply', () => {
  it('passes a normal answer', () => {
    expect(checkReply(req, chat('Paris.'), null, gate)).toEqual({ ok: true });
  });

  it('turns down an empty reply, but not a tool call', () => {
    expect(checkReply(req, chat('  '), null, gate)).toEqual({ ok: false, reason: 'empty' });
    expect(checkReply(req, chat(null), null, gate)).toEqual({ ok: false, reason: 'empty' });
    const tool = chat(null, 'tool_calls', {
      tool_calls: [{ id: '1', type: 'function', function: { name: 'f' } }],
    });
    expect(checkReply(req, tool, null, gate)).toEqual({ ok: true });
  });

  it('turns down a reply cut off by the token limit', () => {
    expect(checkReply(req, chat('The answer is', 'length'), null, gate)).toEqual({
      ok: false,
      reason: 'truncated',
    });
    expect(checkReply(req, 'The answer is', 'length', gate)).toEqual({ ok: false, reason: 'truncated' });
  });

  it('turns down invalid JSON when JSON was asked for', () => {
    expect(checkReply(jsonReq, chat('{"a": 1}'), null, gate)).toEqual({ ok: true });
    expect(checkReply(jsonReq, chat('```json\n{"a": 1}\n```'), null, gate)).toEqual({
      ok: false,
      reason: 'invalid_json',
    });
    expect(checkReply(jsonReq, chat('[1, 2]'), null, gate)).toEqual({ ok: false, reason: 'invalid_json' });
    const schemaReq = {
      ...req,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } },
    };
    expect(checkReply(schemaReq, chat('{"name": "x"}'), null, gate)).toEqual({ ok: true });
    expect(checkReply(schemaReq, chat('name: x'), null, gate)).toEqual({ ok: false, reason: 'invalid_json' });
    expect(checkReply(req, chat('not json, not asked'), null, gate)).toEqual({ ok: true });
  });

  it('turns down a refusal, including the structured refusal field', () => {
    expect(checkReply(req, chat("I'm sorry, but I can't help with that."), null, gate)).toEqual({
      ok: false,
      reason: 'refusal',
    });
    expect(checkReply(req, chat('As an AI language model, I cannot browse.'), null, gate)).toEqual({
      ok: false,
      reason: 'refusal',
    });
    expect(checkReply(jsonReq, chat(null, 'stop', { refusal: 'I cannot do that' }), null, gate)).toEqual({
      ok: false,
      reason: 'refusal',
    });
  });

  it('does not call a long helpful answer a refusal', () => {
    const answer = `I can't help with the old API, but here is the new one:\n${'code line\n'.repeat(80)}`;
    expect(checkReply(req, chat(answer), null, gate)).toEqual({ ok: true });
    expect(looksLikeRefusal('Here is how. Note: I cannot assist with the other part.'.padEnd(700, '.'))).toBe(
      false,
    );
  });

  it('reads curly apostrophes', () => {
    expect(looksLikeRefusal('I can\u2019t help with that request.')).toBe(true);
  });

  it('checks a collected stream and a completions body', () => {
    expect(checkReply(req, { text: '', toolCalls: true }, 'tool_calls', gate)).toEqual({ ok: true });
    expect(checkReply(req, { text: '', toolCalls: false }, 'stop', gate)).toEqual({
      ok: false,
      reason: 'empty',
    });
    const completion = { object: 'text_completion', choices: [{ text: 'ok', finish_reason: 'length' }] };
    expect(checkReply({ prompt: 'x' }, completion, null, gate)).toEqual({ ok: false, reason: 'truncated' });
  });

  it('never judges embeddings', () => {
    expect(checkReply({ input: 'x' }, { object: 'list', data: [] }, null, gate)).toEqual({ ok: true });
  });

  it('honours each switch', () => {
    expect(checkReply(req, chat(''), null, { ...gate, enabled: false })).toEqual({ ok: true });
    expect(checkReply(req, chat(''), null, { ...gate, empty: false })).toEqual({ ok: true });
    expect(checkReply(req, chat('abc', 'length'), null, { ...gate, truncated: false })).toEqual({ ok: true });
    expect(checkReply(jsonReq, chat('nope'), null, { ...gate, json: false })).toEqual({ ok: true });
    expect(checkReply(req, chat('I cannot assist with that.'), null, { ...gate, refusal: false })).toEqual({
      ok: true,
    });
  });
});
