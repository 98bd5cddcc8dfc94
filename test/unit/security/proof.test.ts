import { describe, expect, it } from 'vitest';
import { createSwarmCa } from '../../../src/security/ca.js';
import {
  ADVERT_PROOF_KEY,
  advertKey,
  SUMMARY_PROOF_KEY,
  signAdvert,
  signAdvertSummary,
  swarmFingerprint,
  verifyAdvert,
  verifyAdvertSummary,
} from '../../../src/security/proof.js';

describe('advert proof', async () => {
  const ours = await createSwarmCa('0123456789abcdef');
  const theirs = await createSwarmCa('fedcba9876543210');
  const key = advertKey(ours);
  const fields = { id: 'a1b2c3d4e5f60718', pv: '1', grpc: '10.203.0.1:8766' };
  const proof = signAdvert(key, fields);

  it('is a short base64url string that verifies with the same key', () => {
    expect(proof).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(verifyAdvert(key, fields, proof)).toBe(true);
  });

  it('does not depend on field order and ignores the proof field itself', () => {
    const reordered = { grpc: fields.grpc, pv: fields.pv, id: fields.id, [ADVERT_PROOF_KEY]: proof };
    expect(verifyAdvert(key, reordered, proof)).toBe(true);
  });

  it('fails when a field changes, is added or is removed', () => {
    expect(verifyAdvert(key, { ...fields, grpc: '10.203.0.9:8766' }, proof)).toBe(false);
    expect(verifyAdvert(key, { ...fields, extra: 'x' }, proof)).toBe(false);
    const { pv: _pv, ...fewer } = fields;
    expect(verifyAdvert(key, fewer, proof)).toBe(false);
  });

  it("fails with another swarm's key and with the same swarm id under another CA", async () => {
    expect(verifyAdvert(advertKey(theirs), fields, proof)).toBe(false);
    const rotated = await createSwarmCa(ours.swarmId);
    expect(verifyAdvert(advertKey(rotated), fields, proof)).toBe(false);
  });

  it('fails on malformed proofs instead of throwing', () => {
    expect(verifyAdvert(key, fields, '')).toBe(false);
    expect(verifyAdvert(key, fields, 'not base64url!!')).toBe(false);
    expect(verifyAdvert(key, fields, `${proof}AA`)).toBe(false);
  });

  it('refuses fields whose canonical form would be ambiguous', () => {
    expect(() => signAdvert(key, { 'a=b': 'c' })).toThrow(TypeError);
    expect(verifyAdvert(key, { a: 'b\nc=d' }, proof)).toBe(false);
  });

  it('has a second proof over the whole record that cannot pass for the first, nor the first for it', () => {
    const whole = { ...fields, st: 'active', lm: 'qwen3:8b', [ADVERT_PROOF_KEY]: proof };
    const summaryProof = signAdvertSummary(key, whole);
    expect(summaryProof).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(verifyAdvertSummary(key, { ...whole, [SUMMARY_PROOF_KEY]: summaryProof }, summaryProof)).toBe(
      true,
    );
    expect(verifyAdvertSummary(key, { ...whole, lm: 'qwen3:8b,gemma3:4b' }, summaryProof)).toBe(false);
    expect(verifyAdvertSummary(advertKey(theirs), whole, summaryProof)).toBe(false);
    // Same fields, other domain: neither proof verifies as the other.
    expect(verifyAdvert(key, whole, summaryProof)).toBe(false);
    expect(verifyAdvertSummary(key, fields, proof)).toBe(false);
  });

  it('derives the same key from the same CA every time', () => {
    expect(advertKey(ours).equals(key)).toBe(true);
  });

  it('fingerprints a CA as 8 hex characters, different per CA', () => {
    expect(swarmFingerprint(ours.certPem)).toMatch(/^[0-9a-f]{8}$/);
    expect(swarmFingerprint(ours.certPem)).toBe(swarmFingerprint(ours.certPem));
    expect(swarmFingerprint(theirs.certPem)).not.toBe(swarmFingerprint(ours.certPem));
  });
});
