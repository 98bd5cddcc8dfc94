// The swarmctl command line: global options, the command list, and how errors become exit codes.
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { loadConfig, type SwarmConfig } from '../config/load.js';
import { type ErrorCode, ErrorCodes, errorMessage, SwarmError } from '../errors.js';
import { DEFAULT_SINCE } from '../usage/args.js';
import { USAGE_GROUP_BY } from '../usage/summary.js';
import { applyCommand } from './commands/apply.js';
import { cancelCommand } from './commands/cancel.js';
import { chatCommand } from './commands/chat.js';
import { doctorCommand } from './commands/doctor.js';
import { initCommand } from './commands/init.js';
import { jobCommand } from './commands/job.js';
import { jobsCommand } from './commands/jobs.js';
import { joinCommand } from './commands/join.js';
import { modelsCommand } from './commands/models.js';
import { nodesCommand } from './commands/nodes.js';
import { drainCommand, pauseCommand, resumeCommand } from './commands/pause.js';
import { removeCommand } from './commands/remove.js';
import { rotateCommand } from './commands/rotate.js';
import { runCommand } from './commands/run.js';
import { statusCommand } from './commands/status.js';
import { tokenCommand } from './commands/token.js';
import { usageCommand } from './commands/usage.js';
import { type ControlClient, connectControl } from './control-client.js';
import { errorJson } from './json.js';
import { type CliIo, type DaemonCommand, ExitCodes, type LocalCommand, printJson } from './types.js';
import { waitForStartingDaemon } from './wait-daemon.js';

/** Dependencies runCli can be given instead of the real ones (tests). */
export interface CliDeps {
  /** Environment used to find the config and its control.socket (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Opens the control connection (default connectControl). */
  connect?: (socketPath: string) => ControlClient;
  /** Reads all of standard input, for a token given as `-` (default: process.stdin). */
  readStdin?: () => Promise<string>;
}

/** A positional argument of a command, in commander syntax (`<node>`). */
export interface ArgumentSpec {
  name: string;
  description: string;
}

/** An option of one command, in commander syntax (`--since <when>`, `--no-stream`). */
export interface OptionSpec {
  flags: string;
  description: string;
  /** The value when the option is not given (shown by --help). */
  default?: string;
  /** The option may be given more than once; its value is then the list of every value. */
  repeat?: boolean;
}

/** One swarmctl command that asks the local daemon. */
export interface CommandSpec {
  name: string;
  /** The one-line description shown by --help. */
  summary: string;
  /** Positional arguments, passed to run as opts.args. */
  args?: readonly ArgumentSpec[];
  /** The command's own options, passed to run as opts.options. */
  options?: readonly OptionSpec[];
  run: DaemonCommand;
}

/** One swarmctl command that works on the data dir alone, whether or not the daemon runs. */
export interface LocalCommandSpec {
  name: string;
  /** The one-line description shown by --help. */
  summary: string;
  /** Positional arguments, passed to run as opts.args. */
  args?: readonly ArgumentSpec[];
  /** The description of --force, for commands that take it. */
  force?: string;
  run: LocalCommand;
}

