import { describe, expect, it } from 'vitest';
import {
  ANONYMOUS_CLIENT,
  ApiKeys,
  apiKeyId,
  createHostCheck,
  hostnameOf,
  originAllowed,
} from '../../../src/gateway/security.js';

describe('Host header rule', () => {
  it('splits ports, brackets, case and a trailing dot', () => {
    expect(hostnameOf('LocalHost.:8765')).toBe('localhost');
    expect(hostnameOf('[::1]:8765')).toBe('::1');
    expect(hostnameOf('::1')).toBe('::1');
    expect(hostnameOf('127.0.0.1')).toBe('127.0.0.1');
  });

  it('on loopback accepts only loopback names, the bound address and the extra names', () => {
    const allowed = createHostCheck('127.0.0.1', ['mybox']);
    for (const host of [
      '127.0.0.1:8765',
      '127.0.1.1',
      'localhost:8765',
      'app.localhost',
      '[::1]:8765',
      'MyBox:8765',
    ]) {
      expect(allowed(host), host).toBe(true);
    }
    for (const host of [
      'evil.example:8765',
      'localhost.evil.example',
      '0.0.0.0:8765',
      '192.168.1.5',
      'mybox.evil',
    ]) {
      expect(allowed(host), host).toBe(false);
    }
    expect(allowed(undefined)).toBe(true);
  });

  it('accepts the bound address when it is an unusual loopback', () => {
    expect(createHostCheck('127.0.0.2')('127.0.0.2:9')).toBe(true);
    expect(createHostCheck('::1')('[::1]:9')).toBe(true);
  });

  it('accepts any Host when listening beyond loopback (keys are the guard)', () => {
    for (const bind of ['0.0.0.0', '::', '192.168.1.5']) {
      expect(createHostCheck(bind)('anything.example:8765')).toBe(true);
    }
  });
});

describe('Origin rule', () => {
  it('accepts no Origin, loopback pages and non-web schemes', () => {
    for (const origin of [
      undefined,
      'http://localhost:3000',
      'http://127.0.0.1:5173',
      'https://[::1]:8443',
      'http://app.localhost',
      'vscode-webview://abc123',
      'chrome-extension://abcdef',
    ]) {
      expect(originAllowed(origin, false), String(origin)).toBe(true);
    }
  });

  it('refuses web pages elsewhere and the null origin without keys', () => {
    for (const origin of [
      'https://evil.example',
      'http://localhost.evil.example',
      'http://192.168.1.9',
      'null',
    ]) {
      expect(originAllowed(origin, false), origin).toBe(false);
    }
  });

  it('accepts any Origin when API keys are configured', () => {
    expect(originAllowed('https://evil.example', true)).toBe(true);
  });
});

describe('API keys', () => {
  const keys = new ApiKeys(['k'.repeat(16), 'second-key-000000']);

  it('labels a matching bearer key by its index and names it by a stable id', () => {
    expect(keys.required).toBe(true);
    expect(keys.identify(`Bearer ${'k'.repeat(16)}`)).toEqual({
      label: 'key-0',
      keyId: apiKeyId('k'.repeat(16)),
    });
    expect(keys.identify('bearer second-key-000000')).toEqual({
      label: 'key-1',
      keyId: apiKeyId('second-key-000000'),
    });
  });

  it("keeps a key's id when the keys are reordered or added to, and never shows the key", () => {
    const reordered = new ApiKeys(['new-key-0000000000', 'second-key-000000', 'k'.repeat(16)]);
    expect(reordered.identify(`Bearer ${'k'.repeat(16)}`)?.keyId).toBe(
      keys.identify(`Bearer ${'k'.repeat(16)}`)?.keyId,
    );
    const id = apiKeyId('second-key-000000');
    expect(id).toMatch(/^key_[0-9a-f]{32}$/);
    expect(id).not.toContain('second-key');
    expect(apiKeyId('second-key-000001')).not.toBe(id);
  });

  it('refuses a wrong, missing or non-bearer key', () => {
    expect(keys.identify(undefined)).toBeNull();
    expect(keys.identify('Bearer wrong')).toBeNull();
    expect(keys.identify(`Basic ${'k'.repeat(16)}`)).toBeNull();
    expect(keys.identify('Bearer ')).toBeNull();
  });

  it('with no keys configured, everyone is the one anonymous client', () => {
    const none = new ApiKeys([]);
    expect(none.required).toBe(false);
    expect(none.identify(undefined)).toEqual({ label: 'local', keyId: null });
    expect(none.identify('Bearer anything-at-all-00')).toBe(ANONYMOUS_CLIENT);
  });
});
