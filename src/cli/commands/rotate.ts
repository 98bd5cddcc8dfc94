// `swarmctl rotate`: new swarm credentials without removing anyone (e.g. after a token leaked).
// The daemon hands them to every live member; offline members must re-join.
import { nodeNames, printRekey } from '../rekey.js';
import type { DaemonCommand } from '../types.js';

/** Rotate the swarm credentials; print who took them and who must re-join. */
export const rotateCommand: DaemonCommand = async (client, opts, io) => {
  const names = opts.json ? new Map<string, string>() : await nodeNames(client);
  return printRekey(await client.rotate(), names, opts, io);
};
