// Real mDNS between processes in a private namespace LAN (scripts/testlan/up.sh). Needs
// root and iproute2, as CI has: without them these tests fail with the reason, never skip.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { createTestLan, type TestLan } from '../../helpers/testlan.js';
import { JsonLines, type Line } from './json-lines.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const A = 'aaaaaaaaaaaaaaa1';
const B = 'bbbbbbbbbbbbbbb2';
const PORT = 8766;
// Discovery takes about 1 s with probing (DESIGN §5); the bound leaves room for a slow CI box.
const SEE_WITHIN_MS = 5000;

function run(lan: TestLan, host: number, script: string, args: string[]) {
  const child = lan.exec(host, process.execPath, ['--import', 'tsx', `${FIXTURES}${script}`, ...args], {
    cwd: ROOT,
  });
  return { child, out: new JsonLines(`${script} ${args.join(' ')} on host ${host}`, child) };
}

// B paces its summary updates this far apart (the daemon's default is 10 s).
const MIN_UPDATE_MS = 3000;

const peerLine = (type: 'up' | 'down', id: string, proof?: string) => (line: Line) =>
  line.event === 'peer' &&
  line['type'] === type &&
  line['id'] === id &&
  (proof === undefined || (line['advert'] as { proof: string }).proof === proof);

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The loaded models a peer line's advert lists. */
const modelsOf = (line: Line) => (line['advert'] as { summary?: { models: string[] } }).summary?.models;
/** The loaded models of B each `up` event at `node` showed, in order. */
const modelsSeen = (node: { out: JsonLines }) => node.out.lines.filter(peerLine('up', B)).map(modelsOf);

