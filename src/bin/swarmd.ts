#!/usr/bin/env node
// swarmd: parse argv → config → run the daemon until SIGTERM/SIGINT.
import { loadConfig, type SwarmConfig } from '../config/load.js';
import { envNameFor, FLAG_ALIASES, OPTION_TYPES } from '../config/options.js';
import { markStarting } from '../control/starting.js';
import { SwarmError } from '../errors.js';
import { SOFTWARE_VERSION } from '../version.js';

function usage(): string {
  const aliases = new Map(Object.entries(FLAG_ALIASES).map(([flag, path]) => [path, flag]));
  const options = Object.entries(OPTION_TYPES).map(([path, type]) => {
    const alias = aliases.get(path as keyof typeof OPTION_TYPES);
    const flag = `--${path}${alias ? `, --${alias}` : ''} <${type}>`;
    return `  ${flag.padEnd(58)} ${envNameFor(path)}`;
  });
  return [
    `swarmd ${SOFTWARE_VERSION}: one daemon per box; finds its peers and serves the swarm`,
    '',
    'Usage:',
    '  swarmd [--config FILE] [options]   run the daemon in the foreground',
    '  swarmd default-config              print the default config file',
    '  swarmd print-config [options]      print the effective config (file + environment + flags)',
    '',
    'Every option can be set in the config file, by environment variable or by flag',
    '(durations: 500ms, 30s, 2m; lists: repeat the flag or separate with commas):',
    ...options,
    '  --no-mdns                                                  turn mDNS off',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${SOFTWARE_VERSION}\n`);
    return 0;
  }
  if (first === 'default-config') {
    const { defaultConfigYaml } = await import('../config/default-file.js');
    process.stdout.write(defaultConfigYaml());
    return 0;
  }
  if (first === 'print-config') {
    process.stdout.write(`${JSON.stringify(loadConfig({ argv: rest }), null, 2)}\n`);
    return 0;
  }
  const config = loadConfig({ argv });
  // Said before the daemon's modules load: a swarmctl run meanwhile waits for the socket.
  const unmarkStarting = await markStarting(config.control.socket);
  try {
    await run(config);
  } finally {
    await unmarkStarting();
  }
  return -1; // keep running
}

/** Build the daemon, stop it on SIGTERM/SIGINT, and start it. */
async function run(config: SwarmConfig): Promise<void> {
  // Loaded only now, after the marker: together they take about a second.
  const [{ Daemon }, { createLogger }, { routeGrpcLogs }] = await Promise.all([
    import('../daemon.js'),
    import('../util/logger.js'),
    import('../rpc/grpc-log.js'),
  ]);
  const logger = createLogger(config.log.level);
  routeGrpcLogs(logger);
  const daemon = new Daemon(config, { logger });

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    logger.info({ signal }, 'shutting down (send again to exit at once)');
    daemon.stop().catch((err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  // A signal or `swarmctl drain` stopped the daemon.
  void daemon.stopped.then(() => {
    process.exitCode = 0;
    // Timers of libraries (mDNS sockets) may linger; the daemon is done.
    setTimeout(() => process.exit(), 200).unref();
  });
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await daemon.start();
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof SwarmError) {
      process.stderr.write(`swarmd: ${err.message} [${err.code}]\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`swarmd: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
    // Anything half-started was stopped by Daemon.start(); leave nothing hanging.
    setTimeout(() => process.exit(), 500).unref();
  },
);
