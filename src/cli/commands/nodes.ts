// `swarmctl nodes`: the peer table, this node included.
import { nodesJson } from '../json.js';
import { renderNodes } from '../render.js';
import { type DaemonCommand, ExitCodes, printJson } from '../types.js';

/** Print the nodes table (or NodesJson). */
export const nodesCommand: DaemonCommand = async (client, opts, io) => {
  const data = nodesJson(await client.listNodes());
  if (opts.json) printJson(io, data);
  else io.out(renderNodes(data));
  return ExitCodes.OK;
};
