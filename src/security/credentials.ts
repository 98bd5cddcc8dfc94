// What a member box holds: the swarm CA (shared by all members) plus its own node certificate.
// Every member keeps the CA key because the token grants membership: any member can hand it on.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { issueNodeCert, type NodeCert, nodeIdFromCert, swarmIdFromCert } from './ca.js';
import { advertKey, swarmFingerprint } from './proof.js';
import type { SwarmSecret } from './token.js';

/** A member's credentials, ready for TLS and advert proofs. */
export interface Credentials {
  swarmId: string;
  epoch: number;
  caCertPem: string;
  caKeyPem: string;
  nodeId: string;
  nodeCertPem: string;
  nodeKeyPem: string;
  /** First 8 hex of sha256(CA cert): shown to people, equal on every up-to-date member. */
  fingerprint: string;
  /** HMAC key for mDNS advert proofs. */
  advertKey: Buffer;
}

/** A node certificate this close to expiry is re-issued on load, so members never expire in service. */
export const RENEW_BEFORE_MS = 30 * 86_400_000;

/** The swarm secret (what a token carries) inside a member's credentials. */
export function secretOf(creds: Credentials): SwarmSecret {
  return { swarmId: creds.swarmId, epoch: creds.epoch, certPem: creds.caCertPem, keyPem: creds.caKeyPem };
}

/** True when cert/key are this node's, signed by this CA, and not near expiry (a copied data dir fails). */
export function nodeCertUsable(
  secret: SwarmSecret,
  nodeId: string,
  node: NodeCert,
  nowMs = Date.now(),
): boolean {
  try {
    const ca = new X509Certificate(secret.certPem);
    const cert = new X509Certificate(node.certPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    if (nodeIdFromCert(cert.raw) !== nodeId || swarmIdFromCert(cert.raw) !== secret.swarmId) return false;
    if (Date.parse(cert.validTo) - nowMs < RENEW_BEFORE_MS) return false;
    const fromKey = createPublicKey(createPrivateKey(node.keyPem)).export({ type: 'spki', format: 'der' });
    return fromKey.equals(cert.publicKey.export({ type: 'spki', format: 'der' }));
  } catch {
    // Anything unparseable is simply not usable; the caller re-issues from the CA key.
    return false;
  }
}

/** Assemble credentials, issuing a fresh node certificate when the given one is missing or unusable. */
export async function buildCredentials(
  secret: SwarmSecret,
  nodeId: string,
  node?: NodeCert,
): Promise<{ credentials: Credentials; reissued: boolean }> {
  const usable = node !== undefined && nodeCertUsable(secret, nodeId, node);
  const cert = usable ? node : await issueNodeCert(secret, nodeId);
  const credentials: Credentials = {
    swarmId: secret.swarmId,
    epoch: secret.epoch,
    caCertPem: secret.certPem,
    caKeyPem: secret.keyPem,
    nodeId,
    nodeCertPem: cert.certPem,
    nodeKeyPem: cert.keyPem,
    fingerprint: swarmFingerprint(secret.certPem),
    advertKey: advertKey(secret),
  };
  return { credentials, reissued: !usable };
}
