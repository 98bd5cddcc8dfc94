// What init and join need besides the security store: the swarm this box is in before the change
// (to say what changed), and the token argument, which may come from stdin so it stays out of
// shell history and `ps`.
import { ErrorCodes, hasCode } from '../errors.js';
import { swarmFingerprint } from '../security/proof.js';
import { readToken } from '../security/store.js';
import { decodeToken } from '../security/token.js';

/** The swarm a box is in, as people see it. */
export interface SwarmSummary {
  swarmId: string;
  epoch: number;
  fingerprint: string;
}

/** The swarm this data dir holds credentials for, or null when it is unpaired. */
export async function currentSwarm(dataDir: string): Promise<SwarmSummary | null> {
  let token: string;
  try {
    token = await readToken(dataDir);
  } catch (err) {
    if (hasCode(err, ErrorCodes.SECURITY_UNPAIRED)) return null;
    throw err;
  }
  const secret = decodeToken(token);
  return { swarmId: secret.swarmId, epoch: secret.epoch, fingerprint: swarmFingerprint(secret.certPem) };
}

/** The token a command was given: the argument itself, or all of stdin when the argument is `-`. */
export async function tokenArgument(arg: string, readStdin: () => Promise<string>): Promise<string> {
  return arg === '-' ? readStdin() : arg;
}
