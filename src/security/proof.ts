// mDNS advert proof: an HMAC over the advert's TXT fields with a key only swarm members can derive,
// so a browser drops strangers' and other swarms' adverts without dialling them. A proof can be
// replayed by someone who sniffed it; that only makes us dial, and mTLS refuses them there.
import {
  createHash,
  createHmac,
  createPrivateKey,
  hkdfSync,
  timingSafeEqual,
  X509Certificate,
} from 'node:crypto';
import type { CaMaterial } from './ca.js';

/** The TXT key that carries the proof (src/discovery/txt.ts writes `pf`); sign/verify skip it when present. */
export const ADVERT_PROOF_KEY = 'pf';
/** The TXT key of the second proof, over the whole record (summary included); skipped like `pf`. */
export const SUMMARY_PROOF_KEY = 'sp';
/** Characters of every proof signAdvert and signAdvertSummary make. */
export const ADVERT_PROOF_CHARS = 22;

const PROOF_BYTES = 16;
const PROOF_RE = /^[A-Za-z0-9_-]{22}$/;
// Bumping the info string retires every old proof at once if the advert layout ever changes.
const HKDF_INFO = 'swarmd advert proof v1';
// The summary proof signs this line before the fields, so it can never pass for a `pf` proof.
const SUMMARY_DOMAIN = 'swarmd advert summary v1';

/** Derive the advert HMAC key from the CA private key, so it changes on rotate/remove like the CA. */
export function advertKey(ca: Pick<CaMaterial, 'swarmId' | 'keyPem'>): Buffer {
  const ikm = createPrivateKey(ca.keyPem).export({ type: 'pkcs8', format: 'der' });
  return Buffer.from(hkdfSync('sha256', ikm, ca.swarmId, HKDF_INFO, 32));
}

// One `k=v` line per field, sorted by key. Newlines and '=' in keys would let two different adverts
// share a canonical form, so such fields are refused rather than escaped.
function canonical(fields: Record<string, string>): string | null {
  const keys = Object.keys(fields)
    .filter((k) => k !== ADVERT_PROOF_KEY && k !== SUMMARY_PROOF_KEY)
    .sort();
  const lines: string[] = [];
  for (const key of keys) {
    const value = fields[key]!;
    if (key.includes('=') || key.includes('\n') || value.includes('\n')) return null;
    lines.push(`${key}=${value}`);
  }
  return lines.join('\n');
}

function mac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest().subarray(0, PROOF_BYTES);
}

/** Proof for an advert: truncated HMAC-SHA256 of its other TXT fields, base64url (22 chars). */
export function signAdvert(key: Buffer, fields: Record<string, string>): string {
  const text = canonical(fields);
  if (text === null)
    throw new TypeError('advert TXT keys must not contain "=" or newlines, nor values newlines');
  return mac(key, text).toString('base64url');
}

/** True when proof was made by signAdvert with the same key over the same fields (constant-time). */
export function verifyAdvert(key: Buffer, fields: Record<string, string>, proof: string): boolean {
  return verifyText(key, canonical(fields), proof);
}

/** Proof over the whole advert, summary included (TXT `sp`); like signAdvert, in its own domain. */
export function signAdvertSummary(key: Buffer, fields: Record<string, string>): string {
  const text = canonical(fields);
  if (text === null)
    throw new TypeError('advert TXT keys must not contain "=" or newlines, nor values newlines');
  return mac(key, `${SUMMARY_DOMAIN}\n${text}`).toString('base64url');
}

/** True when proof was made by signAdvertSummary with the same key over the same fields. */
export function verifyAdvertSummary(key: Buffer, fields: Record<string, string>, proof: string): boolean {
  const text = canonical(fields);
  return verifyText(key, text === null ? null : `${SUMMARY_DOMAIN}\n${text}`, proof);
}

function verifyText(key: Buffer, text: string | null, proof: string): boolean {
  if (!PROOF_RE.test(proof) || text === null) return false;
  const given = Buffer.from(proof, 'base64url');
  return given.length === PROOF_BYTES && timingSafeEqual(given, mac(key, text));
}

/** Short non-secret name of the swarm's current credentials for display ("swarm 3fa2c1d0"). */
export function swarmFingerprint(caCertPem: string): string {
  const der = new X509Certificate(caCertPem).raw;
  return createHash('sha256').update(der).digest('hex').slice(0, 8);
}