/**
 * Every daemon command, in --help order. Commands later issues add go here: jobs.
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
  {
    name: 'chat',
    summary: "send a prompt through this box's OpenAI-compatible gateway and print the reply",
    args: [{ name: '<prompt>', description: 'the user message' }],
    options: [
      { flags: '--model <model>', description: 'model id, alias, tier or auto', default: 'auto' },
      { flags: '--system <text>', description: 'a system message sent before the prompt' },
      {
        flags: '--privacy <level>',
        description: 'local (this box only), lan or cloud (default: routing.defaultPrivacy)',
      },
      {
        flags: '--no-stream',
        description: 'wait for the whole reply instead of printing tokens as they come',
      },
    ],
    run: chatCommand,
  },
  {
    name: 'usage',
    summary: 'show requests, tokens, local share, cloud cost and savings from the usage ledger',
    options: [
      {
        flags: '--since <when>',
        description: 'start of the window: 30m, 24h, 7d back, or a local date (2025-01-31)',
        default: DEFAULT_SINCE,
      },
      { flags: '--by <key>', description: `group by ${USAGE_GROUP_BY.join(', ')}` },
      { flags: '--jsonl', description: "print this node's ledger rows, one JSON object per line" },
      {
        flags: '--swarm',
        description: "add up every reachable member's ledger (each counts what it coordinated)",
      },
    ],
    run: usageCommand,
  },
  {
    name: 'run',
    summary:
      'run a coding job on a repository here: propose, verify, repair, escalate; leaves a branch or patch',
    args: [
      { name: '[task]', description: 'what to do, in words (only ever sent to a model, never to a shell)' },
    ],
    options: [
      { flags: '--repo <dir>', description: 'the repository to work on', default: '.' },
      { flags: '--files <list>', description: 'files to show the model first, comma-separated' },
      {
        flags: '--verify <command>',
        description: 'a verification command, run without a shell (repeat for several); default: detected',
        repeat: true,
      },
      {
        flags: '--tier <tier>',
        description: 'fast, deep or auto (start on the first tier)',
        default: 'auto',
      },
      {
        flags: '--best-of <n>',
        description: 'ask for n proposals in parallel and keep the best passing one',
      },
      { flags: '--privacy <level>', description: 'local, lan or cloud (default: routing.defaultPrivacy)' },
      {
        flags: '--plan <file>',
        description: 'a YAML plan of subtasks with dependsOn, run in parallel where they can',
      },
    ],
    run: runCommand,
  },
  { name: 'jobs', summary: "list this node's coding jobs, newest first", run: jobsCommand },
  {
    name: 'job',
    summary: 'show a coding job: attempts, models, nodes, last failure, and its change',
    args: [{ name: '<id>', description: 'job id (see swarmctl jobs)' }],
    options: [{ flags: '--watch', description: "follow a running job's progress first" }],
    run: jobCommand,
  },
  {
    name: 'cancel',
    summary: 'cancel a running coding job',
    args: [{ name: '<id>', description: 'job id' }],
    run: cancelCommand,
  },
  {
    name: 'apply',
    summary: "write a passing job's change into the working tree (refused if it would overwrite your work)",
    args: [{ name: '<id>', description: 'job id' }],
    run: applyCommand,
  },
  { name: 'doctor', summary: 'run the daemon self-checks and say how to fix what fails', run: doctorCommand },
  {
    name: 'remove',
    summary: 'take a node out of the swarm for good: new credentials for every other member',
    args: [{ name: '<node>', description: 'node id or name (see swarmctl nodes)' }],
    run: removeCommand,
  },
  {
    name: 'rotate',
    summary: 'give every member new swarm credentials, removing nobody',
    run: rotateCommand,
  },
  {
    name: 'pause',
    summary: 'stop taking work on this node (running work may finish within the grace); answers at once',
    options: [
      {
        flags: '--grace <duration>',
        description:
          'how long running work may finish before it is handed back to other nodes (default: shutdown.drainGrace)',
      },
      { flags: '--wait', description: 'answer only once nothing of this node runs any more' },
      {
        flags: '--unload',
        description: "then ask this node's model servers to free their VRAM (waits like --wait)",
      },
    ],
    run: pauseCommand,
  },
  { name: 'resume', summary: 'take work again after swarmctl pause', run: resumeCommand },
  {
    name: 'drain',
    summary: 'pause, wait until running work is done or handed back, then stop swarmd',
    options: [
      {
        flags: '--grace <duration>',
        description:
          'how long running work may finish before it is handed back (default: shutdown.drainGrace)',
      },
    ],
    run: drainCommand,
  },
];

/** The membership commands that need no daemon (a running one picks the change up), in --help order. */
export const LOCAL_COMMANDS: readonly LocalCommandSpec[] = [
  {
    name: 'init',
    summary: 'start a new swarm on this box and print its join token',
    force: 'leave the swarm this box is in and start a new one',
    run: initCommand,
  },
  {
    name: 'join',
    summary: 'make this box a member of the swarm a join token names',
    args: [{ name: '<token>', description: 'the join token, or - to read it from stdin' }],
    force: 'leave the swarm this box is in (or accept an older token) and join this one',
    run: joinCommand,
  },
  { name: 'token', summary: "print the join token of this box's swarm again", run: tokenCommand },
];

