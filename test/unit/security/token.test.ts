import { describe, expect, it } from 'vitest';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { createSwarmCa } from '../../../src/security/ca.js';
import { decodeToken, encodeToken, TOKEN_PREFIX } from '../../../src/security/token.js';
import { thrown } from '../../helpers/expect-error.js';

describe('join token', async () => {
  const ca = await createSwarmCa('0123456789abcdef');
  const token = encodeToken({ ...ca, epoch: 7 });

  it('is one line with the prefix, base64url, and short', () => {
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(token).toMatch(/^swarmd1_[A-Za-z0-9_-]+$/);
    expect(token.length).toBeLessThan(700);
  });

  it('round-trips the swarm id, epoch, CA certificate and key', () => {
    expect(decodeToken(token)).toEqual({
      swarmId: ca.swarmId,
      epoch: 7,
      certPem: ca.certPem,
      keyPem: ca.keyPem,
    });
  });

  it('tolerates whitespace from wrapped terminal lines', () => {
    const wrapped = `  ${token.slice(0, 100)}\n${token.slice(100, 300)}\r\n${token.slice(300)}\n`;
    expect(decodeToken(wrapped).epoch).toBe(7);
  });

  const junkJson = Buffer.from(
    JSON.stringify({ swarmId: 'x', epoch: 1, caCertDer: 'AAAA', caKeyPkcs8: 'BBBB' }),
  );
  const flipped = `${token.slice(0, 200)}${token[200] === 'A' ? 'B' : 'A'}${token.slice(201)}`;
  const cases: Array<[string, string]> = [
    ['empty', ''],
    ['wrong prefix', `swarmd2_${token.slice(TOKEN_PREFIX.length)}`],
    ['no prefix', token.slice(TOKEN_PREFIX.length)],
    ['bad base64', `${TOKEN_PREFIX}abc$%^def`],
    ['truncated', token.slice(0, token.length - 40)],
    ['extra characters', `${token}AAAA`],
    ['one character changed', flipped],
    ['valid base64 of junk JSON', TOKEN_PREFIX + junkJson.toString('base64url')],
    ['prefix only', TOKEN_PREFIX],
  ];
  it.each(cases)('rejects %s with SECURITY_TOKEN_INVALID', (_name, text) => {
    expect(thrown(() => decodeToken(text), SwarmError).code).toBe(ErrorCodes.SECURITY_TOKEN_INVALID);
  });

  it('never echoes the token back in the error', () => {
    const damaged = token.slice(0, token.length - 10);
    const err = thrown(() => decodeToken(damaged), SwarmError);
    expect(err.message).not.toContain(damaged.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + 20));
  });
});
