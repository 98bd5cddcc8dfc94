// The pure parts of `swarmctl chat`: who served it (from the x-swarm-* headers), the --json
// object, and the footer line.
import { describe, expect, it } from 'vitest';
import { chatJson, servedJson } from '../../../src/cli/json.js';
import { renderChatFooter } from '../../../src/cli/render.js';

const headers = (values: Record<string, string>) => new Headers(values);

describe('servedJson', () => {
  it('reads node, model, tier and attempts from the gateway headers', () => {
    expect(
      servedJson(
        headers({
          'x-swarm-node': 'bravo',
          'x-swarm-model': 'qwen3:8b',
          'x-swarm-tier': 'fast',
          'x-swarm-attempts': '2',
        }),
      ),
    ).toEqual({ node: 'bravo', model: 'qwen3:8b', tier: 'fast', attempts: 2 });
  });

  it('gives null for a missing or unreadable header', () => {
    expect(servedJson(headers({ 'x-swarm-node': 'alpha', 'x-swarm-attempts': 'many' }))).toEqual({
      node: 'alpha',
      model: null,
      tier: null,
      attempts: null,
    });
  });
});

describe('chatJson', () => {
  it('is the completion as it came plus swarm', () => {
    const completion = { id: 'chatcmpl-1', object: 'chat.completion', choices: [] };
    const served = { node: 'alpha', model: 'm', tier: null, attempts: 1 };
    const json = chatJson(completion, served);
    expect(json).toEqual({ ...completion, swarm: served });
    expect(Object.keys(json)).toEqual(['id', 'object', 'choices', 'swarm']);
  });
});

describe('renderChatFooter', () => {
  const served = { node: 'bravo', model: 'qwen3:8b', tier: 'fast', attempts: 1 };

  it('names the node, model and tier, attempts, tokens and time on one line', () => {
    expect(renderChatFooter({ served, promptTokens: 5, completionTokens: 7, elapsedMs: 1432 })).toBe(
      'served by bravo (qwen3:8b, fast) · 1 attempt · 12 tokens (5 in, 7 out) · 1.4s',
    );
  });

  it('leaves out what the gateway did not say', () => {
    const bare = { node: 'alpha', model: 'm:1b', tier: null, attempts: 3 };
    expect(
      renderChatFooter({ served: bare, promptTokens: null, completionTokens: null, elapsedMs: 80 }),
    ).toBe('served by alpha (m:1b) · 3 attempts · 80ms');
    const unknown = { node: null, model: null, tier: null, attempts: null };
    expect(renderChatFooter({ served: unknown, promptTokens: null, completionTokens: 4, elapsedMs: 0 })).toBe(
      'served by an unknown node · 4 tokens out · 0ms',
    );
  });
});