// Exit 2: the input or this box's state does not allow the command; the message says what to do.
const USAGE_CODES: readonly ErrorCode[] = [
  ErrorCodes.ARGS_INVALID,
  ErrorCodes.CONFIG_INVALID,
  ErrorCodes.CONFIG_PARSE,
  ErrorCodes.CONFIG_UNREADABLE,
  ErrorCodes.DATA_DIR,
  ErrorCodes.NODE_ID_CORRUPT,
  ErrorCodes.NODE_NOT_FOUND,
  ErrorCodes.SECURITY_TOKEN_INVALID,
  ErrorCodes.SECURITY_TOKEN_STALE,
  ErrorCodes.SECURITY_UNPAIRED,
  ErrorCodes.SECURITY_ALREADY_MEMBER,
  ErrorCodes.SECURITY_CREDENTIALS_CORRUPT,
  ErrorCodes.SECURITY_DATA_DIR_UNSAFE,
  ErrorCodes.JOB_INVALID,
  ErrorCodes.JOB_NOT_FOUND,
];

const DAEMON_GROUP = 'Commands (ask the local swarmd):';
const LOCAL_GROUP = 'Membership (work with or without swarmd running):';

const HELP_FOOTER = `
Exit codes: 0 ok, 1 the daemon answered but something is wrong (remove/rotate: a member
missed the new credentials; chat: the gateway refused or failed the request), 2 usage,
config, token or membership error, 3 swarmd (or its gateway) unreachable. With --json,
output is the documented JSON shape; on error {"error": {"code", "message"}} is printed
instead.`;

type Globals = { socket?: string; json?: boolean; dataDir?: string };

/** Build the commander program; each action stores its exit code in result.exitCode. */
export function buildProgram(io: CliIo, deps: CliDeps, result: { exitCode: number }): Command {
  const program = new Command('swarmctl')
    .description("Ask the local swarmd about its swarm, and manage this box's membership of it.")
    .option(
      '--socket <path>',
      'control socket of the swarmd to ask (default: control.socket from the config, normally <dataDir>/control.sock)',
    )
    .option(
      '--data-dir <dir>',
      "this box's data dir (default: node.dataDir from the config); also sets the default socket",
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
  const readStdin = deps.readStdin ?? (() => readAllStdin(io));
  for (const spec of COMMANDS) {
    const command = program.command(spec.name).description(spec.summary).helpGroup(DAEMON_GROUP);
    for (const arg of spec.args ?? []) command.argument(arg.name, arg.description);
    for (const option of spec.options ?? []) {
      if (option.repeat)
        command.option(option.flags, option.description, (value: string, list: string[] = []) => [
          ...list,
          value,
        ]);
      else command.option(option.flags, option.description, option.default);
    }
    command.action(async (...params: unknown[]) => {
      const self = params.at(-1) as Command;
      const globals = self.optsWithGlobals<Globals>();
      let config: SwarmConfig | undefined;
      const configOnce = () => {
        config ??= configFor(globals, env);
        return config;
      };
      const socket = globals.socket ?? configOnce().control.socket;
      await waitForStartingDaemon(socket, io);
      const client = connect(socket);
      try {
        const opts = {
          json: Boolean(globals.json),
          socket,
          args: self.processedArgs as string[],
          options: self.opts<Record<string, string | boolean | undefined>>(),
          config: configOnce,
        };
        result.exitCode = await spec.run(client, opts, io);
      } finally {
        client.close();
      }
    });
  }
  for (const spec of LOCAL_COMMANDS) {
    const command = program.command(spec.name).description(spec.summary).helpGroup(LOCAL_GROUP);
    for (const arg of spec.args ?? []) command.argument(arg.name, arg.description);
    if (spec.force) command.option('--force', spec.force);
    command.action(async (...params: unknown[]) => {
      const self = params.at(-1) as Command;
      const globals = self.optsWithGlobals<Globals & { force?: boolean }>();
      const dataDir = resolve(globals.dataDir ?? configFor(globals, env).node.dataDir);
      result.exitCode = await spec.run(
        {
          json: Boolean(globals.json),
          dataDir,
          args: self.processedArgs as string[],
          force: Boolean(globals.force),
          readStdin,
        },
        io,
      );
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
    if (err.code === ErrorCodes.CONTROL_UNREACHABLE || err.code === ErrorCodes.GATEWAY_UNREACHABLE) {
      return ExitCodes.UNREACHABLE;
    }
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

/** The config as swarmd would load it, with --data-dir applied like swarmd's own flag. */
function configFor(globals: Globals, env: NodeJS.ProcessEnv) {
  return loadConfig({ argv: globals.dataDir === undefined ? [] : ['--data-dir', globals.dataDir], env });
}

/** All of process.stdin as text; says what it waits for when stdin is a terminal. */
async function readAllStdin(io: CliIo): Promise<string> {
  if (process.stdin.isTTY) io.err('paste the join token, then press Enter and Ctrl-D');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}
