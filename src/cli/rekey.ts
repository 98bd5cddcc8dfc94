// What `swarmctl remove` and `swarmctl rotate` share: node names for the report, and printing it.
import type { RekeyReport } from '../rpc/wire.js';
import type { ControlClient } from './control-client.js';
import { rekeyJson } from './json.js';
import { renderRekey } from './render.js';
import { type CliIo, type CommandOptions, ExitCodes, printJson } from './types.js';

/**
 * Node id → name from the daemon's peer table, read before the change (a removed node may leave
 * the table). Best effort: without it the report shows ids only.
 */
export async function nodeNames(client: ControlClient): Promise<Map<string, string>> {
  try {
    const reply = await client.listNodes();
    const names = new Map<string, string>();
    for (const view of reply.nodes ?? []) {
      if (view.node?.id && view.node.name) names.set(view.node.id, view.node.name);
    }
    return names;
  } catch {
    return new Map();
  }
}

/** Print the report (or RekeyJson); exit 1 when a member missed the new credentials. */
export function printRekey(
  reply: RekeyReport,
  names: ReadonlyMap<string, string>,
  opts: CommandOptions,
  io: CliIo,
): number {
  const data = rekeyJson(reply);
  if (opts.json) printJson(io, data);
  else io.out(renderRekey(data, names));
  return data.missed.length > 0 ? ExitCodes.FAILED : ExitCodes.OK;
}
