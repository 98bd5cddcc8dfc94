// Which of this box's addresses peers can dial, for the endpoints we advertise.
import os from 'node:os';

export { type Endpoint, formatEndpoint, parseEndpoint } from './endpoint.js';

/** One address of this box that a peer on the LAN can dial. */
export interface UsableAddress {
  address: string;
  family: 4 | 6;
  iface: string;
}

/**
 * Interfaces that container and VM managers create, whose addresses no peer can reach.
 * The rule matches the names those tools generate, not the prefix alone, so that an
 * interface a person named (a plain `veth0`, as in our test LAN, or a `br-lan` bridge)
 * is kept:
 * - `docker0`, `docker_gwbridge`: Docker's bridges
 * - `br-<hex>`: Docker user-defined networks (`br-` + 12 hex digits of the network id)
 * - `veth<7+ hex>`: the host end of a container's veth pair (Docker: 7 hex, CNI: 8)
 * - `virbr<n>`, `virbr<n>-nic`: libvirt; `vmnet<n>`: VMware; `podman<n>`: Podman
 * - `cni<n>`, `cni-…`, `flannel.<n>`, `flannel…`: Kubernetes CNI plugins
 */
const VIRTUAL_IFACE_RE =
  /^(?:docker[0-9]*|docker_gwbridge|br-[0-9a-f]+|veth[0-9a-f]{7,}|virbr[0-9]+(?:-nic)?|vmnet[0-9]+|podman[0-9]+|cni[0-9]*|cni-.*|flannel.*)$/i;

/** True when the interface name is one a container or VM manager generated (see the rule above). */
export function isVirtualInterface(name: string): boolean {
  return VIRTUAL_IFACE_RE.test(name);
}

/**
 * This box's dialable addresses: IPv4 first (any peer can dial them), then IPv6, each in
 * interface order. Link-local IPv6 is left out (it needs a scope id only we know);
 * loopback only when nothing else exists, so a lone box still advertises something.
 */
export function usableAddresses(opts: {
  includeVirtual: boolean;
  interfaces?: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}): UsableAddress[] {
  const table = opts.interfaces ?? os.networkInterfaces();
  const external: UsableAddress[] = [];
  const loopback: UsableAddress[] = [];
  const seen = new Set<string>();
  for (const [iface, infos] of Object.entries(table)) {
    if (!infos) continue;
    if (!opts.includeVirtual && isVirtualInterface(iface)) continue;
    for (const info of infos) {
      const family = familyOf(info.family);
      if (family === null || seen.has(info.address)) continue;
      if (family === 6 && (isLinkLocal6(info.address) || (info.scopeid ?? 0) !== 0)) continue;
      seen.add(info.address);
      (info.internal ? loopback : external).push({ address: info.address, family, iface });
    }
  }
  const chosen = external.length > 0 ? external : loopback;
  return [...chosen.filter((a) => a.family === 4), ...chosen.filter((a) => a.family === 6)];
}

// Node 18.0-18.3 reported the family as a number; later versions as 'IPv4' / 'IPv6'.
function familyOf(family: string | number): 4 | 6 | null {
  if (family === 'IPv4' || family === 4) return 4;
  if (family === 'IPv6' || family === 6) return 6;
  return null;
}

// fe80::/10
function isLinkLocal6(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}
