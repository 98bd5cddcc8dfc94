// This box's node id: random once, then kept in <dataDir>/node-id so peers recognise the box
// across restarts and address changes.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, errorMessage, SwarmError } from '../errors.js';

/** File name of the node id inside the data directory. */
export const NODE_ID_FILE = 'node-id';

/** A node id: 16 lowercase hex characters (64 random bits). */
export const NODE_ID_RE = /^[0-9a-f]{16}$/;

/** Read the node id from dataDir, creating the directory and a new id on first run. */
export async function loadOrCreateNodeId(dataDir: string): Promise<string> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw dataDirError(dataDir, 'cannot be created', err);
  }
  const file = join(dataDir, NODE_ID_FILE);
  const existing = await readId(file);
  if (existing !== null) return existing;
  return writeNewId(dataDir, file);
}

// null when the file does not exist yet.
async function readId(file: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw dataDirError(file, 'cannot be read', err);
  }
  const id = text.trim();
  if (NODE_ID_RE.test(id)) return id;
  const shown = id.length > 40 ? `${id.slice(0, 40)}…` : id;
  throw new SwarmError(
    ErrorCodes.NODE_ID_CORRUPT,
    `node id file ${file} holds ${JSON.stringify(shown)}, not a node id (16 lowercase hex characters). ` +
      'Delete the file to get a new id; peers will then see this box as a new node.',
  );
}

// Write to a temp file, then link it into place: the id file is never seen half-written, and
// if another process created it meanwhile (EEXIST) its id wins, so both agree on one id.
async function writeNewId(dataDir: string, file: string): Promise<string> {
  const id = randomBytes(8).toString('hex');
  const tmp = join(dataDir, `.${NODE_ID_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(`${id}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw dataDirError(dataDir, 'is not writable', err);
  }
  try {
    await link(tmp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      await unlink(tmp).catch(() => {});
      // The winner's id, unless its file vanished in between: then try again.
      return (await readId(file)) ?? writeNewId(dataDir, file);
    }
    // Filesystems without hard links (some FUSE/FAT mounts): rename is still atomic.
    try {
      await rename(tmp, file);
    } catch (renameErr) {
      await unlink(tmp).catch(() => {});
      throw dataDirError(dataDir, 'is not writable', renameErr);
    }
    return id;
  }
  await unlink(tmp).catch(() => {});
  return id;
}

function dataDirError(path: string, what: string, cause: unknown): SwarmError {
  return new SwarmError(
    ErrorCodes.DATA_DIR,
    `data directory path ${path} ${what}: ${errorMessage(cause)}. ` +
      'Check that it exists and that the swarmd user owns it, or set another data directory.',
    { cause },
  );
}
