import { describe, expect, it } from 'vitest';
import { parseSse, type SseEvent, SseParser } from '../../../src/backends/stream/sse.js';

const enc = new TextEncoder();

// Feed bytes cut at the given offsets; collect every event.
function feedSplit(bytes: Uint8Array, cuts: number[]): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...parser.push(bytes.subarray(from, cut)));
    from = cut;
  }
  events.push(...parser.end());
  return events;
}

describe('SseParser', () => {
  it('yields one event per blank-line-terminated block, data joined by newlines', () => {
    const events = parseSse('data: {"a":1}\n\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n');
    expect(events.map((e) => e.data)).toEqual(['{"a":1}', 'line1\nline2', '[DONE]']);
  });

  it('accepts CRLF and lone CR line ends', () => {
    expect(parseSse('data: a\r\n\r\ndata: b\r\rdata: c\n\n').map((e) => e.data)).toEqual(['a', 'b', 'c']);
  });

  it("skips comment lines such as OpenRouter's keep-alive", () => {
    const body = ': OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\ndata: {"x":1}\n: inline comment\n\n';
    expect(parseSse(body)).toEqual([{ event: null, data: '{"x":1}' }]);
  });

  it('keeps the event name, ignores id/retry/unknown fields, strips only one leading space', () => {
    const body = 'event: error\nid: 7\nretry: 100\nfoo: bar\ndata:  two spaces\n\ndata:nospace\n\ndata\n\n';
    expect(parseSse(body)).toEqual([
      { event: 'error', data: ' two spaces' },
      { event: null, data: 'nospace' },
      { event: null, data: '' },
    ]);
  });

  it('blocks without data dispatch nothing', () => {
    expect(parseSse('event: ping\n\n\n\nid: 3\n\n')).toEqual([]);
  });

  it('keeps a last event whose blank line never came (server closed after [DONE])', () => {
    expect(parseSse('data: {"a":1}\n\ndata: [DONE]\n').map((e) => e.data)).toEqual(['{"a":1}', '[DONE]']);
    expect(parseSse('data: [DONE]').map((e) => e.data)).toEqual(['[DONE]']);
  });

  it('gives the same events whatever byte boundaries the body arrives in (UTF-8 and CRLF split)', () => {
    const body = enc.encode(
      ': OPENROUTER PROCESSING\r\n\r\ndata: {"content":"héllo wörld 🎉"}\r\n\r\ndata: {"content":"日本"}\n\ndata: [DONE]\r\n\r\n',
    );
    const whole = feedSplit(body, []);
    expect(whole.map((e) => e.data)).toEqual([
      '{"content":"héllo wörld 🎉"}',
      '{"content":"日本"}',
      '[DONE]',
    ]);
    for (let cut = 1; cut < body.length; cut++) {
      expect(feedSplit(body, [cut])).toEqual(whole);
    }
    for (let cut = 1; cut + 3 < body.length; cut++) {
      expect(feedSplit(body, [cut, cut + 1, cut + 3])).toEqual(whole);
    }
    const everyByte = Array.from({ length: body.length - 1 }, (_, i) => i + 1);
    expect(feedSplit(body, everyByte)).toEqual(whole);
  });

  it('holds a CR at the end of a piece until it knows whether LF follows', () => {
    const parser = new SseParser();
    expect(parser.push('data: a\r')).toEqual([]);
    expect(parser.push('\n\r')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: null, data: 'a' }]);
  });
});
