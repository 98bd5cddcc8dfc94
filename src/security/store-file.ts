// The one credentials file, `<dataDir>/swarm/credentials.json` (dir 0700, file 0600). One file
// written by temp + rename means a daemon watching it never reads a CA from one swarm next to a
// node certificate from another.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ErrorCodes } from '../errors.js';
import { SecurityError } from './security-error.js';

/** What credentials.json holds (format 1). */
export interface StoredCredentials {
  format: 1;
  swarmId: string;
  epoch: number;
  caCertPem: string;
  caKeyPem: string;
  nodeId: string;
  nodeCertPem: string;
  nodeKeyPem: string;
}

const storedSchema = z
  .object({
    format: z.literal(1),
    swarmId: z.string().regex(/^[0-9a-f]{16}$/),
    epoch: z.number().int().min(1),
    caCertPem: z.string().min(1),
    caKeyPem: z.string().min(1),
    nodeId: z.string().regex(/^[0-9a-f]{16}$/),
    nodeCertPem: z.string().min(1),
    nodeKeyPem: z.string().min(1),
  })
  .strict();

/** `<dataDir>/swarm`, where this box's swarm credentials live. */
export function swarmDir(dataDir: string): string {
  return join(dataDir, 'swarm');
}

/** The credentials file inside swarmDir. */
export const CREDENTIALS_FILE = 'credentials.json';

/** Full path of the credentials file. */
export function credentialsPath(dataDir: string): string {
  return join(swarmDir(dataDir), CREDENTIALS_FILE);
}

/** Raw file text, or null when the box holds no credentials (unpaired). */
export async function readStoredText(dataDir: string): Promise<string | null> {
  try {
    return await readFile(credentialsPath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SecurityError(
      ErrorCodes.SECURITY_CREDENTIALS_CORRUPT,
      `cannot read ${credentialsPath(dataDir)} (${(err as NodeJS.ErrnoException).code ?? 'error'}); ` +
        'check that swarmd and swarmctl run as the user that owns the data dir',
      { cause: err },
    );
  }
}

/** Parse credentials.json text; throws SECURITY_CREDENTIALS_CORRUPT naming the file and the fix. */
export function parseStored(dataDir: string, text: string): StoredCredentials {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw corrupt(dataDir, 'it is not JSON', err);
  }
  const result = storedSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw corrupt(dataDir, `field "${issue?.path.join('.') ?? '?'}" is ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

function corrupt(dataDir: string, why: string, cause?: unknown): SecurityError {
  return new SecurityError(
    ErrorCodes.SECURITY_CREDENTIALS_CORRUPT,
    `${credentialsPath(dataDir)} is damaged: ${why}; run \`swarmctl join --force <token>\` with a token ` +
      'from another member (or `swarmctl init --force` to start a new swarm)',
    { cause },
  );
}

/** Write credentials atomically: 0600 temp file, fsync, rename over the old file, fsync the dir. */
export async function writeStored(dataDir: string, stored: StoredCredentials): Promise<void> {
  const dir = swarmDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is ignored for a dir that already exists and is masked by umask.
  await chmod(dir, 0o700);
  const tmp = join(dir, `.${CREDENTIALS_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(stored, null, 2)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, credentialsPath(dataDir));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
