// avahi, the mDNS stack Linux desktops use, inside one host of a test LAN, as an independent
// browser of swarmd's adverts (../shared/testlan/AVAHI.md): a private D-Bus system bus (the
// machine's own is never touched) and avahi-daemon in the namespace. avahi keeps its pid file in
// /run/avahi-daemon, which is global to the machine, so only one of these may run at a time
// (test/e2e runs its files one after another). Everything started here is ended by PID.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestLan } from './testlan.js';

const RUN_DIR = '/run/avahi-daemon';
const SERVICE = '_llmswarm._tcp';
const START_TIMEOUT_MS = 10_000;

/** One service avahi-browse resolved. */
export interface ResolvedService {
  name: string;
  host: string;
  address: string;
  port: number;
  /** TXT strings split at the first "=", in the order swarmd wrote them. */
  txt: Record<string, string>;
}

/** A line of a long-running `avahi-browse -p`, with the time it was read. */
export interface BrowseLine {
  /** `+` new, `-` removed, `=` resolved. */
  kind: string;
  name: string;
  at: number;
}

/** A running avahi inside the LAN. */
export interface Avahi {
  /** One `avahi-browse -r -p -t`: the services resolved now. */
  resolve(): Promise<ResolvedService[]>;
  /** Start a long-running `avahi-browse -p`; its lines are collected as they come. */
  watch(): {
    lines: BrowseLine[];
    waitFor: (match: (line: BrowseLine) => boolean, ms: number) => Promise<BrowseLine>;
  };
  /** End the browsers, avahi-daemon and the bus (by PID) and remove their files. Safe to call twice. */
  stop(): Promise<void>;
}

/** Why avahi cannot run here, or null when it can. */
export function avahiUnavailableReason(): string | null {
  for (const [command, pkg] of [
    ['avahi-daemon', 'avahi-daemon'],
    ['avahi-browse', 'avahi-utils'],
    ['dbus-daemon', 'dbus'],
  ] as const) {
    const found = spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    if (found.status !== 0) return `${command} is missing: install ${pkg} (.ci/run does)`;
  }
  const pid = existsSync(join(RUN_DIR, 'pid')) ? Number(readFileSync(join(RUN_DIR, 'pid'), 'utf8')) : 0;
  if (pid > 0 && existsSync(`/proc/${pid}`)) {
    return `another avahi-daemon (pid ${pid}) holds ${RUN_DIR}: these tests need it to themselves`;
  }
  return null;
}

/** Start a private bus and avahi-daemon in host `host` of the LAN; resolves once avahi is up. */
export async function startAvahi(lan: TestLan, host: number): Promise<Avahi> {
  const reason = avahiUnavailableReason();
  if (reason) throw new Error(`avahi test cannot run: ${reason}`);
  const dir = await mkdtemp(join(tmpdir(), 'swarmd-avahi-'));
  const socket = join(dir, 'bus.sock');
  const children = new Set<ChildProcess>();
  const env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${socket}` };
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Browsers first, then avahi (it leaves the bus), then the bus.
    for (const child of [...children].reverse()) await end(child);
    await rm(dir, { recursive: true, force: true });
    await rm(RUN_DIR, { recursive: true, force: true });
  };

  try {
    await writeFile(join(dir, 'bus.conf'), busConfig(socket));
    await writeFile(join(dir, 'avahi.conf'), avahiConfig(`swarmd-test-${randomBytes(3).toString('hex')}`));
    const bus = spawn(
      'dbus-daemon',
      ['--config-file', join(dir, 'bus.conf'), '--nofork', '--print-address'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.add(bus);
    await untilLine(bus, (line) => line.startsWith('unix:'), 'dbus-daemon printed its address');
    const daemon = lan.exec(
      host,
      'avahi-daemon',
      ['-f', join(dir, 'avahi.conf'), '--no-drop-root', '--no-chroot', '--no-rlimits', '--no-proc-title'],
      { env },
    );
    children.add(daemon);
    await untilLine(daemon, (line) => line.includes('Server startup complete'), 'avahi-daemon started');
  } catch (err) {
    await stop();
    throw err;
  }

  const browse = (args: string[]): ChildProcess => {
    const child = lan.exec(host, 'avahi-browse', [...args, SERVICE], { env });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  return {
    async resolve() {
      const child = browse(['-r', '-p', '-t']);
      const lines: string[] = [];
      createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
      await new Promise((resolve) => child.once('exit', resolve));
      return lines.filter((line) => line.startsWith('=;')).map(parseResolved);
    },
    watch() {
      const child = browse(['-p']);
      const lines: BrowseLine[] = [];
      const waiters = new Set<() => void>();
      createInterface({ input: child.stdout! }).on('line', (text) => {
        const fields = text.split(';');
        lines.push({ kind: fields[0] ?? '', name: unescapeAvahi(fields[3] ?? ''), at: Date.now() });
        for (const waiter of waiters) waiter();
      });
      const waitFor = (match: (line: BrowseLine) => boolean, ms: number): Promise<BrowseLine> =>
        new Promise((resolve, reject) => {
          const check = (): void => {
            const found = lines.find(match);
            if (!found) return;
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          };
          const timer = setTimeout(() => {
            waiters.delete(check);
            reject(new Error(`avahi-browse printed no such line within ${ms} ms: ${JSON.stringify(lines)}`));
          }, ms);
          waiters.add(check);
          check();
        });
      return { lines, waitFor };
    },
    stop,
  };
}

// `=;iface;proto;name;type;domain;host;address;port;"k=v" "k=v"` (avahi escapes as \DDD).
function parseResolved(line: string): ResolvedService {
  const fields = line.split(';');
  const txt: Record<string, string> = {};
  // avahi lists the strings last first.
  const strings = [
    ...(fields
      .slice(9)
      .join(';')
      .matchAll(/"((?:[^"\\]|\\.)*)"/g) ?? []),
  ].map((m) => unescapeAvahi(m[1] ?? ''));
  for (const text of strings.reverse()) {
    const eq = text.indexOf('=');
    if (eq > 0) txt[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return {
    name: unescapeAvahi(fields[3] ?? ''),
    host: fields[6] ?? '',
    address: fields[7] ?? '',
    port: Number(fields[8]),
    txt,
  };
}

function unescapeAvahi(text: string): string {
  return text.replace(/\\(\d{3}|.)/g, (_, code: string) =>
    code.length === 3 ? String.fromCharCode(Number(code)) : code,
  );
}

function untilLine(child: ChildProcess, match: (line: string) => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting until ${what}: ${seen}`)),
      START_TIMEOUT_MS,
    );
    const onLine = (line: string): void => {
      seen += `${line}\n`;
      if (!match(line)) return;
      clearTimeout(timer);
      resolve();
    };
    for (const stream of [child.stdout, child.stderr])
      if (stream) createInterface({ input: stream }).on('line', onLine);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what}: it exited (${code}) first: ${seen}`));
    });
  });
}

async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

function busConfig(socket: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
`;
}

function avahiConfig(hostName: string): string {
  return `[server]
host-name=${hostName}
use-ipv4=yes
use-ipv6=no
allow-interfaces=veth0
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000

[wide-area]
enable-wide-area=no

[publish]
disable-publishing=yes
disable-user-service-publishing=yes

[reflector]
enable-reflector=no
`;
}
