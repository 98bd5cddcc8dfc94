import { X509Certificate } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { nodeIdFromCert } from '../../../src/security/ca.js';
import { nextSecret } from '../../../src/security/rotate.js';
import {
  initSwarm,
  joinSwarm,
  loadCredentials,
  readToken,
  replaceCredentials,
  tokenOf,
} from '../../../src/security/store.js';
import { credentialsPath, swarmDir } from '../../../src/security/store-file.js';
import { encodeToken } from '../../../src/security/token.js';
import { rejected } from '../../helpers/expect-error.js';

const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';
const dirs: string[] = [];

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmd-store-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('credential store', () => {
  it('init writes a 0600 file in a 0700 dir and returns a token', async () => {
    const dir = await dataDir();
    const { token, credentials } = await initSwarm(dir, A);
    expect(token).toMatch(/^swarmd1_[A-Za-z0-9_-]+$/);
    expect((await stat(swarmDir(dir))).mode & 0o777).toBe(0o700);
    expect((await stat(credentialsPath(dir))).mode & 0o777).toBe(0o600);
    expect(await readdir(swarmDir(dir))).toEqual(['credentials.json']);
    expect(credentials.epoch).toBe(1);
    expect(nodeIdFromCert(credentials.nodeCertPem)).toBe(A);
    expect(await readToken(dir)).toBe(token);
  });

  it('init refuses when already a member unless forced', async () => {
    const dir = await dataDir();
    const first = await initSwarm(dir, A);
    expect((await rejected(initSwarm(dir, A), SwarmError)).code).toBe(ErrorCodes.SECURITY_ALREADY_MEMBER);
    const second = await initSwarm(dir, A, { force: true });
    expect(second.credentials.swarmId).not.toBe(first.credentials.swarmId);
  });

  it('join on a second data dir gives the same swarm with a different node certificate', async () => {
    const first = await dataDir();
    const second = await dataDir();
    const { token, credentials: a } = await initSwarm(first, A);
    const b = await joinSwarm(second, B, token);
    expect(b.swarmId).toBe(a.swarmId);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(b.advertKey.equals(a.advertKey)).toBe(true);
    expect(b.caCertPem).toBe(a.caCertPem);
    expect(nodeIdFromCert(b.nodeCertPem)).toBe(B);
    expect(b.nodeKeyPem).not.toBe(a.nodeKeyPem);
    const caCert = new X509Certificate(a.caCertPem);
    expect(new X509Certificate(b.nodeCertPem).verify(caCert.publicKey)).toBe(true);
    expect(await loadCredentials(second, B)).toEqual(b);
    expect((await stat(credentialsPath(second))).mode & 0o777).toBe(0o600);
  });

  it('join of the same token again is a no-op; another swarm needs force', async () => {
    const dir = await dataDir();
    const { token } = await initSwarm(await dataDir(), A);
    const joined = await joinSwarm(dir, B, token);
    expect(await joinSwarm(dir, B, token)).toEqual(joined);
    const other = await initSwarm(await dataDir(), A);
    expect((await rejected(joinSwarm(dir, B, other.token), SwarmError)).code).toBe(
      ErrorCodes.SECURITY_ALREADY_MEMBER,
    );
    expect((await joinSwarm(dir, B, other.token, { force: true })).swarmId).toBe(other.credentials.swarmId);
  });

  it('join refuses garbage with SECURITY_TOKEN_INVALID and writes nothing', async () => {
    const dir = await dataDir();
    expect((await rejected(joinSwarm(dir, B, 'swarmd1_nope'), SwarmError)).code).toBe(
      ErrorCodes.SECURITY_TOKEN_INVALID,
    );
    expect(await loadCredentials(dir, B)).toBeNull();
  });

  it('readToken on an unpaired dir gives SECURITY_UNPAIRED; loadCredentials gives null', async () => {
    const dir = await dataDir();
    expect((await rejected(readToken(dir), SwarmError)).code).toBe(ErrorCodes.SECURITY_UNPAIRED);
    expect((await rejected(readToken(join(dir, 'does', 'not', 'exist')), SwarmError)).code).toBe(
      ErrorCodes.SECURITY_UNPAIRED,
    );
    expect(await loadCredentials(dir, A)).toBeNull();
  });

  it('a damaged credentials file is SECURITY_CREDENTIALS_CORRUPT', async () => {
    const dir = await dataDir();
    await initSwarm(dir, A);
    await writeFile(credentialsPath(dir), '{"format":1}');
    expect((await rejected(loadCredentials(dir, A), SwarmError)).code).toBe(
      ErrorCodes.SECURITY_CREDENTIALS_CORRUPT,
    );
  });

  it('init or join with --force replaces a damaged credentials file (the fix its error suggests)', async () => {
    const dir = await dataDir();
    const { token } = await initSwarm(await dataDir(), B);
    await initSwarm(dir, A);
    await writeFile(credentialsPath(dir), '{ not json');
    expect((await rejected(joinSwarm(dir, A, token), SwarmError)).code).toBe(
      ErrorCodes.SECURITY_CREDENTIALS_CORRUPT,
    );
    const joined = await joinSwarm(dir, A, token, { force: true });
    expect((await loadCredentials(dir, A))?.swarmId).toBe(joined.swarmId);
    await writeFile(credentialsPath(dir), '{ not json');
    await initSwarm(dir, A, { force: true });
    expect(await loadCredentials(dir, A)).not.toBeNull();
  });

  it('re-issues the node certificate when the data dir was copied to another node', async () => {
    const original = await dataDir();
    const copy = await dataDir();
    const { credentials: a } = await initSwarm(original, A);
    await cp(original, copy, { recursive: true });
    const b = await loadCredentials(copy, B);
    expect(b?.swarmId).toBe(a.swarmId);
    expect(nodeIdFromCert(b!.nodeCertPem)).toBe(B);
    expect(JSON.parse(await readFile(credentialsPath(copy), 'utf8')).nodeId).toBe(B);
    expect(await loadCredentials(original, A)).toEqual(a);
  });

  it('replaceCredentials takes a newer epoch of the same swarm only', async () => {
    const dir = await dataDir();
    const { credentials: first, token: oldToken } = await initSwarm(dir, A);
    const next = await nextSecret(first);
    const rotated = await replaceCredentials(dir, A, encodeToken(next));
    expect(rotated.epoch).toBe(2);
    expect(rotated.swarmId).toBe(first.swarmId);
    expect(rotated.fingerprint).not.toBe(first.fingerprint);
    expect(new X509Certificate(rotated.nodeCertPem).verify(new X509Certificate(next.certPem).publicKey)).toBe(
      true,
    );
    expect(await replaceCredentials(dir, A, tokenOf(rotated))).toEqual(rotated);
    expect((await rejected(replaceCredentials(dir, A, oldToken), SwarmError)).code).toBe(
      ErrorCodes.SECURITY_TOKEN_STALE,
    );
    expect((await rejected(joinSwarm(dir, A, oldToken), SwarmError)).code).toBe(
      ErrorCodes.SECURITY_TOKEN_STALE,
    );
    const stranger = await initSwarm(await dataDir(), B);
    expect((await rejected(replaceCredentials(dir, A, stranger.token), SwarmError)).code).toBe(
      ErrorCodes.SECURITY_ALREADY_MEMBER,
    );
    expect((await rejected(replaceCredentials(await dataDir(), A, tokenOf(rotated)), SwarmError)).code).toBe(
      ErrorCodes.SECURITY_UNPAIRED,
    );
  });
});
