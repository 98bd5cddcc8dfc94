// gRPC mTLS between peers: both sides present a node certificate signed by the swarm CA and trust only
// that CA. Certificates name node ids, not IPs, so clients check the name themselves.

import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { ErrorCodes } from '../errors.js';
import { nodeIdFromCert, swarmIdFromCert } from './ca.js';
import type { Credentials } from './credentials.js';
import { nodeDnsName } from './names.js';
import { SecurityError } from './security-error.js';

/** Server credentials: our node certificate, and a client certificate from our CA is required. */
export function serverCredentials(creds: Credentials): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(
    Buffer.from(creds.caCertPem),
    [{ cert_chain: Buffer.from(creds.nodeCertPem), private_key: Buffer.from(creds.nodeKeyPem) }],
    true,
  );
}

/**
 * Client credentials: trust only our CA, present our node certificate, and accept a server only if its
 * certificate names our swarm and, when expectedNodeId is given, that node. Use with peerChannelOptions.
 */
export function clientCredentials(creds: Credentials, expectedNodeId?: string): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    Buffer.from(creds.caCertPem),
    Buffer.from(creds.nodeKeyPem),
    Buffer.from(creds.nodeCertPem),
    {
      // Node runs this only after the chain verified against our CA; the hostname is ignored
      // because we dial IPs and certificates name node ids.
      checkServerIdentity: (_host: string, cert: PeerCertificate): Error | undefined =>
        serverIdentityError(creds.swarmId, cert, expectedNodeId),
    },
  );
}

function serverIdentityError(
  swarmId: string,
  cert: PeerCertificate,
  expectedNodeId?: string,
): Error | undefined {
  const raw = cert.raw;
  if (!raw || swarmIdFromCert(raw) !== swarmId) {
    return new SecurityError(
      ErrorCodes.SECURITY_PEER_REFUSED,
      `peer certificate does not name swarm ${swarmId}`,
    );
  }
  const nodeId = nodeIdFromCert(raw);
  if (nodeId === null) {
    return new SecurityError(ErrorCodes.SECURITY_PEER_REFUSED, 'peer certificate names no node');
  }
  if (expectedNodeId !== undefined && nodeId !== expectedNodeId) {
    return new SecurityError(
      ErrorCodes.SECURITY_PEER_REFUSED,
      `dialled node ${expectedNodeId} but the peer's certificate names node ${nodeId}`,
    );
  }
  return undefined;
}

/**
 * Channel options for dialling a peer by IP. The TLS server name (SNI) becomes `<nodeId>.swarmd`
 * (or `swarmd` when the id is not known yet): Node refuses an IP as SNI, and grpc-js otherwise runs
 * its own hostname check against the IP.
 */
export function peerChannelOptions(expectedNodeId?: string): grpc.ChannelOptions {
  return { 'grpc.ssl_target_name_override': expectedNodeId ? nodeDnsName(expectedNodeId) : 'swarmd' };
}

const CACHE_LIMIT = 512;
// Heartbeats arrive every second from every peer: parse each (certificate, CA) pair once.
const identityCache = new Map<string, string | null>();
let caCache: { pem: string; cert: X509Certificate } | undefined;

function caCert(pem: string): X509Certificate {
  if (caCache?.pem !== pem) caCache = { pem, cert: new X509Certificate(pem) };
  return caCache.cert;
}

/** Something a server call can report its TLS peer from (every grpc-js server call type can). */
export interface HasAuthContext {
  getAuthContext(): { sslPeerCertificate?: PeerCertificate | undefined } | null;
}

/**
 * The node id named by the verified client certificate of a server call, or null (no TLS, no client
 * certificate, not ours). With `current`, the certificate must also be signed by that CA: a TLS
 * connection opened before a rotate/remove stays open, and this is what shuts it out.
 */
export function peerNodeIdFromCall(
  call: HasAuthContext,
  current?: Pick<Credentials, 'caCertPem'>,
): string | null {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  if (!cert?.raw) return null;
  const ca = current ? caCert(current.caCertPem) : undefined;
  const key = `${cert.fingerprint256}|${ca?.fingerprint256 ?? '-'}`;
  const cached = identityCache.get(key);
  if (cached !== undefined) return cached;
  let nodeId = nodeIdFromCert(cert.raw);
  if (nodeId !== null && ca) {
    const leaf = new X509Certificate(cert.raw);
    if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) nodeId = null;
  }
  if (identityCache.size >= CACHE_LIMIT) identityCache.clear();
  identityCache.set(key, nodeId);
  return nodeId;
}

/** Refuse a call whose TLS identity is not the node it claims to be (RegisterNode, Heartbeat, ...). */
export function assertPeerIs(
  call: HasAuthContext,
  claimedNodeId: string,
  current: Pick<Credentials, 'caCertPem'>,
): void {
  const actual = peerNodeIdFromCall(call, current);
  if (actual !== claimedNodeId) {
    throw new SecurityError(
      ErrorCodes.SECURITY_PEER_REFUSED,
      actual === null
        ? `caller claims node ${claimedNodeId} but presents no current swarm certificate`
        : `caller claims node ${claimedNodeId} but its certificate names node ${actual}`,
    );
  }
}
