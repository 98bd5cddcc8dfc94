// Server-sent events framing (the WHATWG event-stream rules), pure: bytes in, events out. Bytes
// may be split anywhere (mid UTF-8 sequence, mid CRLF), because TCP does not respect frames.
// Comment lines (`: OPENROUTER PROCESSING` keep-alives) and unknown fields are skipped.

/** One dispatched event. `data` joins the event's `data:` lines with `\n`. */
export interface SseEvent {
  /** The `event:` field, null when absent (every chat stream leaves it out). */
  event: string | null;
  data: string;
}

/** Incremental SSE parser: push() bytes as they arrive, end() when the body is over. */
export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  private dataLines: string[] = [];
  private eventName: string | null = null;

  /** Feed bytes (or already decoded text); returns the events they completed. */
  push(chunk: Uint8Array | string): SseEvent[] {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    return this.drain(false);
  }

  /** The body ended: returns what remains, including an event whose blank line never came. */
  end(): SseEvent[] {
    this.buffer += this.decoder.decode();
    const events = this.drain(true);
    // The spec drops an unterminated event, but servers that close right after `data: [DONE]\n`
    // mean it: keep it rather than lose the end marker.
    const last = this.dispatch();
    if (last) events.push(last);
    return events;
  }

  private drain(final: boolean): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf('\r', start);
      const lf = this.buffer.indexOf('\n', start);
      if (cr === -1 && lf === -1) break;
      let lineEnd: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        // A CR at the very end may be the first half of a CRLF still in flight.
        if (cr === this.buffer.length - 1 && !final) break;
        lineEnd = cr;
        next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
      } else {
        lineEnd = lf;
        next = lf + 1;
      }
      const event = this.line(this.buffer.slice(start, lineEnd));
      if (event) events.push(event);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    if (final && this.buffer.length > 0) {
      const event = this.line(this.buffer);
      if (event) events.push(event);
      this.buffer = '';
    }
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.dataLines.push(value);
    else if (field === 'event') this.eventName = value;
    return null;
  }

  private dispatch(): SseEvent | null {
    const hadData = this.dataLines.length > 0;
    const event = { event: this.eventName, data: this.dataLines.join('\n') };
    this.dataLines = [];
    this.eventName = null;
    return hadData ? event : null;
  }
}

/** Parse a complete event-stream body at once (tests, and bodies read whole). */
export function parseSse(body: Uint8Array | string): SseEvent[] {
  const parser = new SseParser();
  return [...parser.push(body), ...parser.end()];
}
