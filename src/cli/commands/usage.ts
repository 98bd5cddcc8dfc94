// `swarmctl usage`: requests, tokens, local share, cloud cost and savings from the usage ledger
// of this node (each node counts what it coordinated) or, with --swarm, every member's added up.
// --jsonl streams this node's raw rows instead.
import { ErrorCodes, SwarmError } from '../../errors.js';
import { DEFAULT_SINCE, parseGroupBy, parseSince } from '../../usage/args.js';
import { renderUsage, usageJson } from '../../usage/render.js';
import type { UsageSummary } from '../../usage/summary.js';
import { parseUsageJson } from '../../usage/summary-json.js';
import { type CommandOptions, type DaemonCommand, ExitCodes, printJson } from '../types.js';

/** Print the usage summary (or UsageJson), or with --jsonl every row of the window, one per line. */
export const usageCommand: DaemonCommand = async (client, opts, io) => {
  const sinceMs = parseSince(option(opts, 'since') ?? DEFAULT_SINCE, Date.now());
  const byText = option(opts, 'by');
  const by = byText === undefined ? null : parseGroupBy(byText);
  const swarm = opts.options['swarm'] === true;
  if (opts.options['jsonl'] === true) {
    if (swarm || by !== null || opts.json) {
      throw new SwarmError(
        ErrorCodes.ARGS_INVALID,
        "--jsonl prints this node's raw rows: it does not go with --swarm, --by or --json",
      );
    }
    for await (const line of client.usageRows({ sinceMs })) io.out(line.replace(/\n$/, ''));
    return ExitCodes.OK;
  }
  const reply = await client.usage({ sinceMs, by: by ?? '', swarm });
  const summary = readSummary(reply.json, client.socketPath);
  if (opts.json) printJson(io, usageJson(summary));
  else io.out(renderUsage(summary));
  return ExitCodes.OK;
};

function readSummary(json: string, socket: string): UsageSummary {
  try {
    return parseUsageJson(json);
  } catch (err) {
    throw new SwarmError(
      ErrorCodes.CONTROL_FAILED,
      `swarmd on ${socket} sent a usage summary swarmctl cannot read (${(err as Error).message}): swarmctl and swarmd are different versions?`,
      { cause: err },
    );
  }
}

function option(opts: CommandOptions, name: string): string | undefined {
  const value = opts.options[name];
  return typeof value === 'string' ? value : undefined;
}
