// Best-of proposals spread over the swarm: two real swarmd daemons on loopback (mDNS off,
// paired, bravo has alpha as static peer), each with a fake Ollama serving the same fast
// model, hot on alpha and cold on bravo, so the score alone would send both proposals to
// alpha. A best-of-2 job on alpha asks both at once; each call prefers nodes the other did
// not get, so one lands on each fake (seen in each fake's recorded generations).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOllama } from '../../fakes/ollama.js';
import { lastUserText } from '../../fakes/scripted-replies.js';
import { pairBoxes, startInBox, waitForPeer } from '../../helpers/loopback-swarm.js';
import { createSandbox, type Sandbox, writeConfig } from '../../helpers/sandbox.js';
import { killAllSwarmd } from '../../helpers/swarmd.js';
import { waitUntil } from '../../helpers/wait.js';
import { FIXED_DATE, makeRepo, type TinyRepo, wholeReply } from './tiny-repo.js';

const FAST = 'small:1b';

let a: Sandbox;
let b: Sandbox;
let fakeA: FakeOllama;
let fakeB: FakeOllama;
const repos: TinyRepo[] = [];

beforeAll(async () => {
  [a, b] = [await createSandbox(), await createSandbox()];
  await pairBoxes(a, b);
  fakeA = new FakeOllama({ models: [{ name: FAST }], loaded: [{ name: FAST }] });
  // Bravo's copy is cold: on score alone alpha's hot one (with a free slot) wins both calls.
  fakeB = new FakeOllama({ models: [{ name: FAST }], loaded: [] });
  const [urlA, urlB] = [(await fakeA.start()).url, (await fakeB.start()).url];
  const routing = { tiers: { fast: [FAST], deep: [FAST] }, fallback: [], defaultPrivacy: 'lan' };
  const configA = await writeConfig(a, { routing, jobs: { sandbox: 'off', stepTimeout: '60s' } });
  const configB = await writeConfig(b, { routing });
  const alpha = await startInBox(a, ['--config', configA, '--name', 'alpha', '--backend', urlA]);
  await startInBox(b, [
    '--config',
    configB,
    '--name',
    'bravo',
    '--backend',
    urlB,
    '--peer',
    `127.0.0.1:${alpha.peerPort()}`,
  ]);
  await waitForPeer(a, 'bravo', [FAST], 30_000);
  await waitUntil(
    async () => (await a.swarmctl(['models', '--json'])).stdout.includes(FAST),
    'alpha to list its own model',
  );
}, 90_000);

afterAll(async () => {
  await killAllSwarmd();
  await Promise.all([fakeA?.stop(), fakeB?.stop()]);
  for (const r of repos) r.remove();
  await Promise.all([a?.remove(), b?.remove()]);
});

describe('best-of on a swarm of two', () => {
  it('best-of-2 proposals land on different nodes', async () => {
    const r = makeRepo();
    repos.push(r);
    for (const fake of [fakeA, fakeB])
      fake.behave({ firstTokenDelayMs: 300, respond: () => wholeReply({ 'src/date.js': FIXED_DATE }) });
    const [fromA, fromB] = [fakeA.generations.length, fakeB.generations.length];
    const out = await a.swarmctl(
      ['run', 'make the failing date test pass', '--repo', r.dir, '--best-of', '2', '--json'],
      { timeoutMs: 120_000 },
    );
    expect(out.stdout, out.stderr).toMatch(/^\{/);
    const report = JSON.parse(out.stdout);
    expect(report.state).toBe('passed');
    const proposals = report.attempts.filter((x: { candidate: number | null }) => x.candidate !== null);
    expect(proposals.map((x: { node: string }) => x.node).sort()).toEqual(['alpha', 'bravo']);
    // Each fake generated one proposal (a tie between the two may add a reviewer's call).
    const proposalsOn = (fake: FakeOllama, from: number) =>
      fake.generations.slice(from).filter((g) => !lastUserText(g).includes('Both changes pass verification'))
        .length;
    expect(proposalsOn(fakeA, fromA)).toBe(1);
    expect(proposalsOn(fakeB, fromB)).toBe(1);
  }, 120_000);
});
