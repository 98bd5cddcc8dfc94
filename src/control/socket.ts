// The control socket file: refuse to steal a live daemon's socket, clear a stale one,
// and make sure only this user can connect (0600).
import { chmod, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { ErrorCodes, SwarmError } from '../errors.js';

/** True when something accepts connections on the socket path. */
export function socketIsLive(path: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (live: boolean) => {
      socket.destroy();
      resolve(live);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(timeoutMs, () => done(false));
  });
}

/** Remove a stale socket file; throw CONTROL_SOCKET_BUSY when a daemon is listening there. */
export async function claimSocketPath(path: string): Promise<void> {
  if (await socketIsLive(path)) {
    throw new SwarmError(
      ErrorCodes.CONTROL_SOCKET_BUSY,
      `another swarmd is already running with control socket ${path}: stop it first, or give this one another data dir (--data-dir) or socket (--socket)`,
    );
  }
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Restrict the socket to its owner. */
export async function restrictSocket(path: string): Promise<void> {
  await chmod(path, 0o600);
}
