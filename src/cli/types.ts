// Types every swarmctl command shares: where output goes and the global options.
import type { ControlClient } from './control-client.js';

/** Where a command writes; each call is one or more whole lines, without the final newline. */
export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Global options every command receives. */
export interface CommandOptions {
  /** Print the documented JSON shape (src/cli/json.ts) instead of human output. */
  json: boolean;
  /** The control socket in use. */
  socket: string;
}

/** A command that talks to the local daemon; resolves to the process exit code. */
export type DaemonCommand = (client: ControlClient, opts: CommandOptions, io: CliIo) => Promise<number>;

/** Process exit codes of swarmctl. */
export const ExitCodes = {
  /** Done. */
  OK: 0,
  /** The daemon answered but something is wrong (a doctor check failed, the daemon refused). */
  FAILED: 1,
  /** Bad usage or an unusable config. */
  USAGE: 2,
  /** The daemon could not be reached on the control socket. */
  UNREACHABLE: 3,
} as const;

/** Write data as the --json output: indented, one document. */
export function printJson(io: CliIo, data: unknown): void {
  io.out(JSON.stringify(data, null, 2));
}
