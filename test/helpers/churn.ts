// Churn in a test LAN: a coordinator with no model server ("hub") and four workers holding the
// same model, each beside a fake Ollama (15 ms a token). Sixteen clients (the real `openai`
// client, its own retries off) load the hub while a random worker's own swarmd PID is SIGKILLed
// every 1–2 s and restarted about 1 s later, optionally with every core held busy by a CPU hog.
// Used by the churn project (test/churn/), one file at a time after every other test.
import { cpus } from 'node:os';
import { expect } from 'vitest';
import { type LoadSummary, runLoad } from './load.js';
import { SwarmNode, untilView } from './swarm-node.js';
import { createTestLan, type TestLan } from './testlan.js';

const MODEL = 'qwen3:8b';
/** Twenty tokens at 15 ms each: a generation takes about 300 ms. */
const REPLY = Array.from({ length: 20 }, (_, i) => `word${i}`).join(' ');
const WORKERS = 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The churn's swarm: build with start(), end with destroy(). */
export class ChurnSwarm {
  private lan: TestLan | undefined;
  private hub: SwarmNode | undefined;
  private readonly workers: SwarmNode[] = [];
  private readonly ids = new Map<SwarmNode, string>();

  /** Build the LAN, start the hub and the workers, wait until the hub routes to every worker. */
  async start(): Promise<void> {
    this.lan = await createTestLan({ hosts: WORKERS + 1 });
    this.hub = await SwarmNode.create(this.lan, 0, {
      name: 'hub',
      gpuName: 'NVIDIA GeForce RTX 4090',
      models: [],
      loaded: [],
      noBackend: true,
    });
    for (let i = 1; i <= WORKERS; i++)
      this.workers.push(
        await SwarmNode.create(this.lan, i, {
          name: `w${i}`,
          gpuName: 'NVIDIA GeForce RTX 3090',
          models: [MODEL],
          loaded: [MODEL],
          backend: { reply: REPLY, tokenDelayMs: 15 },
        }),
      );
    const token = await this.hub.init();
    await Promise.all(this.workers.map((worker) => worker.join(token)));
    await Promise.all([this.hub, ...this.workers].map((node) => node.start()));
    for (const worker of this.workers) this.ids.set(worker, (await worker.nodes()).self);
    await untilView(
      this.hub,
      (view) =>
        this.workers.every((worker) => {
          const node = view.nodes.find((entry) => entry.id === this.ids.get(worker));
          return node?.state === 'alive' && node.models.some((model) => model.id === MODEL);
        }),
      30_000,
      'the hub to see every worker with the model',
    );
  }

  /**
   * Load the hub for `seconds` with 16 clients while killing a random worker every 1–2 s (its
   * restart follows ~1 s later). With `hog`, a busy loop per core runs meanwhile.
   */
  async run(options: { seconds: number; hog: boolean }): Promise<{ summary: LoadSummary; kills: number }> {
    const lan = this.lan!;
    const hogs = options.hog ? cpus().map(() => lan.exec(0, process.execPath, ['-e', 'for (;;) {}'])) : [];
    let kills = 0;
    try {
      const summary = await runLoad(lan, {
        model: MODEL,
        count: 100_000,
        parallel: 16,
        seconds: options.seconds,
        after: 16,
        during: async () => {
          const restarts: Promise<void>[] = [];
          // Killed and not yet ready again: not a victim until its restart is done (a kill in
          // the middle of that start would fail the restart, not a request).
          const restarting = new Set<SwarmNode>();
          // Stop killing a little before the load ends, so its last requests see a whole swarm.
          const until = Date.now() + (options.seconds - 4) * 1000;
          while (Date.now() < until) {
            await sleep(1000 + Math.random() * 1000);
            const running = this.workers.filter((worker) => worker.running && !restarting.has(worker));
            if (running.length < 2) continue;
            const victim = running[Math.floor(Math.random() * running.length)]!;
            restarting.add(victim);
            await victim.kill();
            kills++;
            // A restart on a starved box may take long: that is the hog's point, not a failure.
            restarts.push(
              sleep(900 + Math.random() * 200)
                .then(() => victim.start(60_000))
                .finally(() => restarting.delete(victim)),
            );
          }
          await Promise.all(restarts);
        },
      });
      return { summary, kills };
    } finally {
      for (const hog of hogs) hog.kill('SIGKILL');
    }
  }

  /**
   * Every request answered once, none failed, and each one a killed worker cut short was moved
   * (x-swarm-attempts ≥ 2).
   */
  async expectNothingFailed(summary: LoadSummary): Promise<void> {
    expect(summary.failed).toEqual([]);
    expect(summary.served.length).toBeGreaterThan(0);
    expect(new Set(summary.served.map((entry) => entry.id)).size).toBe(summary.served.length);
    const cut = new Set<string>();
    for (const worker of this.workers) {
      const lines = await worker.generations();
      const done = new Set(lines.filter((l) => l.event === 'end' && l.completed).map((l) => l.requestId));
      for (const line of lines)
        if (line.event === 'start' && line.requestId && !done.has(line.requestId)) cut.add(line.requestId);
    }
    expect(cut.size).toBeGreaterThan(0); // the kills did land on running work
    for (const entry of summary.served)
      if (cut.has(entry.id!)) expect(entry.attempts, `request ${entry.id}`).toBeGreaterThanOrEqual(2);
  }

  /** Kill everything the swarm started and remove the LAN. */
  async destroy(): Promise<void> {
    await Promise.all([this.hub, ...this.workers].filter(Boolean).map((node) => node!.destroy()));
    await this.lan?.destroy();
  }
}
