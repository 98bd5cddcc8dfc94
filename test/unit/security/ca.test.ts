import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSwarmCa, issueNodeCert, nodeIdFromCert, swarmIdFromCert } from '../../../src/security/ca.js';

const SWARM = '0123456789abcdef';
const NODE = 'a1b2c3d4e5f60718';

describe('swarm CA and node certificates', async () => {
  const ca = await createSwarmCa(SWARM);
  const node = await issueNodeCert(ca, NODE);

  it('makes a self-signed CA certificate that names the swarm', () => {
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(swarmIdFromCert(ca.certPem)).toBe(SWARM);
    expect(nodeIdFromCert(ca.certPem)).toBeNull();
    expect(Date.parse(cert.validTo) - Date.now()).toBeGreaterThan(9 * 365 * 86_400_000);
  });

  it('issues a node certificate signed by the CA that names the node id, not an IP', () => {
    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(node.certPem);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkHost(`${NODE}.swarmd`)).toBe(`${NODE}.swarmd`);
    expect(cert.checkIP('127.0.0.1')).toBeUndefined();
    expect(cert.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(nodeIdFromCert(node.certPem)).toBe(NODE);
    expect(nodeIdFromCert(cert.raw)).toBe(NODE);
    expect(swarmIdFromCert(cert.raw)).toBe(SWARM);
  });

  it('exports keys as PKCS#8 PEM', () => {
    expect(node.keyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(ca.keyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
  });

  it('gives each certificate a fresh key and serial', async () => {
    const again = await issueNodeCert(ca, NODE);
    expect(new X509Certificate(again.certPem).serialNumber).not.toBe(
      new X509Certificate(node.certPem).serialNumber,
    );
    expect(again.keyPem).not.toBe(node.keyPem);
  });

  it('reads no ids from text that is not a certificate', () => {
    expect(nodeIdFromCert('not a certificate')).toBeNull();
    expect(swarmIdFromCert(new Uint8Array([1, 2, 3]))).toBeNull();
  });

  it('refuses malformed ids', async () => {
    await expect(createSwarmCa('XYZ')).rejects.toThrow(TypeError);
    await expect(issueNodeCert(ca, '10.0.0.1')).rejects.toThrow(TypeError);
  });
});
