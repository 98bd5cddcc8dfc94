// `swarmctl status`: this node as its daemon sees it.
import { statusJson } from '../json.js';
import { renderStatus } from '../render.js';
import { type DaemonCommand, ExitCodes, printJson } from '../types.js';

/** Print this node's status block (or StatusJson). */
export const statusCommand: DaemonCommand = async (client, opts, io) => {
  const data = statusJson(await client.status());
  if (opts.json) printJson(io, data);
  else io.out(renderStatus(data));
  return ExitCodes.OK;
};
