// The join token: everything a box needs to become a member, on one line a person can paste.
// Layout after the prefix (base64url): format byte, epoch (uint32 BE), the CA's P-256 private scalar
// (32 bytes), the CA certificate in DER, then a 4-byte SHA-256 checksum so a damaged paste is named as
// such instead of surfacing as a TLS failure later. The swarm id is read from the certificate, and the
// PKCS#8 key is rebuilt from the scalar plus the certificate's public key, which keeps it near 600 chars.
import { createECDH, createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { ErrorCodes } from '../errors.js';
import type { CaMaterial } from './ca.js';
import { swarmIdFromCert } from './ca.js';
import { SecurityError } from './security-error.js';

/** The CA material a token carries plus its credential generation (1 at init, +1 per rotate/remove). */
export interface SwarmSecret extends CaMaterial {
  epoch: number;
}

/** Every token starts with this; the digit is the format version. */
export const TOKEN_PREFIX = 'swarmd1_';

const FORMAT = 1;
const HEADER_BYTES = 1 + 4 + 32;
const CHECK_BYTES = 4;
const BASE64URL_RE = /^[A-Za-z0-9_-]+$/;
const SHAPE = `a join token is one line starting with "${TOKEN_PREFIX}" followed by about 600 base64url characters`;
const WHERE = 'run `swarmctl token` on a box already in the swarm and paste the whole line';

function checksum(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest().subarray(0, CHECK_BYTES);
}

function invalid(what: string, cause?: unknown): SecurityError {
  return new SecurityError(ErrorCodes.SECURITY_TOKEN_INVALID, `join token ${what}; ${SHAPE}: ${WHERE}`, {
    cause,
  });
}

/** Encode a swarm secret as a join token (one line, no whitespace). */
export function encodeToken(secret: SwarmSecret): string {
  if (!Number.isInteger(secret.epoch) || secret.epoch < 1 || secret.epoch > 0xffffffff) {
    throw new RangeError(`epoch must be an integer from 1 to 2^32-1, got ${secret.epoch}`);
  }
  const jwk = createPrivateKey(secret.keyPem).export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.d) throw new TypeError('swarm CA key must be an ECDSA P-256 private key');
  const scalar = Buffer.from(jwk.d, 'base64url');
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(FORMAT, 0);
  header.writeUInt32BE(secret.epoch, 1);
  scalar.copy(header, 5 + 32 - scalar.length);
  const payload = Buffer.concat([header, new X509Certificate(secret.certPem).raw]);
  return TOKEN_PREFIX + Buffer.concat([payload, checksum(payload)]).toString('base64url');
}

function parseCert(der: Buffer): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (err) {
    throw invalid('carries a certificate that does not parse', err);
  }
  // Node ignores bytes after the certificate; a longer token was pasted twice or edited.
  if (cert.raw.length !== der.length) throw invalid('has extra characters at the end');
  if (!cert.ca || !cert.verify(cert.publicKey)) throw invalid('does not carry a swarm CA certificate');
  return cert;
}

function rebuildKeyPem(scalar: Buffer, cert: X509Certificate): string {
  const pub = cert.publicKey.export({ format: 'jwk' });
  if (pub.crv !== 'P-256' || !pub.x || !pub.y) throw invalid('carries a CA certificate that is not P-256');
  // Node's JWK import does not check that d belongs to (x, y): derive the point and compare, so a
  // damaged key is caught here rather than as a TLS failure on every peer.
  const ecdh = createECDH('prime256v1');
  try {
    ecdh.setPrivateKey(scalar);
  } catch (err) {
    throw invalid('carries an unusable key', err);
  }
  const point = ecdh.getPublicKey();
  const expected = Buffer.concat([
    Buffer.of(4),
    Buffer.from(pub.x, 'base64url'),
    Buffer.from(pub.y, 'base64url'),
  ]);
  if (!point.equals(expected)) throw invalid('key does not match its certificate (the token was altered)');
  const key = createPrivateKey({
    format: 'jwk',
    key: { kty: 'EC', crv: 'P-256', x: pub.x, y: pub.y, d: scalar.toString('base64url') },
  });
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Decode and check a join token; throws SECURITY_TOKEN_INVALID saying what is wrong (never echoing it). */
export function decodeToken(text: string): SwarmSecret {
  // Terminals wrap long lines when copying; whitespace is never part of a token.
  const compact = text.replace(/\s+/g, '');
  if (compact.length === 0) throw invalid('is empty');
  if (!compact.startsWith(TOKEN_PREFIX)) {
    throw invalid(`does not start with "${TOKEN_PREFIX}" (${compact.length} characters received)`);
  }
  const body = compact.slice(TOKEN_PREFIX.length);
  if (!BASE64URL_RE.test(body)) throw invalid('contains characters that are not base64url');
  const bytes = Buffer.from(body, 'base64url');
  if (bytes.length <= HEADER_BYTES + CHECK_BYTES)
    throw invalid(`is cut short (${compact.length} characters)`);
  const payload = bytes.subarray(0, bytes.length - CHECK_BYTES);
  if (!checksum(payload).equals(bytes.subarray(payload.length))) {
    throw invalid(
      `is damaged, cut short or has extra characters (${compact.length} characters, checksum fails)`,
    );
  }
  const format = payload.readUInt8(0);
  if (format !== FORMAT) {
    throw invalid(`has format ${format}, which this swarmd does not read (upgrade swarmd on this box)`);
  }
  const epoch = payload.readUInt32BE(1);
  if (epoch < 1) throw invalid('has credential epoch 0');
  const cert = parseCert(payload.subarray(HEADER_BYTES));
  const swarmId = swarmIdFromCert(cert.raw);
  if (!swarmId) throw invalid('carries a certificate that names no swarm');
  const keyPem = rebuildKeyPem(payload.subarray(5, HEADER_BYTES), cert);
  return { swarmId, epoch, certPem: cert.toString(), keyPem };
}
