import { describe, expect, it } from 'vitest';
import {
  chatBody,
  chatChunk,
  type Harness,
  outcome,
  servedBy,
  startGateway,
  streamScript,
} from './helpers.js';

let h: Harness;

const messages = [{ role: 'user' as const, content: 'say hello' }];

describe('gateway chat completions (openai client)', () => {
  it('returns the body with usage filled from the outcome, and who served it in headers', async () => {
    h = await startGateway();
    const { data, response } = await h.client.chat.completions
      .create({ model: 'coder', messages })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('hello');
    expect(data.usage).toEqual({ prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
    const request = h.dispatcher.requests[0]!;
    expect(request).toMatchObject({
      kind: 'chat',
      stream: false,
      privacy: 'lan',
      client: 'local',
      action: null,
    });
    expect(request.id).toMatch(/^req_[0-9a-f]{32}$/);
    expect(request.body).toEqual({ model: 'coder', messages });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe(request.id);
    expect(response.headers.get('x-swarm-node')).toBe('box-b');
    expect(response.headers.get('x-swarm-node-id')).toBe('node-b-id');
    expect(response.headers.get('x-swarm-backend')).toBe('ollama');
    expect(response.headers.get('x-swarm-model')).toBe('qwen2.5-coder:7b');
    expect(response.headers.get('x-swarm-tier')).toBe('fast');
    expect(response.headers.get('x-swarm-attempts')).toBe('2');
    expect(response.headers.get('x-swarm-privacy')).toBe('lan');
  });

  it("keeps the backend's own usage when the body has it", async () => {
    h = await startGateway();
    const own = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
    h.dispatcher.script = async () => outcome({ ...chatBody('x'), usage: own });
    const reply = await h.client.chat.completions.create({ model: 'coder', messages });
    expect(reply.usage).toEqual(own);
  });

  it('passes action and privacy from headers and metadata, and uses decidePrivacy when given', async () => {
    h = await startGateway();
    await h.client.chat.completions.create(
      { model: 'coder', messages },
      { headers: { 'x-swarm-action': 'edit', 'x-swarm-privacy': 'local' } },
    );
    await h.client.chat.completions.create({ model: 'coder', messages, metadata: { action: 'explain' } });
    expect(h.dispatcher.requests.map((r) => [r.action, r.privacy])).toEqual([
      ['edit', 'local'],
      ['explain', 'lan'],
    ]);
    await h.gateway.stop();

    const seen: (string | null)[] = [];
    h = await startGateway({
      decidePrivacy: ({ header }) => {
        seen.push(header);
        return { privacy: 'cloud', reason: 'test' };
      },
    });
    const { response } = await h.client.chat.completions
      .create({ model: 'coder', messages }, { headers: { 'x-swarm-privacy': 'whatever' } })
      .withResponse();
    expect(seen).toEqual(['whatever']);
    expect(h.dispatcher.requests[0]?.privacy).toBe('cloud');
    expect(response.headers.get('x-swarm-privacy')).toBe('cloud');
  });

  it('streams chunks in order, without usage unless asked', async () => {
    h = await startGateway();
    h.dispatcher.script = streamScript(['Hel', 'lo', '!']);
    const { data: stream, response } = await h.client.chat.completions
      .create({ model: 'coder', messages, stream: true })
      .withResponse();
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-swarm-node')).toBe('box-b');
    expect(response.headers.get('x-swarm-attempts')).toBe('2');
    let text = '';
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('Hello!');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
    expect(h.dispatcher.requests[0]?.stream).toBe(true);
  });

  it('streams usage null on every chunk and a final usage chunk when include_usage is set', async () => {
    h = await startGateway();
    h.dispatcher.script = streamScript(['a', 'b']);
    const stream = await h.client.chat.completions.create({
      model: 'coder',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
    expect(last.id).toBe('chatcmpl-stream');
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('sends headers as soon as a target starts, before the first chunk', async () => {
    h = await startGateway();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    h.dispatcher.script = async (_request, hooks) => {
      hooks.onStart?.(servedBy);
      await gate;
      hooks.onChunk?.(chatChunk({ content: 'late' }, 'stop'));
      return outcome(null);
    };
    const { data: stream, response } = await h.client.chat.completions
      .create({ model: 'coder', messages, stream: true })
      .withResponse();
    expect(response.headers.get('x-swarm-model')).toBe('qwen2.5-coder:7b');
    release();
    const texts = [];
    for await (const chunk of stream) texts.push(chunk.choices[0]?.delta.content);
    expect(texts).toEqual(['late']);
  });
});
