// `swarmctl join <token>`: become a member of the swarm the token names. Works on the data dir alone
// (no daemon needed); `-` reads the token from stdin so it never lands in shell history.
import { loadOrCreateNodeId } from '../../node/identity.js';
import { swarmLabel } from '../../security/names.js';
import { joinSwarm } from '../../security/store.js';
import { decodeToken } from '../../security/token.js';
import { joinJson } from '../json.js';
import { currentSwarm, tokenArgument } from '../membership.js';
import { ExitCodes, type LocalCommand, printJson } from '../types.js';

/** Join (or catch up with) the token's swarm; print what changed (or JoinJson). */
export const joinCommand: LocalCommand = async (opts, io) => {
  const token = await tokenArgument(opts.args[0] ?? '', opts.readStdin);
  // A bad token is refused before anything is written (not even a node id).
  decodeToken(token);
  const nodeId = await loadOrCreateNodeId(opts.dataDir);
  // Only to say what changed; joinSwarm itself decides and refuses.
  const before = await currentSwarm(opts.dataDir).catch(() => null);
  const credentials = await joinSwarm(opts.dataDir, nodeId, token, { force: opts.force });
  if (opts.json) {
    printJson(io, joinJson(credentials));
    return ExitCodes.OK;
  }
  if (before?.swarmId === credentials.swarmId && before.fingerprint === credentials.fingerprint) {
    io.out(`already a member of ${swarmLabel(credentials)}: nothing to change`);
    return ExitCodes.OK;
  }
  if (before?.swarmId === credentials.swarmId) {
    io.out(
      `updated to the current credentials of ${swarmLabel(credentials)} (this box had epoch ${before.epoch})`,
    );
  } else {
    if (before) io.out(`left ${swarmLabel(before)}`);
    io.out(`joined ${swarmLabel(credentials)}`);
  }
  io.out('a running swarmd picks this up by itself (no restart needed); `swarmctl nodes` shows the swarm');
  return ExitCodes.OK;
};
