// mDNS probing (RFC 6762 §8.1) done by us rather than by bonjour-service: on a conflict
// bonjour stops the newcomer by sending a goodbye for the name, which every browser takes
// as the *original* owner leaving (DESIGN §5). Probing before we publish anything means a
// conflict costs the newcomer only, and we learn about it instead of a console.log.
import type { MdnsPacket, MdnsRecord, MdnsSocket } from './mdns-socket.js';

/** Probe timing: RFC 6762 sends 3 probes 250 ms apart after a random 0-250 ms wait. */
export interface ProbeTiming {
  probes: number;
  intervalMs: number;
}

const RFC_TIMING: ProbeTiming = { probes: 3, intervalMs: 250 };

/** Resolve true when another responder answers for `fqdn` while we probe for it. */
export function nameInUse(
  mdns: MdnsSocket,
  fqdn: string,
  opts: { signal?: AbortSignal; timing?: ProbeTiming } = {},
): Promise<boolean> {
  const { probes, intervalMs } = opts.timing ?? RFC_TIMING;
  const wanted = fqdn.toLowerCase();
  return new Promise<boolean>((resolve, reject) => {
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (inUse: boolean | Error): void => {
      clearTimeout(timer);
      mdns.removeListener('response', onResponse);
      opts.signal?.removeEventListener('abort', onAbort);
      if (inUse instanceof Error) reject(inUse);
      else resolve(inUse);
    };
    // A goodbye (ttl 0) for the name is someone leaving it, not holding it.
    const holds = (rr: MdnsRecord): boolean => rr.name.toLowerCase() === wanted && rr.ttl !== 0;
    const onResponse = (packet: MdnsPacket): void => {
      if (packet.answers?.some(holds) || packet.additionals?.some(holds)) finish(true);
    };
    const onAbort = (): void => finish(opts.signal?.reason ?? new Error('aborted'));
    const probe = (): void => {
      if (sent === probes) {
        finish(false);
        return;
      }
      sent += 1;
      // Send errors are recorded by the socket's watcher; the probe just carries on.
      mdns.query(fqdn, 'ANY', () => undefined);
      timer = setTimeout(probe, intervalMs);
    };
    if (opts.signal?.aborted) {
      onAbort();
      return;
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    mdns.on('response', onResponse);
    timer = setTimeout(probe, Math.random() * intervalMs);
  });
}
