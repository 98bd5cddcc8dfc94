// @peculiar/x509 reads decorator metadata at import time, so reflect-metadata must load first;
// every security file imports x509 from here to keep that order in one place.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

// Node's WebCrypto is the provider: no hand-written crypto, and the same engine Node's TLS trusts.
x509.cryptoProvider.set(globalThis.crypto);

/** @peculiar/x509, initialised with Node's WebCrypto. */
export { x509 };
