import { describe, expect, it } from 'vitest';
import { backendId, normalizeBaseUrl, sameEndpoint } from '../../../src/backends/url.js';

describe('backend urls', () => {
  it('normalizes away trailing slashes and /v1', () => {
    expect(normalizeBaseUrl('http://h:1234/v1/')).toBe('http://h:1234');
    expect(normalizeBaseUrl('http://h:1234//')).toBe('http://h:1234');
    expect(normalizeBaseUrl('https://openrouter.ai/api/v1')).toBe('https://openrouter.ai/api');
  });

  it('builds kind@host:port ids, with default ports', () => {
    expect(backendId('ollama', 'http://127.0.0.1:11434')).toBe('ollama@127.0.0.1:11434');
    expect(backendId('openai', 'https://api.example.com')).toBe('openai@api.example.com:443');
    expect(backendId('vllm', 'http://[::1]:8000')).toBe('vllm@[::1]:8000');
  });

  it('treats loopback spellings of the same port as one endpoint', () => {
    expect(sameEndpoint('http://localhost:11434', 'http://127.0.0.1:11434')).toBe(true);
    expect(sameEndpoint('http://127.0.0.1:11434', 'http://127.0.0.1:8080')).toBe(false);
    expect(sameEndpoint('http://10.0.0.2:8080', 'http://127.0.0.1:8080')).toBe(false);
  });
});
