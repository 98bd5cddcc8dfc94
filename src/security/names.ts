// How a certificate names its swarm and node, and how people see a swarm named. Pure: no I/O, so the
// formats are tested on their own.

/** A node id: 16 lowercase hex characters. */
export const NODE_ID_RE = /^[0-9a-f]{16}$/;

/** A swarm id: 16 lowercase hex characters, made once by `swarmctl init`. */
export const SWARM_ID_RE = /^[0-9a-f]{16}$/;

const URI_PREFIX = 'swarmd://';
const NODE_URI_RE = /^swarmd:\/\/([0-9a-f]{16})\/node\/([0-9a-f]{16})$/;
const CA_URI_RE = /^swarmd:\/\/([0-9a-f]{16})\/ca$/;

/** The SAN URI of a node certificate; it names the node, never an IP, so DHCP changes don't matter. */
export function nodeUri(swarmId: string, nodeId: string): string {
  return `${URI_PREFIX}${swarmId}/node/${nodeId}`;
}

/** The SAN URI of a swarm CA certificate. */
export function caUri(swarmId: string): string {
  return `${URI_PREFIX}${swarmId}/ca`;
}

/** The SAN DNS name of a node certificate, which grpc's hostname check can match. */
export function nodeDnsName(nodeId: string): string {
  return `${nodeId}.swarmd`;
}

/** Parse a SAN URI into swarm and node ids (node is null for the CA's URI); null if it is not ours. */
export function parseSwarmUri(uri: string): { swarmId: string; nodeId: string | null } | null {
  const node = NODE_URI_RE.exec(uri);
  if (node) return { swarmId: node[1]!, nodeId: node[2]! };
  const ca = CA_URI_RE.exec(uri);
  if (ca) return { swarmId: ca[1]!, nodeId: null };
  return null;
}

/** What is known of a swarm where it is shown; epoch and fingerprint are left out when unknown. */
export interface SwarmNaming {
  swarmId: string;
  epoch?: number | null;
  fingerprint?: string | null;
}

/**
 * A swarm as swarmctl, doctor and error messages print it, always by its id, which never changes:
 * `swarm 9c1e5a0b2d3f4e6a (epoch 2, fingerprint 3fa2c1d0)`. Epoch and CA fingerprint change with
 * every rotate/remove, so they come after it, and only where known.
 */
export function swarmLabel(swarm: SwarmNaming): string {
  const details: string[] = [];
  if (typeof swarm.epoch === 'number') details.push(`epoch ${swarm.epoch}`);
  if (swarm.fingerprint) details.push(`fingerprint ${swarm.fingerprint}`);
  return details.length > 0 ? `swarm ${swarm.swarmId} (${details.join(', ')})` : `swarm ${swarm.swarmId}`;
}
