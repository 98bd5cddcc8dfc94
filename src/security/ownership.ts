// The data dir holds this node's identity and swarm credentials: whoever can write it can make
// the daemon join their swarm. So it, the swarm dir and credentials.json must belong to the user
// swarmd runs as and be writable by nobody else. Checked at start (refusing to run) and on every
// credentials reload (refusing the new file).
import { lstat, stat } from 'node:fs/promises';
import { ErrorCodes } from '../errors.js';
import { SecurityError } from './security-error.js';
import { credentialsPath, swarmDir } from './store-file.js';

/** Throw SECURITY_DATA_DIR_UNSAFE when the data dir, swarm dir or credentials file is not ours alone. */
export async function checkDataDirOwnership(dataDir: string): Promise<void> {
  const uid = process.getuid?.();
  if (uid === undefined) return; // no uids to compare on this platform
  await checkOne(dataDir, uid, 'data dir', stat);
  await checkOne(swarmDir(dataDir), uid, 'swarm credentials dir', stat);
  // The file itself is never followed: a link could point anywhere another user chose.
  await checkOne(credentialsPath(dataDir), uid, 'credentials file', lstat);
}

async function checkOne(
  path: string,
  uid: number,
  what: string,
  read: typeof stat | typeof lstat,
): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await read(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // created later, by us
    throw err;
  }
  if (info.isSymbolicLink()) {
    throw unsafe(path, `the ${what} ${path} is a symbolic link`, `replace it with the file itself`);
  }
  if (info.uid !== uid) {
    throw unsafe(
      path,
      `the ${what} ${path} belongs to uid ${info.uid}, not to uid ${uid} that swarmd runs as: another user could have planted it`,
      'remove it, or pick a data dir of your own with --data-dir',
    );
  }
  if ((info.mode & 0o022) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(3, '0');
    throw unsafe(
      path,
      `the ${what} ${path} is writable by other users (mode ${mode})`,
      `run: chmod go-w ${path}`,
    );
  }
}

function unsafe(_path: string, what: string, fix: string): SecurityError {
  return new SecurityError(ErrorCodes.SECURITY_DATA_DIR_UNSAFE, `${what}; swarmd refuses to use it: ${fix}`);
}
