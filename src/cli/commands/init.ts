// `swarmctl init`: start a new swarm on this box. Works on the data dir alone (no daemon needed);
// prints the join token alone on stdout so `TOKEN=$(swarmctl init)` just works.
import { loadOrCreateNodeId } from '../../node/identity.js';
import { swarmLabel } from '../../security/names.js';
import { initSwarm } from '../../security/store.js';
import { credentialsPath } from '../../security/store-file.js';
import { initJson } from '../json.js';
import { currentSwarm } from '../membership.js';
import { ExitCodes, type LocalCommand, printJson } from '../types.js';

/** Create the swarm's CA and this node's certificate; print the token (or InitJson). */
export const initCommand: LocalCommand = async (opts, io) => {
  const nodeId = await loadOrCreateNodeId(opts.dataDir);
  // Only to say which swarm --force leaves; initSwarm itself decides and refuses.
  const before = opts.force ? await currentSwarm(opts.dataDir).catch(() => null) : null;
  const { token, credentials } = await initSwarm(opts.dataDir, nodeId, { force: opts.force });
  if (opts.json) {
    printJson(io, initJson(token, credentials));
    return ExitCodes.OK;
  }
  io.out(token);
  if (before) io.err(`left ${swarmLabel(before)}`);
  io.err(`${swarmLabel(credentials)} created in ${credentialsPath(opts.dataDir)}`);
  io.err(
    'on every other box run: swarmctl join <token>  (the token is the line above; keep it secret: it lets a box join)',
  );
  io.err('a running swarmd picks this up by itself; `swarmctl token` prints the token again');
  return ExitCodes.OK;
};
