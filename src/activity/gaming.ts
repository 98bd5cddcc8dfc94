// gaming.autoPause: every checkInterval, look at the running processes (/proc) and, when a GPU
// rule is set, at `nvidia-smi -q -x` (the only view that lists graphics processes); pause this
// node while the box looks busy with a game and resume once it has looked idle for quietPeriod.
// The decisions are in decide.ts; this file only gathers what they need.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { errorMessage } from '../errors.js';
import { type GpuUsage, parseNvidiaSmiXml } from '../node/nvidia-smi-xml.js';
import { monotonicMs } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { describeRun, runCommand } from '../util/run-command.js';
import {
  GAMING_IDLE,
  type GamingRules,
  type GamingState,
  gamingEnabled,
  gamingStep,
  judgeGaming,
  type RunningProcess,
} from './decide.js';

export interface GamingComponents {
  logger: Logger;
  /** Tell the activity controller: busy (reason) or free again (null). */
  setGaming: (reason: string | null) => Promise<void>;
  /** Requests running on this node's own backends now. */
  ownWork: () => number;
}

export interface GamingInit extends GamingRules {
  quietMs: number;
  checkMs: number;
  /** The nvidia-smi executable (facts.nvidiaSmi). */
  nvidiaSmi: string;
  /** Where process directories live (tests may point elsewhere). */
  procRoot?: string;
}

const NVIDIA_TIMEOUT_MS = 5_000;

/** Watches for games; does nothing when no rule is configured. */
export class GamingWatcher {
  private readonly c: GamingComponents;
  private readonly init: GamingInit;
  private timer: NodeJS.Timeout | undefined;
  private state: GamingState = GAMING_IDLE;
  private checking = false;
  private readonly warned = new Set<string>();

  constructor(components: GamingComponents, init: GamingInit) {
    this.c = components;
    this.init = init;
  }

  /** Start checking (at once, then every checkInterval). */
  start(): void {
    if (this.timer || !gamingEnabled(this.init)) return;
    this.timer = setInterval(() => void this.check(), this.init.checkMs);
    this.timer.unref();
    void this.check();
  }

  /** Stop checking. Safe to call twice. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look; exposed for tests. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const processes =
        this.init.processes.length > 0 ? await listProcesses(this.init.procRoot ?? '/proc') : [];
      const wantGpu = this.init.vramThresholdMib > 0 || this.init.gpuUtilThresholdPct > 0;
      const gpus = wantGpu ? await this.queryGpus() : null;
      const busy = judgeGaming({ processes, gpus, ownWork: this.c.ownWork() }, this.init);
      const next = gamingStep(this.state, busy, monotonicMs(), this.init.quietMs);
      const changed = next.reason !== this.state.reason;
      this.state = next;
      if (changed) {
        this.c.logger.info(
          { reason: next.reason },
          next.reason ? 'gaming: pausing this node' : 'gaming over: resuming',
        );
        await this.c.setGaming(next.reason);
      }
    } catch (err) {
      this.warnOnce('check', `gaming check failed: ${errorMessage(err)}`);
    } finally {
      this.checking = false;
    }
  }

  /** `nvidia-smi -q -x`, parsed; null when it is absent (no log) or fails (logged once). */
  private async queryGpus(): Promise<GpuUsage[] | null> {
    const result = await runCommand(this.init.nvidiaSmi, ['-q', '-x'], {
      timeoutMs: NVIDIA_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    if (result.errorCode === 'ENOENT') return null;
    const failure = describeRun(this.init.nvidiaSmi, result, NVIDIA_TIMEOUT_MS);
    if (failure !== null) {
      const why = (result.stderr || result.stdout).split('\n')[0]?.trim() || failure;
      this.warnOnce(
        'nvidia',
        `${this.init.nvidiaSmi} -q -x failed (${why}): gaming.autoPause checks processes only`,
      );
      return null;
    }
    return parseNvidiaSmiXml(result.stdout);
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.c.logger.warn(msg);
  }
}

/** Every process this user can see: pid, comm and the file name of argv[0]. Vanished ones are skipped. */
export async function listProcesses(procRoot: string): Promise<RunningProcess[]> {
  const entries = await readdir(procRoot).catch(() => [] as string[]);
  const out: RunningProcess[] = [];
  await Promise.all(
    entries
      .filter((name) => /^\d+$/.test(name))
      .map(async (name) => {
        const dir = join(procRoot, name);
        const [comm, cmdline] = await Promise.all([
          readFile(join(dir, 'comm'), 'utf8').catch(() => null),
          readFile(join(dir, 'cmdline'), 'utf8').catch(() => null),
        ]);
        if (comm === null && cmdline === null) return;
        const argv0 = (cmdline ?? '').split('\0')[0] ?? '';
        out.push({ pid: Number(name), comm: (comm ?? '').trim(), argv0: argv0 ? basename(argv0) : '' });
      }),
  );
  return out;
}
