import { Service } from 'bonjour-service';
import { describe, expect, it } from 'vitest';
import {
  type Advert,
  decodeTxt,
  encodeTxt,
  TXT_CORE_BUDGET_BYTES,
  TXT_MAX_STRING_BYTES,
  txtBytes,
} from '../../../src/discovery/txt.js';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { thrown } from '../../helpers/expect-error.js';

const advert: Advert = {
  id: '0123456789abcdef',
  protocol: { major: 1, minor: 0 },
  endpoints: ['192.168.1.20:8766', '[2001:db8::20]:8766', 'gpu-box.lan:8766'],
  proof: null,
};

const valid = { id: '0123456789abcdef', pv: '1.0', ep: '192.168.1.20:8766' };

// The raw TXT strings bonjour-service puts on the wire for `txt` (what a browser's rawTxt holds).
function wireStrings(txt: Record<string, string>): Buffer[] {
  const service = new Service(
    { name: 'x', type: 'llmswarm', port: 1, txt },
    () => {},
    () => {},
  );
  const record = service.records().find((r) => r.type === 'TXT');
  return record?.data as Buffer[];
}

/** The TXT_INVALID error decoding `input` throws. */
function txtError(input: unknown): SwarmError {
  const err = thrown(() => decodeTxt(input), SwarmError);
  expect(err.code).toBe(ErrorCodes.TXT_INVALID);
  return err;
}

