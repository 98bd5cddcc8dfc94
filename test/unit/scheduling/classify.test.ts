import { describe, expect, it } from 'vitest';
import { DEFAULT_ACTIONS, DEFAULT_KEYWORDS } from '../../../src/config/schema.js';
import { classify, tierFor } from '../../../src/scheduling/classify.js';

const config = {
  actions: DEFAULT_ACTIONS,
  keywords: { simple: [...DEFAULT_KEYWORDS.simple], complex: [...DEFAULT_KEYWORDS.complex] },
};
const ask = (text: string, extra: Record<string, unknown> = {}) => ({
  body: { model: 'auto', messages: [{ role: 'user', content: text }], ...extra },
  action: null,
});

describe('classify', () => {
  it('calls a short plain question simple', () => {
    expect(classify(ask('What is the capital of France?'), config)).toEqual({
      complexity: 'simple',
      reasons: ['short plain request'],
    });
  });

  it('lets the configured action decide outright, from header or metadata', () => {
    const request = { ...ask('Please refactor and redesign everything step by step'), action: 'explain' };
    expect(classify(request, config)).toEqual({ complexity: 'simple', reasons: ['action explain'] });
    expect(classify({ ...ask('hi'), action: 'Architect' }, config).complexity).toBe('complex');
    expect(
      classify({ ...ask('hi'), action: 'edit' }, { ...config, actions: { edit: 'complex' } }).complexity,
    ).toBe('complex');
  });

  it('ignores an action nobody configured', () => {
    expect(classify({ ...ask('hi'), action: 'dance' }, config).complexity).toBe('simple');
  });

  it('calls a refactoring request complex, also with a word ending', () => {
    expect(classify(ask('Refactor this module'), config).complexity).toBe('complex');
    const result = classify(ask('I am refactoring the parser'), config);
    expect(result.complexity).toBe('complex');
    expect(result.reasons).toContain('keyword "refactor"');
  });

  it('does not match a keyword inside another word', () => {
    expect(classify(ask('Use the redesigned-ness? no: undesignated area'), config).complexity).toBe('simple');
  });

  it('calls summarising simple even when the text is medium sized', () => {
    const text = `Summarize this:\n${'The meeting covered budgets. '.repeat(250)}`;
    expect(classify(ask(text), config).complexity).toBe('simple');
  });

  it('calls a long prompt complex', () => {
    const result = classify(ask('x'.repeat(40_000)), config);
    expect(result.complexity).toBe('complex');
    expect(result.reasons[0]).toMatch(/long prompt/);
  });

  it('counts structure: tools, a json schema and code blocks make it moderate', () => {
    expect(
      classify(ask('look', { tools: [{ type: 'function', function: { name: 'f' } }] }), config).complexity,
    ).toBe('moderate');
    expect(
      classify(ask('fill', { response_format: { type: 'json_schema', json_schema: {} } }), config).complexity,
    ).toBe('moderate');
    expect(classify(ask('what does this do?\n```js\nf()\n```'), config).complexity).toBe('moderate');
    const many = Array.from({ length: 12 }, (_, i) => ({
      role: i % 2 ? 'assistant' : 'user',
      content: 'ok',
    }));
    expect(classify({ body: { messages: many }, action: null }, config).reasons).toContain('12 messages');
  });

  it('reads keywords in the last user message only, not the system prompt', () => {
    const body = {
      messages: [
        { role: 'system', content: 'You design and architect systems.' },
        { role: 'user', content: 'hello there' },
      ],
    };
    expect(classify({ body, action: null }, config).complexity).toBe('simple');
  });

  it('uses configured keyword lists', () => {
    const custom = { ...config, keywords: { simple: [], complex: ['kubernetes'] } };
    expect(classify(ask('set up Kubernetes'), custom).complexity).toBe('complex');
  });

  it('reads the prompt of a completions request', () => {
    expect(classify({ body: { prompt: 'prove that P != NP' }, action: null }, config).complexity).toBe(
      'complex',
    );
  });
});

describe('tierFor', () => {
  it('sends simple to fast then deep, moderate to deep, complex to deep then cloud when allowed', () => {
    expect(tierFor('simple', true)).toEqual(['fast', 'deep']);
    expect(tierFor('moderate', true)).toEqual(['deep']);
    expect(tierFor('complex', true)).toEqual(['deep', 'cloud']);
    expect(tierFor('complex', false)).toEqual(['deep']);
  });
});
