// `swarmctl rotate` and `swarmctl remove`: a new CA for the same swarm, one epoch later. Members that
// receive it over the authenticated channel switch; a removed node never does, so it is locked out.
import { createSwarmCa } from './ca.js';
import type { SwarmSecret } from './token.js';

/** Make the next generation of swarm credentials (same swarm id, new CA key, epoch + 1). */
export async function nextSecret(current: Pick<SwarmSecret, 'swarmId' | 'epoch'>): Promise<SwarmSecret> {
  const ca = await createSwarmCa(current.swarmId);
  return { ...ca, epoch: current.epoch + 1 };
}