describe('encodeTxt / decodeTxt', () => {
  it('round-trips an advert with IPv4, IPv6 and host-name endpoints', () => {
    const txt = encodeTxt(advert);
    expect(txt).toEqual({
      id: '0123456789abcdef',
      pv: '1.0',
      ep: '192.168.1.20:8766,[2001:db8::20]:8766,gpu-box.lan:8766',
    });
    expect(decodeTxt(txt)).toEqual(advert);
  });

  it('carries the proof when there is one', () => {
    const withProof = { ...advert, proof: 'Zm9vYmFy_-0' };
    expect(encodeTxt(withProof)['pf']).toBe('Zm9vYmFy_-0');
    expect(decodeTxt(encodeTxt(withProof))).toEqual(withProof);
  });

  it('round-trips through the raw wire strings bonjour-service sends', () => {
    const withProof = { ...advert, proof: 'a'.repeat(64) };
    expect(decodeTxt(wireStrings(encodeTxt(withProof)))).toEqual(withProof);
  });

  it('keeps the core within its budget by dropping trailing endpoints, in order', () => {
    const endpoints = Array.from(
      { length: 40 },
      (_, i) => `[2001:db8:1234:5678:9abc:def0:1234:${i.toString(16)}]:8766`,
    );
    const big = { ...advert, endpoints, proof: 'p'.repeat(64) };
    const txt = encodeTxt(big);
    expect(txtBytes(txt)).toBeLessThanOrEqual(TXT_CORE_BUDGET_BYTES);
    expect(Buffer.byteLength(`ep=${txt['ep']}`)).toBeLessThanOrEqual(TXT_MAX_STRING_BYTES);
    const kept = decodeTxt(txt).endpoints;
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(endpoints.length);
    expect(kept).toEqual(endpoints.slice(0, kept.length));
    // The wire form (length byte + key=value per string) is what the budget counts.
    const wire = wireStrings(txt).reduce((sum, b) => sum + 1 + b.length, 0);
    expect(wire).toBe(txtBytes(txt));
  });

  it('refuses to encode an advert it could not decode back', () => {
    for (const bad of [
      { ...advert, id: 'ABC' },
      { ...advert, endpoints: [] },
      { ...advert, endpoints: ['no-port'] },
      { ...advert, proof: 'has=padding' },
      { ...advert, protocol: { major: -1, minor: 0 } },
    ]) {
      expect(() => encodeTxt(bad)).toThrow(expect.objectContaining({ code: ErrorCodes.TXT_INVALID }));
    }
  });

  it('reads Buffer values, raw key=value strings and keys in any case', () => {
    const buffers = Object.fromEntries(Object.entries(valid).map(([k, v]) => [k, Buffer.from(v)]));
    expect(decodeTxt(buffers).id).toBe(valid.id);
    expect(decodeTxt(['ID=0123456789abcdef', 'pv=1.0', 'ep=10.0.0.1:1']).endpoints).toEqual(['10.0.0.1:1']);
  });

  it('ignores unknown keys (newer minor versions may add some) and uses the first of duplicates', () => {
    const decoded = decodeTxt([
      'id=0123456789abcdef',
      'pv=1.3',
      'ep=10.0.0.1:8766',
      'ep=10.0.0.2:8766',
      'future=1',
      'flag',
      '',
      '=novalue',
    ]);
    expect(decoded).toEqual({
      id: '0123456789abcdef',
      protocol: { major: 1, minor: 3 },
      endpoints: ['10.0.0.1:8766'],
      proof: null,
    });
  });

  it.each([
    ['null', null, 'record'],
    ['a string', 'id=0123456789abcdef', 'record'],
    ['a number', 42, 'record'],
    ['bytes', Buffer.from('id=x'), 'record'],
    ['an empty record', {}, 'id'],
    ['an empty list', [], 'id'],
    ['a missing id', { pv: '1.0', ep: valid.ep }, 'id'],
    ['an uppercase id', { ...valid, id: '0123456789ABCDEF' }, 'id'],
    ['a short id', { ...valid, id: '0123456789abcde' }, 'id'],
    ['a non-string value', { ...valid, id: 123 }, 'id'],
    ['an object value', { ...valid, pv: { major: 1 } }, 'pv'],
    ['a missing version', { id: valid.id, ep: valid.ep }, 'pv'],
    ['a version without minor', { ...valid, pv: '1' }, 'pv'],
    ['a version with three parts', { ...valid, pv: '1.0.0' }, 'pv'],
    ['a non-numeric version', { ...valid, pv: 'a.b' }, 'pv'],
    ['a version out of range', { ...valid, pv: '70000.0' }, 'pv'],
    ['missing endpoints', { id: valid.id, pv: '1.0' }, 'ep'],
    ['empty endpoints', { ...valid, ep: '' }, 'ep'],
    ['an endpoint without port', { ...valid, ep: '10.0.0.1' }, 'ep'],
    ['port 0', { ...valid, ep: '10.0.0.1:0' }, 'ep'],
    ['port 65536', { ...valid, ep: '10.0.0.1:65536' }, 'ep'],
    ['a negative port', { ...valid, ep: '10.0.0.1:-1' }, 'ep'],
    ['a trailing comma', { ...valid, ep: '10.0.0.1:8766,' }, 'ep'],
    ['unbracketed IPv6', { ...valid, ep: '2001:db8::1:8766' }, 'ep'],
    ['IPv6 with a zone id', { ...valid, ep: '[fe80::1%eth0]:8766' }, 'ep'],
    ['a bad IPv6 address', { ...valid, ep: '[2001:zz::1]:8766' }, 'ep'],
    ['a bad IPv4 address', { ...valid, ep: '999.1.1.1:8766' }, 'ep'],
    ['a host with a space', { ...valid, ep: 'gpu box:8766' }, 'ep'],
    ['an empty proof', { ...valid, pf: '' }, 'pf'],
    ['a padded proof', { ...valid, pf: 'YQ==' }, 'pf'],
    ['a proof over 64 characters', { ...valid, pf: 'a'.repeat(65) }, 'pf'],
    [
      'too many keys',
      { ...valid, ...Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`k${i}`, 'x'])) },
      'keys',
    ],
    ['a string over 255 bytes', { ...valid, note: 'x'.repeat(260) }, 'note'],
    [
      'more than 1300 bytes',
      ['id=0123456789abcdef', ...Array.from({ length: 6 }, (_, i) => `k${i}=${'x'.repeat(240)}`)],
      '1300',
    ],
    ['a list entry that is not text', [valid.id, 7], 'record entry'],
  ])('rejects %s', (_, input, field) => {
    expect(txtError(input).message).toContain(field);
  });

  it('turns even a hostile object into TXT_INVALID', () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new TypeError('boom');
        },
      },
    );
    txtError(hostile);
  });

  it('rejects over 1300 bytes given as an object', () => {
    const many = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, 'x'.repeat(240)]));
    expect(txtError({ ...valid, ...many }).message).toContain('1300');
  });
});
