// Swarm membership on disk: init, join, token, load and rotation. These work on the data dir alone,
// so swarmctl runs them whether or not the daemon is up; a running daemon sees the result through
// watchCredentials.
import { randomBytes } from 'node:crypto';
import { ErrorCodes } from '../errors.js';
import { createSwarmCa, type NodeCert } from './ca.js';
import { buildCredentials, type Credentials, secretOf } from './credentials.js';
import { NODE_ID_RE, swarmLabel } from './names.js';
import { checkDataDirOwnership } from './ownership.js';
import { swarmFingerprint } from './proof.js';
import { SecurityError } from './security-error.js';
import {
  credentialsPath,
  parseStored,
  readStoredText,
  type StoredCredentials,
  writeStored,
} from './store-file.js';
import { decodeToken, encodeToken, type SwarmSecret } from './token.js';

export { watchCredentials } from './watch.js';

/** Options of init and join. */
export interface MembershipOptions {
  /** Replace the credentials of a swarm this box is already in (it leaves that swarm). */
  force?: boolean;
}

function checkNodeId(nodeId: string): void {
  if (!NODE_ID_RE.test(nodeId)) throw new TypeError(`node id must be 16 lowercase hex characters`);
}

function toStored(creds: Credentials): StoredCredentials {
  return {
    format: 1,
    swarmId: creds.swarmId,
    epoch: creds.epoch,
    caCertPem: creds.caCertPem,
    caKeyPem: creds.caKeyPem,
    nodeId: creds.nodeId,
    nodeCertPem: creds.nodeCertPem,
    nodeKeyPem: creds.nodeKeyPem,
  };
}

function storedSecret(stored: StoredCredentials): SwarmSecret {
  return { swarmId: stored.swarmId, epoch: stored.epoch, certPem: stored.caCertPem, keyPem: stored.caKeyPem };
}

async function readStored(dataDir: string): Promise<{ text: string; stored: StoredCredentials } | null> {
  const text = await readStoredText(dataDir);
  return text === null ? null : { text, stored: parseStored(dataDir, text) };
}

// With --force a damaged file is what the user wants replaced, so it reads as "no credentials".
async function readStoredForUpdate(dataDir: string, replaceCorrupt: boolean) {
  const text = await readStoredText(dataDir);
  if (text === null) return null;
  try {
    return { text, stored: parseStored(dataDir, text) as StoredCredentials | null };
  } catch (err) {
    if (
      replaceCorrupt &&
      err instanceof SecurityError &&
      err.code === ErrorCodes.SECURITY_CREDENTIALS_CORRUPT
    ) {
      return { text, stored: null };
    }
    throw err;
  }
}

/** Start a new swarm on this box: CA, epoch 1, this node's certificate; returns the join token. */
export async function initSwarm(
  dataDir: string,
  nodeId: string,
  options: MembershipOptions = {},
): Promise<{ token: string; credentials: Credentials }> {
  checkNodeId(nodeId);
  const ca = await createSwarmCa(randomBytes(8).toString('hex'));
  const secret: SwarmSecret = { ...ca, epoch: 1 };
  const credentials = await update(
    dataDir,
    nodeId,
    (existing) => {
      if (existing && !options.force) throw alreadyMember(existing, 'init would start another one');
      return { secret };
    },
    options.force === true,
  );
  return { token: encodeToken(secret), credentials: credentials! };
}

/**
 * Join the swarm a token names. Joining the same swarm again is a no-op, and a newer epoch of it
 * updates the box; another swarm, or an older epoch of this one, needs `force`.
 */
export async function joinSwarm(
  dataDir: string,
  nodeId: string,
  token: string,
  options: MembershipOptions = {},
): Promise<Credentials> {
  checkNodeId(nodeId);
  const secret = decodeToken(token);
  const credentials = await update(
    dataDir,
    nodeId,
    (existing) => {
      if (!existing || options.force) return { secret };
      if (existing.swarmId !== secret.swarmId)
        throw alreadyMember(existing, `the token is for swarm id ${secret.swarmId}`);
      if (secret.epoch < existing.epoch) throw stale(existing, secret);
      return { secret, node: sameCaNode(existing, secret) };
    },
    options.force === true,
  );
  return credentials!;
}

/** The join token of the swarm this box is in; SECURITY_UNPAIRED (with the commands to run) if none. */
export async function readToken(dataDir: string): Promise<string> {
  const existing = await readStored(dataDir);
  if (!existing) throw unpaired(dataDir);
  return encodeToken(storedSecret(existing.stored));
}