describe('mDNS discovery between namespaces', () => {
  let lan: TestLan;

  beforeAll(async () => {
    lan = await createTestLan({ hosts: 3 });
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('finds peers, ignores garbage and conflicts, and sees goodbyes', { timeout: 60_000 }, async () => {
    const a = run(lan, 0, 'mdns-peer.ts', [A, String(PORT)]);
    const b = run(lan, 1, 'mdns-peer.ts', [B, String(PORT), String(MIN_UPDATE_MS)]);
    const aStarted = await a.out.waitFor((l) => l.event === 'started', 10_000, 'start of A');
    const bStarted = await b.out.waitFor((l) => l.event === 'started', 10_000, 'start of B');
    expect(aStarted['lastError']).toBeNull();

    // Each sees the other, with the endpoint of its namespace's veth0 (kept as a real LAN interface).
    const bSeenByA = await a.out.waitFor(peerLine('up', B), SEE_WITHIN_MS, 'B up at A');
    const aSeenByB = await b.out.waitFor(peerLine('up', A), SEE_WITHIN_MS, 'A up at B');
    expect(bSeenByA['advert']).toEqual({
      id: B,
      protocol: { major: 1, minor: 0 },
      endpoints: [`${lan.hosts[1]?.address}:${PORT}`],
      proof: 'first',
      summary: {
        state: 'active',
        gpuCount: 0,
        gpus: [],
        vramTotalMiB: null,
        vramFreeMiB: null,
        models: [],
        modelCount: 0,
      },
      summaryProof: null,
    });
    expect(aSeenByB['addresses']).toContain(lan.hosts[0]?.address);
    const bStarting = b.out.lines.find((l) => l.event === 'starting');
    console.log(
      `mDNS discovery: A saw B ${bSeenByA.t - bStarted.t} ms after B's start() resolved ` +
        `(${bSeenByA.t - (bStarting?.t ?? 0)} ms after it began, probe included); ` +
        `B saw A ${aSeenByB.t - (bStarting?.t ?? 0)} ms after B began`,
    );

    // A stranger publishing unusable TXT under one name, twice, is reported once and harms nobody.
    const garbage = run(lan, 2, 'garbage-publisher.ts', []);
    await garbage.out.waitFor((l) => l.event === 'published' && l['variant'] === 0, 10_000, 'garbage 0');
    garbage.child.stdin.write('next\n');
    await garbage.out.waitFor((l) => l.event === 'published' && l['variant'] === 1, 10_000, 'garbage 1');
    await delay(500);
    for (const node of [a, b]) {
      expect(node.child.exitCode).toBeNull();
      const warnings = node.out.stderr.split('\n').filter((l) => l.includes('garbage-stranger'));
      expect(warnings, node.out.stderr).toHaveLength(1);
      expect(JSON.parse(warnings[0] ?? '{}')).toMatchObject({ level: 40, instance: 'garbage-stranger' });
      const peers = node.out.lines.filter((l) => l.event === 'peer').map((l) => l['id']);
      expect(new Set(peers)).toEqual(new Set([node === a ? B : A]));
    }
    garbage.child.stdin.write('stop\n');

    // A second node claiming A's id is refused at start, and nobody sees A leave.
    const clone = run(lan, 2, 'mdns-peer.ts', [A, String(PORT)]);
    const refused = await clone.out.waitFor((l) => l.event === 'error', 10_000, 'id conflict');
    expect(refused['code']).toBe(ErrorCodes.PEER_ID_CONFLICT);
    await delay(500);
    expect(b.out.lines.some(peerLine('down', A))).toBe(false);

    // A changed advert is announced in place (RFC 6762 §8.4): a new up, and no goodbye.
    b.child.stdin.write('republish\n');
    const republished = await b.out.waitFor((l) => l.event === 'republished', 5000, 'B republished');
    await a.out.waitFor(peerLine('up', B, 'second'), SEE_WITHIN_MS, 'B republished at A');

    // Summary changes are paced: the first waits until MIN_UPDATE_MS after the last update, and
    // two changes within the next interval go out as one announcement.
    b.child.stdin.write('load m1\n');
    const m1 = await a.out.waitFor(
      (l) => peerLine('up', B)(l) && modelsOf(l)?.length === 1,
      MIN_UPDATE_MS + SEE_WITHIN_MS,
      'm1 at A',
    );
    expect(m1.t - republished.t).toBeGreaterThanOrEqual(MIN_UPDATE_MS - 100);
    b.child.stdin.write('load m2\n');
    b.child.stdin.write('load m3\n');
    const m3 = await a.out.waitFor(
      (l) => peerLine('up', B)(l) && modelsOf(l)?.length === 3,
      MIN_UPDATE_MS + SEE_WITHIN_MS,
      'm2 and m3 at A',
    );
    expect(m3.t - m1.t).toBeGreaterThanOrEqual(MIN_UPDATE_MS - 200);
    expect(modelsSeen(a)).toEqual([[], [], ['m1'], ['m1', 'm2', 'm3']]);
    expect(a.out.lines.some(peerLine('down', B))).toBe(false);

    // A browser that arrives later is answered with the new TXT.
    const late = run(lan, 2, 'mdns-peer.ts', ['ccccccccccccccc3', String(PORT)]);
    const bSeenLate = await late.out.waitFor(peerLine('up', B), SEE_WITHIN_MS + 2000, 'B at a late browser');
    expect(modelsOf(bSeenLate)).toEqual(['m1', 'm2', 'm3']);
    expect((bSeenLate['advert'] as { proof: string }).proof).toBe('second');
    await late.out.waitFor((l) => l.event === 'started', 10_000, 'late browser started');
    late.child.stdin.write('stop\n');
    await late.out.waitFor((l) => l.event === 'stopped', 5000, 'late browser stopped');

    // stop() sends the goodbye before it resolves.
    const downBefore = a.out.lines.filter(peerLine('down', B)).length;
    b.child.stdin.write('stop\n');
    await b.out.waitFor((l) => l.event === 'stopped', 5000, 'B stopped');
    await a.out.waitFor(
      (l) => peerLine('down', B)(l) && a.out.lines.filter(peerLine('down', B)).length > downBefore,
      2000,
      'B down at A',
    );
    expect(a.child.exitCode).toBeNull();
    a.child.stdin.write('stop\n');
    await a.out.waitFor((l) => l.event === 'stopped', 5000, 'A stopped');
  });

  it('start/stop/republish edge cases behave', async () => {
    const lifecycle = run(lan, 1, 'lifecycle.ts', []);
    const result = await lifecycle.out.waitFor((l) => l.event === 'result', 20_000, 'lifecycle result');
    expect(result).toMatchObject({
      publishedAfterStart: true,
      stopTwice: 'ok',
      publishedAfterStop: false,
      restart: 'ok',
      republishUnchanged: 'ok',
      stopWhileStarting: 'ok',
      startStoppedEarly: 'AbortError',
      publishedAfterEarlyStop: false,
      startStoppedLater: 'AbortError',
      publishedAfterLaterStop: false,
      badBind: ErrorCodes.CONFIG_INVALID,
      republishStopped: 'ok',
      updateStopped: 'ok',
    });
    // stop() cancels a start that is probing instead of waiting for it.
    expect(result['stopDuringStartMs']).toBeLessThan(500);
  });

  it('finds a multicast route and a bindable mDNS port in the LAN', async () => {
    const diag = run(lan, 0, 'diagnose.ts', []);
    const result = await diag.out.waitFor(() => true, 10_000, 'diagnosis');
    expect(result['route']).toMatchObject({ ok: true });
    expect(result['port']).toMatchObject({ ok: true });
  });
});

describe('mDNS without a multicast route', () => {
  let lan: TestLan;

  beforeAll(async () => {
    lan = await createTestLan({ hosts: 1, mcastRoute: false });
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('doctor reports the missing route with the fix', async () => {
    const diag = run(lan, 0, 'diagnose.ts', []);
    const result = await diag.out.waitFor(() => true, 10_000, 'diagnosis');
    const route = result['route'] as { ok: boolean; detail: string };
    expect(route.ok).toBe(false);
    expect(route.detail).toContain('ip route add 224.0.0.0/4 dev veth0');
  });

  it('a node that cannot send says so in lastError', async () => {
    const node = run(lan, 0, 'mdns-peer.ts', [A, String(PORT)]);
    const started = await node.out.waitFor((l) => l.event === 'started', 10_000, 'start');
    expect(started['lastError']).toMatchObject({ code: 'ENETUNREACH' });
    node.child.stdin.write('stop\n');
    await node.out.waitFor((l) => l.event === 'stopped', 5000, 'stop');
  });
});
