// Server credentials whose certificates can be swapped while the server runs, so a daemon can bind its
// peer port while unpaired (every connection is dropped) and go live on `swarmctl join`, or switch
// CA on rotate/remove, without rebinding. Built on grpc-js's certificate-provider credentials.
import * as grpc from '@grpc/grpc-js';
import type { Credentials } from './credentials.js';

type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;

/** Server credentials plus the switch that changes them. */
export interface LiveServerCredentials {
  /** Pass to server.bindAsync; mTLS with a required client certificate, like serverCredentials. */
  credentials: grpc.ServerCredentials;
  /** New connections use these from now on; null drops every new connection (unpaired). */
  update(creds: Credentials | null): void;
}

// One provider serves both the CA and the identity, so an update changes them in the same tick.
class SwarmCertificateProvider implements grpc.experimental.CertificateProvider {
  private creds: Credentials | null;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();

  constructor(initial: Credentials | null) {
    this.creds = initial;
  }

  set(creds: Credentials | null): void {
    this.creds = creds;
    for (const listener of this.caListeners) listener(this.caUpdate());
    for (const listener of this.identityListeners) listener(this.identityUpdate());
  }

  private caUpdate(): grpc.experimental.CaCertificateUpdate | null {
    return this.creds ? { caCertificate: Buffer.from(this.creds.caCertPem) } : null;
  }

  private identityUpdate(): grpc.experimental.IdentityCertificateUpdate | null {
    return this.creds
      ? { certificate: Buffer.from(this.creds.nodeCertPem), privateKey: Buffer.from(this.creds.nodeKeyPem) }
      : null;
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    // grpc-js registers its own watcher only after this returns: a synchronous first call
    // would reach nobody and the server would drop every connection until the next update.
    queueMicrotask(() => {
      if (this.caListeners.has(listener)) listener(this.caUpdate());
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    queueMicrotask(() => {
      if (this.identityListeners.has(listener)) listener(this.identityUpdate());
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }
}

/** Server credentials that start with `initial` (null = unpaired) and follow update(). */
export function liveServerCredentials(initial: Credentials | null): LiveServerCredentials {
  const provider = new SwarmCertificateProvider(initial);
  // grpc-js 1.14 names these parameters (ca, identity) but passes them on as (identity, ca); one
  // provider for both sidesteps the mix-up.
  const credentials = grpc.experimental.createCertificateProviderServerCredentials(provider, provider, true);
  return { credentials, update: (creds) => provider.set(creds) };
}
