// Change the TXT of a published bonjour-service Service in place, as RFC 6762 §8.4 asks
// (DESIGN §5): no goodbye and no new probe, an unsolicited response carrying the new TXT with
// the cache-flush bit (sent twice about a second apart by the caller), and later queries
// answered with it. bonjour-service 1.4 has no API for this, so, like mdns-socket.ts, this
// reaches into its internals: the records its Server registered to answer queries, which are
// also the ones its own re-announcements (1 s, 3 s, 9 s… after publish) send.
import type { Bonjour, Service } from 'bonjour-service';

/** A resource record as bonjour-service and multicast-dns hold it. */
export interface ServiceRecord {
  name: string;
  type: string;
  ttl: number;
  data: unknown;
  /** The cache-flush bit: this record replaces every other of its name and type (RFC 6762 §10.2). */
  flush?: boolean;
}

/**
 * Put `txt` in the service and in the records that answer queries; returns the announcement to
 * send: every record of the service (a bonjour-service browser, the previous release's included,
 * only reads a TXT that arrives with its PTR and SRV), the TXT one with the cache-flush bit.
 */
export function replaceTxt(bonjour: Bonjour, service: Service, txt: Record<string, string>): ServiceRecord[] {
  // The goodbye (Service.stop) rebuilds the records from service.txt: it must name the new TXT.
  service.txt = txt;
  const records = service.records() as ServiceRecord[];
  const fresh = records.find((record) => record.type === 'TXT');
  const registered = registryOf(bonjour)['TXT']?.filter((record) => record.name === service.fqdn) ?? [];
  if (!fresh || registered.length === 0) {
    throw new Error(`bonjour-service internals changed: no registered TXT record for ${service.fqdn}`);
  }
  for (const record of registered) {
    record.data = fresh.data;
    record.flush = true;
  }
  fresh.flush = true;
  return records;
}

// Server.registry of bonjour-service 1.4: record type → records it answers queries with.
function registryOf(bonjour: Bonjour): Record<string, ServiceRecord[] | undefined> {
  const server = (bonjour as unknown as { server?: { registry?: unknown } }).server;
  const registry = server?.registry;
  if (typeof registry !== 'object' || registry === null) {
    throw new Error('bonjour-service internals changed: Bonjour.server.registry not found');
  }
  return registry as Record<string, ServiceRecord[] | undefined>;
}
