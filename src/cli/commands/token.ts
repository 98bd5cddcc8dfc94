// `swarmctl token`: print this box's join token again, alone on one line. Works on the data dir
// alone (no daemon needed); any member can hand the token on.
import { readToken } from '../../security/store.js';
import type { TokenJson } from '../json.js';
import { ExitCodes, type LocalCommand, printJson } from '../types.js';

/** Print the join token of the swarm this box is in (or TokenJson). */
export const tokenCommand: LocalCommand = async (opts, io) => {
  const token = await readToken(opts.dataDir);
  if (opts.json) printJson(io, { token } satisfies TokenJson);
  else io.out(token);
  return ExitCodes.OK;
};
