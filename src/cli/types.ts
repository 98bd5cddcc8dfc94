// Types every swarmctl command shares: where output goes and the global options.
import type { SwarmConfig } from '../config/load.js';
import type { ControlClient } from './control-client.js';

/** Where a command writes; each call is one or more whole lines, without the final newline. */
export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /**
   * Text for stdout as it arrives, no newline added (`swarmctl chat` streaming tokens). Where
   * absent, such text is collected and written with `out` at the end.
   */
  write?: (s: string) => void;
  /** stderr is a terminal that shows ANSI styles (the dim `chat` footer); plain text when absent. */
  styled?: boolean;
}

/** Global options every command receives. */
export interface CommandOptions {
  /** Print the documented JSON shape (src/cli/json.ts) instead of human output. */
  json: boolean;
  /** The control socket in use. */
  socket: string;
  /** The positional arguments the command declares, in order (`remove <node>` → [node]). */
  args: readonly string[];
  /** The command's own options by commander name (`--since 7d` → since, `--no-stream` → stream). */
  options: Readonly<Record<string, string | boolean | undefined>>;
  /** This box's config as swarmd would load it (read on first call; throws a ConfigError). */
  config: () => SwarmConfig;
}

/** A command that talks to the local daemon; resolves to the process exit code. */
export type DaemonCommand = (client: ControlClient, opts: CommandOptions, io: CliIo) => Promise<number>;

/** What a command that works on the data dir alone (no daemon) receives. */
export interface LocalOptions {
  /** Print the documented JSON shape instead of human output. */
  json: boolean;
  /** Absolute path of this box's data dir (--data-dir, else node.dataDir from the config). */
  dataDir: string;
  /** The positional arguments the command declares, in order. */
  args: readonly string[];
  /** --force was given (init, join: leave the swarm this box is in). */
  force: boolean;
  /** Everything on standard input, for a token given as `-`. */
  readStdin: () => Promise<string>;
}

/** A command that works on the data dir without the daemon; resolves to the process exit code. */
export type LocalCommand = (opts: LocalOptions, io: CliIo) => Promise<number>;

/** Process exit codes of swarmctl. */
export const ExitCodes = {
  /** Done. */
  OK: 0,
  /** The daemon answered but something is wrong (a doctor check failed, a member missed new credentials). */
  FAILED: 1,
  /** Bad usage, an unusable config, or a token or membership state that does not allow the command. */
  USAGE: 2,
  /** The daemon could not be reached on the control socket. */
  UNREACHABLE: 3,
} as const;

/** Write data as the --json output: indented, one document. */
export function printJson(io: CliIo, data: unknown): void {
  io.out(JSON.stringify(data, null, 2));
}