/**
 * This box's credentials, or null when it is unpaired. A node certificate that names another node id
 * (data dir copied), was signed by another CA, or is near expiry is re-issued and saved.
 */
export async function loadCredentials(dataDir: string, nodeId: string): Promise<Credentials | null> {
  checkNodeId(nodeId);
  return update(dataDir, nodeId, (existing) => {
    if (!existing) return null;
    return {
      secret: storedSecret(existing),
      node: { certPem: existing.nodeCertPem, keyPem: existing.nodeKeyPem },
    };
  });
}

/**
 * Install rotated credentials received from a member over the authenticated channel. Only a newer
 * epoch of the swarm this box is in is accepted (an old token replayed cannot roll it back);
 * receiving the current epoch again is a no-op.
 */
export async function replaceCredentials(
  dataDir: string,
  nodeId: string,
  token: string,
): Promise<Credentials> {
  checkNodeId(nodeId);
  const secret = decodeToken(token);
  const credentials = await update(dataDir, nodeId, (existing) => {
    if (!existing) throw unpaired(dataDir);
    if (existing.swarmId !== secret.swarmId)
      throw alreadyMember(existing, `rotation is for swarm id ${secret.swarmId}`);
    if (secret.epoch < existing.epoch) throw stale(existing, secret);
    if (secret.epoch === existing.epoch && existing.caCertPem !== secret.certPem)
      throw stale(existing, secret);
    return { secret, node: sameCaNode(existing, secret) };
  });
  return credentials!;
}

/** The token for the credentials a member holds (what rotate/remove hand to each live member). */
export function tokenOf(creds: Credentials): string {
  return encodeToken(secretOf(creds));
}

// The stored node certificate, when it was issued under the same CA and so may be kept.
function sameCaNode(existing: StoredCredentials, secret: SwarmSecret): NodeCert | undefined {
  if (existing.caCertPem !== secret.certPem) return undefined;
  return { certPem: existing.nodeCertPem, keyPem: existing.nodeKeyPem };
}

const UPDATE_ATTEMPTS = 3;

/**
 * Read, decide, write. If the file changed between the read and the write (swarmctl and the daemon
 * both write it), decide again on the new contents instead of overwriting them. `decide` returns null
 * for "unpaired, nothing to do" and throws to refuse.
 */
async function update(
  dataDir: string,
  nodeId: string,
  decide: (existing: StoredCredentials | null) => { secret: SwarmSecret; node?: NodeCert | undefined } | null,
  replaceCorrupt = false,
): Promise<Credentials | null> {
  await checkDataDirOwnership(dataDir);
  for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
    const before = await readStoredForUpdate(dataDir, replaceCorrupt);
    const plan = decide(before?.stored ?? null);
    if (!plan) return null;
    const { credentials, reissued } = await buildCredentials(plan.secret, nodeId, plan.node);
    if (plan.node && !reissued) return credentials;
    if ((await readStoredText(dataDir)) !== (before?.text ?? null)) continue;
    await writeStored(dataDir, toStored(credentials));
    return credentials;
  }
  throw new SecurityError(
    ErrorCodes.SECURITY_CREDENTIALS_CORRUPT,
    `${credentialsPath(dataDir)} changed ${UPDATE_ATTEMPTS} times while it was being updated; ` +
      'another swarmctl or swarmd is writing it: wait for it to finish and try again',
  );
}

function alreadyMember(stored: StoredCredentials, what: string): SecurityError {
  return new SecurityError(
    ErrorCodes.SECURITY_ALREADY_MEMBER,
    `this box is already in ${swarmLabel({ swarmId: stored.swarmId, epoch: stored.epoch, fingerprint: swarmFingerprint(stored.caCertPem) })}; ${what}. ` +
      '`swarmctl token` prints the token of the swarm it is in; add --force to leave that swarm',
  );
}

function stale(stored: StoredCredentials, secret: SwarmSecret): SecurityError {
  return new SecurityError(
    ErrorCodes.SECURITY_TOKEN_STALE,
    `the token is for credential epoch ${secret.epoch} but this box holds epoch ${stored.epoch} of ` +
      `${swarmLabel({ swarmId: stored.swarmId })}: the swarm's credentials were rotated since that token was made; ` +
      'run `swarmctl token` on an up-to-date member for the current one',
  );
}

function unpaired(dataDir: string): SecurityError {
  return new SecurityError(
    ErrorCodes.SECURITY_UNPAIRED,
    `this box is not in a swarm yet (no ${credentialsPath(dataDir)}): run \`swarmctl init\` on the first box, ` +
      'then `swarmctl join <token>` with the token it prints on each other box',
  );
}
