// Checks for `swarmctl doctor`: conditions under which mDNS fails silently. bonjour-service
// swallows send errors (DESIGN §5), so a box with no multicast route says "up" and no
// peer ever sees it; these checks find that out without sending anything.
import dgram from 'node:dgram';
import { readdir, readFile, readlink } from 'node:fs/promises';
import os from 'node:os';
import { errorMessage } from '../errors.js';
import { usableAddresses } from './addresses.js';

/** Outcome of one doctor check: `detail` says what was found and, when not ok, what to do. */
export interface CheckResult {
  ok: boolean;
  detail: string;
}

/** The mDNS group and port (RFC 6762). */
export const MDNS_GROUP = '224.0.0.251';
export const MDNS_PORT = 5353;

/**
 * Whether multicast to 224.0.0.251 can leave this box. With `interface` (an address of this
 * box, as in discovery.mdns.interface) packets leave by that interface and no route is needed.
 */
export async function checkMulticastRoute(opts: { interface?: string } = {}): Promise<CheckResult> {
  if (opts.interface) {
    const owned = Object.values(os.networkInterfaces()).some((infos) =>
      (infos ?? []).some((info) => info.address === opts.interface),
    );
    return owned
      ? { ok: true, detail: `multicast leaves by the configured interface address ${opts.interface}` }
      : {
          ok: false,
          detail: `discovery.mdns.interface is ${opts.interface}, which no interface of this box has`,
        };
  }
  if (process.platform !== 'linux') {
    return { ok: true, detail: `not checked on ${process.platform} (the check reads Linux routes)` };
  }
  const viaIp = await routeFromIp();
  const found = viaIp ?? (await routeFromProc());
  if (found.ok) return found;
  const iface = usableAddresses({ includeVirtual: false }).find((a) => a.family === 4)?.iface ?? '<iface>';
  return {
    ok: false,
    detail:
      `no route to ${MDNS_GROUP} (multicast)${found.detail ? ` (${found.detail})` : ''}: ` +
      `add one with \`ip route add 224.0.0.0/4 dev ${iface}\` or give the interface a default route ` +
      `(or set discovery.mdns.interface to this box's LAN address)`,
  };
}

// `ip route get` asks the kernel itself, policy rules and the local table included.
// Returns null when `ip` cannot be run, so the caller falls back to /proc/net/route.
async function routeFromIp(): Promise<CheckResult | null> {
  const { execa } = await import('execa'); // loaded when doctor runs, not when the daemon starts
  const result = await execa('ip', ['route', 'get', MDNS_GROUP], { reject: false, timeout: 3000 });
  if (result.exitCode === undefined) return null;
  if (result.exitCode === 0) {
    const dev = /\bdev (\S+)/.exec(result.stdout)?.[1] ?? 'an interface';
    return { ok: true, detail: `multicast to ${MDNS_GROUP} leaves by ${dev}` };
  }
  return { ok: false, detail: result.stderr.trim() || `ip route get exited with ${result.exitCode}` };
}

// /proc/net/route lists the main table as little-endian hex destination/mask pairs.
async function routeFromProc(): Promise<CheckResult> {
  let text: string;
  try {
    text = await readFile('/proc/net/route', 'utf8');
  } catch (err) {
    return { ok: false, detail: `cannot read /proc/net/route: ${errorMessage(err)}` };
  }
  const target = 0xfb0000e0; // 224.0.0.251 in the little-endian order the file uses
  const RTF_UP = 0x1;
  for (const line of text.split('\n').slice(1)) {
    const [iface, dest, , flags, , , , mask] = line.trim().split(/\s+/);
    if (!iface || !dest || !flags || !mask) continue;
    const d = Number.parseInt(dest, 16);
    const m = Number.parseInt(mask, 16);
    if ((Number.parseInt(flags, 16) & RTF_UP) === 0) continue;
    if ((d & m) >>> 0 === (target & m) >>> 0) return { ok: true, detail: `multicast leaves by ${iface}` };
  }
  return { ok: false, detail: '' };
}

/**
 * Whether swarmd can bind UDP 5353 in address-reuse mode (as multicast-dns does), and who
 * else holds it (avahi-daemon, another mDNS responder): informational, sharing is normal.
 */
export async function checkMdnsPort(opts: { bind?: string } = {}): Promise<CheckResult> {
  const bindError = await tryBind(opts.bind);
  const holders = await portHolders(MDNS_PORT);
  const others = holders.length > 0 ? `; also held by ${holders.join(', ')}` : '';
  if (!bindError) return { ok: true, detail: `UDP ${MDNS_PORT} can be bound with address reuse${others}` };
  const code = (bindError as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return {
      ok: false,
      detail:
        `UDP ${MDNS_PORT} is held without address reuse${others || ' by another program'}: ` +
        'stop that program or let it share the port, or turn mDNS off (discovery.mdns.enabled=false) and list peers',
    };
  }
  return { ok: false, detail: `cannot bind UDP ${MDNS_PORT}: ${errorMessage(bindError)}` };
}

// Bind and close at once: no group is joined and nothing is sent.
function tryBind(address: string | undefined): Promise<Error | null> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    socket.once('error', (err) => {
      try {
        socket.close();
      } catch {
        // a socket whose bind failed may already count as closed
      }
      resolve(err);
    });
    socket.bind(MDNS_PORT, address, () => socket.close(() => resolve(null)));
  });
}

// Map the socket inodes bound to `port` (from /proc/net/udp{,6}) to "name (pid N)".
async function portHolders(port: number): Promise<string[]> {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      const inode = cols[9];
      if (local && inode && Number.parseInt(local.split(':')[1] ?? '', 16) === port) inodes.add(inode);
    }
  }
  if (inodes.size === 0) return [];
  const holders = new Set<string>();
  const pids = (await readdir('/proc').catch(() => [])).filter((name) => /^[0-9]+$/.test(name));
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[([0-9]+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) {
        const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
        holders.add(`${comm} (pid ${pid})`);
      }
    }
  }
  // Sockets whose owner we may not see (other users' processes when not root).
  return holders.size > 0 ? [...holders] : [`${inodes.size} socket(s) of unknown owner`];
}
