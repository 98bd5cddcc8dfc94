import { describe, expect, it } from 'vitest';
import { namesAddress, withoutAddresses } from '../../../src/gateway/scrub.js';

describe('withoutAddresses', () => {
  it('removes URLs and host:port of every spelling, and keeps model tags', () => {
    const text =
      'http://127.0.0.1:21434/v1/chat/completions failed; connect ECONNREFUSED 10.0.0.7:11434, ' +
      '[::1]:8080 and box.lan:5000 and localhost:9 down; model llama3.2:3b and qwen3:8b';
    const clean = withoutAddresses(text);
    expect(namesAddress(clean)).toBe(false);
    expect(clean).toContain('llama3.2:3b');
    expect(clean).toContain('qwen3:8b');
    expect(clean).not.toMatch(/127\.0\.0\.1|10\.0\.0\.7|::1|box\.lan|localhost/);
  });

  it('leaves text without addresses as it is', () => {
    const text = 'llama runner process has terminated: exit status 2';
    expect(withoutAddresses(text)).toBe(text);
    expect(namesAddress(text)).toBe(false);
  });
});
