// `swarmctl remove <node>`: take a node out of the swarm for good. The daemon makes new swarm
// credentials and hands them to every live member but that node; offline members must re-join.
import { ErrorCodes, SwarmError } from '../../errors.js';
import { nodeNames, printRekey } from '../rekey.js';
import type { DaemonCommand } from '../types.js';

/** Remove the node (id or name); print who took the new credentials and who must re-join. */
export const removeCommand: DaemonCommand = async (client, opts, io) => {
  const node = (opts.args[0] ?? '').trim();
  if (node === '') {
    throw new SwarmError(ErrorCodes.ARGS_INVALID, 'remove needs a node id or name (see `swarmctl nodes`)');
  }
  const names = opts.json ? new Map<string, string>() : await nodeNames(client);
  return printRekey(await client.removeNode(node), names, opts, io);
};
