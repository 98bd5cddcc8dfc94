// Pure decisions about this node's activity: which pause wins (draining > manual > gaming),
// whether the box looks busy with a game, and when an automatic pause ends (quiet period).
// No I/O, no timers: observations and time come in as arguments.
import type { GpuUsage } from '../node/nvidia-smi-xml.js';
import type { WireActivity } from '../rpc/wire.js';

/** Why this node is out of service, per source; null where that source has nothing to say. */
export interface ActivityInputs {
  /** Shutting down or `swarmctl drain`: the reason shown. */
  draining: string | null;
  /** `swarmctl pause`: the reason shown. */
  manual: string | null;
  /** gaming.autoPause: the reason shown ("gaming: steam"). */
  gaming: string | null;
}

/** The activity peers are told, and its reason. Draining beats a manual pause, which beats gaming. */
export function decideActivity(inputs: ActivityInputs): { activity: WireActivity; reason: string } {
  if (inputs.draining !== null) return { activity: 'ACTIVITY_DRAINING', reason: inputs.draining };
  if (inputs.manual !== null) return { activity: 'ACTIVITY_PAUSED', reason: inputs.manual };
  if (inputs.gaming !== null) return { activity: 'ACTIVITY_PAUSED', reason: inputs.gaming };
  return { activity: 'ACTIVITY_ACTIVE', reason: '' };
}

/** A running process: its /proc/<pid>/comm (≤ 15 characters) and the file name of argv[0]. */
export interface RunningProcess {
  pid: number;
  comm: string;
  argv0: string;
}

/** The gaming.autoPause rules, as configured. */
export interface GamingRules {
  processes: readonly string[];
  vramThresholdMib: number;
  gpuUtilThresholdPct: number;
  ignore: readonly string[];
}

/** One look at the box. */
export interface GamingObservation {
  /** Running processes; [] when not looked at. */
  processes: readonly RunningProcess[];
  /** `nvidia-smi -q -x`, null when it was not run or could not be. */
  gpus: readonly GpuUsage[] | null;
  /** Requests this node runs on its own backends now (GPU use is only judged at 0). */
  ownWork: number;
}

/** True when any gaming rule is set (otherwise the watcher does not run). */
export function gamingEnabled(rules: GamingRules): boolean {
  return rules.processes.length > 0 || rules.vramThresholdMib > 0 || rules.gpuUtilThresholdPct > 0;
}

/** Linux keeps 15 characters of a process name in comm. */
const COMM_MAX = 15;

/** The reason the box looks busy with a game ("gaming: steam"), or null when it does not. */
export function judgeGaming(observation: GamingObservation, rules: GamingRules): string | null {
  for (const wanted of rules.processes) {
    const hit = observation.processes.some(
      (proc) => proc.comm === wanted || proc.argv0 === wanted || proc.comm === wanted.slice(0, COMM_MAX),
    );
    if (hit) return `gaming: ${wanted}`;
  }
  const gpus = observation.gpus;
  if (gpus && rules.vramThresholdMib > 0) {
    const ignored = new Set(rules.ignore.map((name) => name.toLowerCase()));
    const users = new Map<string, number>();
    for (const gpu of gpus) {
      for (const proc of gpu.processes) {
        if (proc.type !== 'G' && proc.type !== 'C+G') continue;
        if (proc.usedMib === null || proc.usedMib <= 0) continue;
        const name = baseName(proc.name) || `pid ${proc.pid ?? '?'}`;
        if (ignored.has(name.toLowerCase())) continue;
        users.set(name, (users.get(name) ?? 0) + proc.usedMib);
      }
    }
    const total = [...users.values()].reduce((sum, mib) => sum + mib, 0);
    if (total >= rules.vramThresholdMib) {
      const ranked = [...users.entries()].sort((a, b) => b[1] - a[1]);
      const names = ranked.length > 1 ? `${ranked[0]![0]} and ${ranked.length - 1} more` : ranked[0]![0];
      return `gaming: ${formatMib(total)} VRAM used by ${names}`;
    }
  }
  if (gpus && rules.gpuUtilThresholdPct > 0 && observation.ownWork === 0) {
    const busiest = Math.max(-1, ...gpus.map((gpu) => gpu.utilPct ?? -1));
    if (busiest >= rules.gpuUtilThresholdPct) return `gaming: GPU ${Math.round(busiest)}% busy`;
  }
  return null;
}

/** What the gaming watcher keeps between looks. */
export interface GamingState {
  /** The pause reason while gaming pauses the node, else null. */
  reason: string | null;
  /** When the box last looked busy (monotonic ms), null before it ever did. */
  lastBusyMs: number | null;
}

export const GAMING_IDLE: GamingState = { reason: null, lastBusyMs: null };

/**
 * Advance the watcher: busy pauses at once (reason updated); idle resumes only after it has
 * stayed idle for quietMs. Only the gaming pause is decided here: a manual pause is not its
 * to end (decideActivity keeps it).
 */
export function gamingStep(
  state: GamingState,
  busy: string | null,
  nowMs: number,
  quietMs: number,
): GamingState {
  if (busy !== null) return { reason: busy, lastBusyMs: nowMs };
  if (state.reason === null) return state;
  if (state.lastBusyMs !== null && nowMs - state.lastBusyMs < quietMs) return state;
  return { reason: null, lastBusyMs: state.lastBusyMs };
}

/** "6.0 GiB" from 6144; "512 MiB" below 1 GiB. */
export function formatMib(mib: number): string {
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${Math.round(mib)} MiB`;
}

/** The file name of a path (nvidia-smi names graphics processes by path; Windows by backslash). */
function baseName(path: string): string {
  const parts = path.split(/[/\\]/);
  return (parts[parts.length - 1] ?? '').trim();
}
