import { describe, expect, it } from 'vitest';
import { classifyFingerprints, type Fingerprints } from '../../../src/backends/parse/fingerprint.js';

const json = (status: number, body: unknown) => ({ status, text: JSON.stringify(body) });
const list = (owner: string) =>
  json(200, { object: 'list', data: [{ id: 'm', object: 'model', owned_by: owner }] });
const lmsUnknown = (path: string) =>
  json(200, { error: `Unexpected endpoint or method. (GET ${path}). Returning 200 anyway` });

describe('classifyFingerprints', () => {
  it('knows Ollama by its root text', () => {
    expect(
      classifyFingerprints({
        '/': { status: 200, text: 'Ollama is running' },
        '/v1/models': list('library'),
      }),
    ).toBe('ollama');
  });

  it('tells llama-swap (text OK) from llama-server (JSON) on the same port', () => {
    const swap: Fingerprints = {
      '/': { status: 302, text: '' },
      '/health': { status: 200, text: 'OK' },
      '/running': json(200, { running: [] }),
      '/v1/models': list('llama-swap'),
    };
    const server: Fingerprints = {
      '/': { status: 200, text: '<html>' },
      '/health': json(200, { status: 'ok' }),
      '/running': json(404, { error: { code: 404, message: 'File Not Found', type: 'not_found_error' } }),
      '/v1/models': list('llamacpp'),
    };
    expect(classifyFingerprints(swap)).toBe('llama-swap');
    expect(classifyFingerprints(server)).toBe('llamacpp');
  });

  it('knows a llama-swap behind an API key from its open /health alone', () => {
    const denied = json(401, { error: 'unauthorized' });
    expect(
      classifyFingerprints({
        '/health': { status: 200, text: 'OK' },
        '/running': denied,
        '/v1/models': denied,
      }),
    ).toBe('llama-swap');
  });

  it('knows llama-server while it loads (503 everywhere)', () => {
    const loading = json(503, { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } });
    expect(classifyFingerprints({ '/health': loading, '/v1/models': loading })).toBe('llamacpp');
    expect(classifyFingerprints({ '/health': json(503, { status: 'loading model' }) })).toBe('llamacpp');
  });

  it('knows vLLM by /version with an empty /health, even when /v1/models wants a key', () => {
    expect(
      classifyFingerprints({
        '/health': { status: 200, text: '' },
        '/version': json(200, { version: '0.11.0' }),
        '/v1/models': json(401, { error: 'Unauthorized' }),
      }),
    ).toBe('vllm');
    expect(classifyFingerprints({ '/v1/models': list('vllm') })).toBe('vllm');
  });

  it('knows LM Studio and is not fooled by its 200 answers to unknown routes', () => {
    const lms: Fingerprints = {
      '/': lmsUnknown('/'),
      '/health': lmsUnknown('/health'),
      '/running': lmsUnknown('/running'),
      '/version': lmsUnknown('/version'),
      '/v1/models': list('organization_owner'),
      '/api/v0/models': json(200, { object: 'list', data: [] }),
    };
    expect(classifyFingerprints(lms)).toBe('lmstudio');
    expect(classifyFingerprints({ ...lms, '/v1/models': json(200, { data: [] }) })).toBe('lmstudio');
  });

  it('falls back to openai for any model list, and to null otherwise', () => {
    expect(classifyFingerprints({ '/v1/models': list('system') })).toBe('openai');
    expect(classifyFingerprints({ '/v1/models': json(200, { object: 'list', data: null }) })).toBe('openai');
    expect(classifyFingerprints({ '/': { status: 200, text: '<html>hello</html>' } })).toBeNull();
    expect(classifyFingerprints({})).toBeNull();
  });
});
