// The swarm CA and the node certificates it signs, built with @peculiar/x509 on Node's WebCrypto.
// ECDSA P-256 keeps certificates (and so the join token that carries the CA) small. The library
// is loaded only to make certificates (init, join, rotate, renewal): reading the names in one is
// Node's own X509Certificate, so a daemon starting or a TLS handshake never pays for it.
import { randomBytes, type webcrypto, X509Certificate } from 'node:crypto';
import { caUri, NODE_ID_RE, nodeDnsName, nodeUri, parseSwarmUri, SWARM_ID_RE } from './names.js';

type X509 = typeof import('./x509.js')['x509'];

async function loadX509(): Promise<X509> {
  return (await import('./x509.js')).x509;
}

/** The swarm's root of trust: whoever holds the key can mint node certificates (PEM, key in PKCS#8). */
export interface CaMaterial {
  swarmId: string;
  certPem: string;
  keyPem: string;
}

/** One node's TLS identity, signed by the swarm CA (PEM, key in PKCS#8, which Node's tls accepts). */
export interface NodeCert {
  certPem: string;
  keyPem: string;
}

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
const CA_VALIDITY_DAYS = 3650;
// Node certificates are re-issued from the CA key on load when close to expiry, so two years is plenty.
const NODE_CERT_VALIDITY_DAYS = 730;
// Boxes on a LAN disagree about the time; starting validity a day back keeps a fresh cert usable on a
// peer whose clock lags.
const BACKDATE_MS = DAY_MS;

function randomSerial(): string {
  const bytes = randomBytes(16);
  // Positive and exactly 16 bytes in DER: high bit clear, first byte non-zero.
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

// @peculiar/x509 ends PEM without a newline; files and concatenated bundles (openssl, Node's
// tls `ca`) need one.
function pemLine(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

async function exportKeyPem(x509: X509, key: webcrypto.CryptoKey): Promise<string> {
  const pkcs8 = await globalThis.crypto.subtle.exportKey('pkcs8', key);
  return pemLine(x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'));
}

/** Create a new self-signed swarm CA (ECDSA P-256, 10 years, CA:true, pathlen 0). */
export async function createSwarmCa(swarmId: string): Promise<CaMaterial> {
  if (!SWARM_ID_RE.test(swarmId)) throw new TypeError(`swarm id must be 16 lowercase hex characters`);
  const x509 = await loadX509();
  const keys = await globalThis.crypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=swarmd CA',
    ...validity(CA_VALIDITY_DAYS),
    signingAlgorithm: SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: caUri(swarmId) }]),
    ],
  });
  return {
    swarmId,
    certPem: pemLine(cert.toString('pem')),
    keyPem: await exportKeyPem(x509, keys.privateKey),
  };
}

/** Issue a certificate for one node: SAN URI and DNS name carry the node id, usable as client and server. */
export async function issueNodeCert(ca: CaMaterial, nodeId: string): Promise<NodeCert> {
  if (!NODE_ID_RE.test(nodeId)) throw new TypeError(`node id must be 16 lowercase hex characters`);
  const x509 = await loadX509();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await globalThis.crypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(ca.keyPem),
    EC_KEY,
    false,
    ['sign'],
  );
  const keys = await globalThis.crypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${nodeId}`,
    issuer: caCert.subject,
    ...validity(NODE_CERT_VALIDITY_DAYS),
    signingAlgorithm: SIGNING,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: nodeDnsName(nodeId) },
        { type: 'url', value: nodeUri(ca.swarmId, nodeId) },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { certPem: pemLine(cert.toString('pem')), keyPem: await exportKeyPem(x509, keys.privateKey) };
}

function swarmIdentity(cert: string | Uint8Array): { swarmId: string; nodeId: string | null } | null {
  try {
    // Node lists the names as `DNS:a.swarmd, URI:swarmd://…`, quoting (JSON) any with a comma.
    const names = new X509Certificate(cert).subjectAltName ?? '';
    for (const name of names.match(/URI:(?:"(?:[^"\\]|\\.)*"|[^,]*)/g) ?? []) {
      const value = name.slice(4);
      const ids = parseSwarmUri(value.startsWith('"') ? (JSON.parse(value) as string) : value);
      if (ids) return ids;
    }
    return null;
  } catch {
    // Unparseable input is "not one of ours", which callers already handle as null.
    return null;
  }
}

/** The node id a node certificate names (PEM or DER), or null if it names none. */
export function nodeIdFromCert(cert: string | Uint8Array): string | null {
  return swarmIdentity(cert)?.nodeId ?? null;
}

/** The swarm id a node or CA certificate names (PEM or DER), or null if it names none. */
export function swarmIdFromCert(cert: string | Uint8Array): string | null {
  return swarmIdentity(cert)?.swarmId ?? null;
}
