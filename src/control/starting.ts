// "swarmd is starting": a small file beside the control socket, holding the daemon's pid, from the
// moment swarmd knows its socket path (before its modules load) until start() ends. swarmctl reads
// it to tell "the daemon is on its way" (wait a moment) from "no daemon" (say so at once).
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The marker of the daemon that will listen on socketPath. */
export function startingMarkerPath(socketPath: string): string {
  return `${socketPath}.starting`;
}

/**
 * Say this process is starting a daemon on socketPath; the returned function takes it back. Best
 * effort: if the file cannot be written, start-up goes on (its own errors say more).
 */
export async function markStarting(socketPath: string): Promise<() => Promise<void>> {
  const path = startingMarkerPath(socketPath);
  const pid = String(process.pid);
  try {
    // The first start creates the data dir (the default socket's dir) here, as the daemon would.
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // Written aside and renamed in place: a reader never sees the file without its pid.
    const temp = `${path}.${pid}.tmp`;
    await writeFile(temp, `${pid}\n`, { mode: 0o600 });
    await rename(temp, path);
  } catch {
    return async () => {};
  }
  return async () => {
    // Another daemon may have claimed the path since: leave its marker alone.
    if ((await readFile(path, 'utf8').catch(() => '')).trim() !== pid) return;
    await unlink(path).catch(() => {});
  };
}

/** The pid of a daemon still starting on socketPath, or null when none is (no marker, or its process is gone). */
export async function startingDaemonPid(socketPath: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(startingMarkerPath(socketPath), 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  return isOurProcess(pid) ? pid : null;
}

// Signal 0 only checks: ESRCH (gone) and EPERM (another user's process, so not our daemon) are no.
function isOurProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
