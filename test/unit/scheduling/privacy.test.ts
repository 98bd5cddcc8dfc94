import { describe, expect, it } from 'vitest';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { effectivePrivacy, parsePrivacyHeader, privacyAllows } from '../../../src/scheduling/privacy.js';
import { findSecrets } from '../../../src/scheduling/secrets.js';
import { thrown } from '../../helpers/expect-error.js';

const none: { kind: string }[] = [];

describe('effectivePrivacy', () => {
  it('uses the config default when nothing else says', () => {
    expect(effectivePrivacy({ configDefault: 'lan', secretsFound: none })).toEqual({
      privacy: 'lan',
      reason: 'default',
    });
  });

  it('ranks header over alias over API key over default', () => {
    const all = {
      header: 'local',
      alias: 'cloud',
      apiKey: 'lan',
      configDefault: 'cloud',
      secretsFound: none,
    } as const;
    expect(effectivePrivacy(all)).toEqual({ privacy: 'local', reason: 'header' });
    expect(effectivePrivacy({ ...all, header: null })).toEqual({ privacy: 'cloud', reason: 'alias' });
    expect(effectivePrivacy({ ...all, header: null, alias: null })).toEqual({
      privacy: 'lan',
      reason: 'api-key',
    });
    expect(effectivePrivacy({ ...all, header: '  ', alias: null, apiKey: null })).toEqual({
      privacy: 'cloud',
      reason: 'default',
    });
  });

  it('reads the header in any case and with spaces', () => {
    expect(effectivePrivacy({ header: ' Cloud ', configDefault: 'lan', secretsFound: none }).privacy).toBe(
      'cloud',
    );
  });

  it('refuses an invalid header with PRIVACY_INVALID naming the value', () => {
    const err = thrown(
      () => effectivePrivacy({ header: 'public', configDefault: 'lan', secretsFound: none }),
      SwarmError,
    );
    expect(err.code).toBe(ErrorCodes.PRIVACY_INVALID);
    expect(err.message).toContain('"public"');
  });

  it('keeps a secret-bearing prompt asked as cloud on the LAN, and says why', () => {
    const secrets = findSecrets('deploy with AWS key AKIAIOSFODNN7EXAMPLE please');
    expect(effectivePrivacy({ header: 'cloud', configDefault: 'lan', secretsFound: secrets })).toEqual({
      privacy: 'lan',
      reason: 'secret:aws-access-key',
    });
    expect(effectivePrivacy({ alias: 'cloud', configDefault: 'cloud', secretsFound: secrets }).privacy).toBe(
      'lan',
    );
  });

  it('leaves local and lan alone when the prompt has a secret', () => {
    const secrets = [{ kind: 'private-key' }];
    expect(effectivePrivacy({ header: 'local', configDefault: 'lan', secretsFound: secrets })).toEqual({
      privacy: 'local',
      reason: 'header',
    });
    expect(effectivePrivacy({ configDefault: 'lan', secretsFound: secrets })).toEqual({
      privacy: 'lan',
      reason: 'default',
    });
  });
});

describe('parsePrivacyHeader / privacyAllows', () => {
  it('treats an absent header as null', () => {
    expect(parsePrivacyHeader(undefined)).toBeNull();
    expect(parsePrivacyHeader('')).toBeNull();
  });

  it('orders local < lan < cloud', () => {
    expect(privacyAllows('lan', 'local')).toBe(true);
    expect(privacyAllows('lan', 'lan')).toBe(true);
    expect(privacyAllows('lan', 'cloud')).toBe(false);
    expect(privacyAllows('local', 'lan')).toBe(false);
    expect(privacyAllows('cloud', 'cloud')).toBe(true);
  });
});
