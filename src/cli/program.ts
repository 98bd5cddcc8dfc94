// The swarmctl command line: global options, the command list, and how errors become exit codes.
import { Command, CommanderError } from 'commander';
import { loadConfig } from '../config/load.js';
import { type ErrorCode, ErrorCodes, errorMessage, SwarmError } from '../errors.js';
import { doctorCommand } from './commands/doctor.js';
import { modelsCommand } from './commands/models.js';
import { nodesCommand } from './commands/nodes.js';
import { statusCommand } from './commands/status.js';
import { type ControlClient, connectControl } from './control-client.js';
import { errorJson } from './json.js';
import { type CliIo, type DaemonCommand, ExitCodes, printJson } from './types.js';

/** Dependencies runCli can be given instead of the real ones (tests). */
export interface CliDeps {
  /** Environment used to find the config and its control.socket (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Opens the control connection (default connectControl). */
  connect?: (socketPath: string) => ControlClient;
}

/** One swarmctl command that asks the local daemon. */
export interface CommandSpec {
  name: string;
  /** The one-line description shown by --help. */
  summary: string;
  run: DaemonCommand;
}

/**
 * Every daemon command, in --help order. Commands later issues add go here: chat, pause,
 * resume, drain, usage, jobs (daemon commands), and init, join, token, which work on the
 * data dir with no daemon running and so get their own list and runner.
 */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'status',
    summary: 'show this node: state, addresses, GPUs, backends, models, uptime',
    run: statusCommand,
  },
  { name: 'nodes', summary: 'list the nodes of the swarm and how this node sees them', run: nodesCommand },
  {
    name: 'models',
    summary: 'list the models the swarm offers and where they are loaded',
    run: modelsCommand,
  },
  { name: 'doctor', summary: 'run the daemon self-checks and say how to fix what fails', run: doctorCommand },
];

const USAGE_CODES: readonly ErrorCode[] = [
  ErrorCodes.ARGS_INVALID,
  ErrorCodes.CONFIG_INVALID,
  ErrorCodes.CONFIG_PARSE,
  ErrorCodes.CONFIG_UNREADABLE,
];

const HELP_FOOTER = `
Exit codes: 0 ok, 1 the daemon answered but something is wrong, 2 usage or config error,
3 swarmd unreachable. With --json, output is the documented JSON shape; on error
{"error": {"code", "message"}} is printed instead.`;

/** Build the commander program; each action stores its exit code in result.exitCode. */
export function buildProgram(io: CliIo, deps: CliDeps, result: { exitCode: number }): Command {
  const program = new Command('swarmctl')
    .description('Ask the local swarmd about the swarm it belongs to.')
    .option(
      '--socket <path>',
      'control socket of the swarmd to ask (default: control.socket from the config, normally <dataDir>/control.sock)',
    )
    .option('--json', 'print machine-readable JSON (stable shapes, see the README)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
      outputError: (s, write) => write(`swarmctl: ${s.replace(/^error: /, '')}`),
    })
    .showHelpAfterError('(run swarmctl --help for usage)')
    .addHelpText('after', HELP_FOOTER);

  const env = deps.env ?? process.env;
  const connect = deps.connect ?? connectControl;
  for (const spec of COMMANDS) {
    program
      .command(spec.name)
      .description(spec.summary)
      .action(async (_options: unknown, command: Command) => {
        const globals = command.optsWithGlobals<{ socket?: string; json?: boolean }>();
        const socket = globals.socket ?? loadConfig({ argv: [], env }).control.socket;
        const client = connect(socket);
        try {
          result.exitCode = await spec.run(client, { json: Boolean(globals.json), socket }, io);
        } finally {
          client.close();
        }
      });
  }
  return program;
}

/** Run swarmctl with argv (without node and script); resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  const result = { exitCode: ExitCodes.OK as number };
  const program = buildProgram(io, deps, result);
  const json = wantsJson(argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return commanderExit(err, io, json);
    return reportError(err, io, json);
  }
}

/** The exit code of an error: 3 unreachable, 2 usage or config, 1 anything else. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof SwarmError) {
    if (err.code === ErrorCodes.CONTROL_UNREACHABLE) return ExitCodes.UNREACHABLE;
    if (USAGE_CODES.includes(err.code)) return ExitCodes.USAGE;
  }
  return ExitCodes.FAILED;
}

function reportError(err: unknown, io: CliIo, json: boolean): number {
  const known = err instanceof SwarmError;
  const message = known ? err.message : `unexpected error: ${errorMessage(err)}`;
  io.err(`swarmctl: ${message}`);
  if (json) printJson(io, errorJson(known ? err.code : null, message));
  return exitCodeFor(err);
}

function commanderExit(err: CommanderError, io: CliIo, json: boolean): number {
  // Help and version were printed on request; commander.help with a non-zero code is "no command given".
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCodes.OK;
  if (err.code === 'commander.help') return err.exitCode === 0 ? ExitCodes.OK : ExitCodes.USAGE;
  // commander already wrote "swarmctl: <message>" to stderr through outputError.
  if (json) {
    const message = err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
    printJson(io, errorJson(ErrorCodes.ARGS_INVALID, message));
  }
  return ExitCodes.USAGE;
}

function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}
