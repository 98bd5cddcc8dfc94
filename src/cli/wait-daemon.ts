// Right after `systemctl --user start swarmd` (or `swarmd &`) the control socket takes a second or
// so to appear. A command run meanwhile waits for it, briefly and saying so, instead of failing with
// "no control socket". Only a daemon that is starting is waited for (control/starting.ts): with no
// daemon at all the command fails at once, as before.
import { setTimeout as sleep } from 'node:timers/promises';
import { socketIsLive } from '../control/socket.js';
import { startingDaemonPid } from '../control/starting.js';
import { ErrorCodes, SwarmError } from '../errors.js';
import { monotonicMs } from '../util/clock.js';
import type { CliIo } from './types.js';

/** How long a command waits for a starting daemon to open its control socket. */
export const START_WAIT_MS = 5_000;

/** How often the socket is tried meanwhile. */
const POLL_MS = 100;

/**
 * Return once the daemon on socketPath can be asked, or at once when no daemon is starting there
 * (the command's own call then says what is wrong). Throws CONTROL_UNREACHABLE when a starting
 * daemon has not opened its socket within timeoutMs.
 */
export async function waitForStartingDaemon(
  socketPath: string,
  io: CliIo,
  timeoutMs: number = START_WAIT_MS,
): Promise<void> {
  const pid = await startingDaemonPid(socketPath);
  if (pid === null || (await socketIsLive(socketPath))) return;
  io.err(`waiting for swarmd to start (${socketPath})…`);
  const deadline = monotonicMs() + timeoutMs;
  while (monotonicMs() < deadline) {
    await sleep(POLL_MS);
    if (await socketIsLive(socketPath)) return;
    // Its start ended without a socket (it failed, or was stopped): nothing more to wait for.
    if ((await startingDaemonPid(socketPath)) === null) return;
  }
  throw new SwarmError(
    ErrorCodes.CONTROL_UNREACHABLE,
    `cannot reach swarmd: swarmd (pid ${pid}) is still starting after ${timeoutMs / 1000}s and does not listen on ` +
      `${socketPath} yet; see what it is doing with \`systemctl --user status swarmd\` (or in the terminal that ` +
      'runs it), try again in a moment, and run `swarmctl doctor` once it answers',
  );
}
