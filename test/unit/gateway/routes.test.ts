import { describe, expect, it } from 'vitest';
import { matchRoute, pathOf } from '../../../src/gateway/routes.js';

describe('gateway routes', () => {
  it('strips the query string and one trailing slash', () => {
    expect(pathOf('/v1/models/?x=1')).toBe('/v1/models');
    expect(pathOf('/')).toBe('/');
    expect(pathOf(undefined)).toBe('/');
  });

  it('matches the OpenAI routes by method', () => {
    expect(matchRoute('POST', '/v1/chat/completions')).toEqual({ ok: true, name: 'chat', param: null });
    expect(matchRoute('POST', '/v1/completions')).toMatchObject({ ok: true, name: 'completions' });
    expect(matchRoute('POST', '/v1/embeddings')).toMatchObject({ ok: true, name: 'embeddings' });
    expect(matchRoute('GET', '/v1/models')).toMatchObject({ ok: true, name: 'models' });
    expect(matchRoute('HEAD', '/health')).toMatchObject({ ok: true, name: 'health' });
    expect(matchRoute('GET', '/')).toMatchObject({ ok: true, name: 'root' });
  });

  it('decodes model ids, slashes included', () => {
    expect(matchRoute('GET', '/v1/models/hf.co/org/m%3Aq4')).toEqual({
      ok: true,
      name: 'model',
      param: 'hf.co/org/m:q4',
    });
  });

  it('answers 405 with Allow for a known path and 404 otherwise', () => {
    expect(matchRoute('GET', '/v1/chat/completions')).toEqual({ ok: false, status: 405, allow: 'POST' });
    expect(matchRoute('DELETE', '/v1/models/x')).toEqual({ ok: false, status: 405, allow: 'GET, HEAD' });
    expect(matchRoute('GET', '/v1/nope')).toEqual({ ok: false, status: 404, allow: null });
    expect(matchRoute('GET', '/v1/models/%E0%A4%A')).toMatchObject({ ok: false, status: 404 });
  });
});
