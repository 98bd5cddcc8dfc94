// NVIDIA GPU facts from `nvidia-smi` (BACKENDS.md §8.1). Run async (util/run-command.ts):
// systeminformation's graphics() runs nvidia-smi with execSync and would block the event loop
// (DESIGN.md §4), and execa crashes the process when a spawn finds no free file handle.
import { runCommand } from '../util/run-command.js';
import type { GpuInfo } from './types.js';

/** The exact arguments swarmd passes to nvidia-smi; the parser expects this column order. */
export const NVIDIA_SMI_QUERY_ARGS: readonly string[] = Object.freeze([
  '--query-gpu=index,name,uuid,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu,power.draw',
  '--format=csv,noheader,nounits',
]);

const FIELD_COUNT = 9;
const NUMBER_RE = /^-?\d+(?:\.\d+)?$/;
const INDEX_RE = /^\d+$/;
// nvidia-smi puts unavailable values in brackets: [N/A], [Not Supported], [Unknown Error], ...
const UNAVAILABLE_RE = /^\[.*\]$|^N\/A$/;
// Parts whose "VRAM" is system RAM. nvidia-smi reports their memory as [N/A], so the name is
// the only reliable signal (GB10 = DGX Spark and its OEM twins).
const UNIFIED_MEMORY_NAME_RE = /\bGB10\b/i;
// Printed (exit 6 on current drivers) when the driver is loaded but sees no GPU: not an error.
const NO_DEVICES_RE = /No devices were found/i;
// Grace between SIGTERM at the timeout and SIGKILL, for an nvidia-smi that ignores SIGTERM.
const FORCE_KILL_AFTER_MS = 1000;

/** What one parse produced: the GPUs read and the raw lines that could not be read. */
export interface NvidiaSmiParse {
  gpus: GpuInfo[];
  skipped: string[];
}

/** Parse the CSV output of NVIDIA_SMI_QUERY_ARGS; unreadable lines are returned in `skipped`. */
export function parseNvidiaSmiOutput(text: string): NvidiaSmiParse {
  const gpus: GpuInfo[] = [];
  const skipped: string[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '') continue;
    const gpu = parseLine(line);
    if (gpu) gpus.push(gpu);
    else skipped.push(line);
  }
  return { gpus, skipped };
}

/** Parse the CSV output of NVIDIA_SMI_QUERY_ARGS, skipping lines that cannot be read. */
export function parseNvidiaSmiCsv(text: string): GpuInfo[] {
  return parseNvidiaSmiOutput(text).gpus;
}

function parseLine(line: string): GpuInfo | null {
  const raw = line.split(',');
  if (raw.length < FIELD_COUNT) return null;
  // Only the name can hold a comma: glue the extra pieces back into it, as printed.
  const extra = raw.length - FIELD_COUNT;
  const fields = [raw[0], raw.slice(1, 2 + extra).join(','), ...raw.slice(2 + extra)].map((f) =>
    (f ?? '').trim(),
  );
  const [indexText, name, uuidText, ...numberTexts] = fields as [string, string, string, ...string[]];
  if (!INDEX_RE.test(indexText) || name === '' || UNAVAILABLE_RE.test(name)) return null;
  const numbers: (number | null)[] = [];
  for (const text of numberTexts) {
    if (UNAVAILABLE_RE.test(text)) numbers.push(null);
    else if (NUMBER_RE.test(text)) numbers.push(Number(text));
    else return null;
  }
  const [total, used, free, util, temp, power] = numbers as (number | null)[];
  return {
    index: Number(indexText),
    vendor: 'nvidia',
    name,
    uuid: uuidText === '' || UNAVAILABLE_RE.test(uuidText) ? null : uuidText,
    memoryTotalMiB: total ?? null,
    memoryUsedMiB: used ?? null,
    memoryFreeMiB: free ?? null,
    utilizationPct: util ?? null,
    temperatureC: temp ?? null,
    powerW: power ?? null,
    unifiedMemory: UNIFIED_MEMORY_NAME_RE.test(name),
  };
}

/** Options of queryNvidiaGpus. */
export interface NvidiaQueryOptions {
  /** Path or name of the nvidia-smi executable (looked up in PATH when bare). */
  binary: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Result of one query: GPUs read, and why the read failed or was partial (null when clean). */
export interface NvidiaQueryResult {
  gpus: GpuInfo[];
  error: string | null;
}

/** Run nvidia-smi once. Never throws: a box without nvidia-smi or without GPUs has none. */
export async function queryNvidiaGpus(opts: NvidiaQueryOptions): Promise<NvidiaQueryResult> {
  const result = await runCommand(opts.binary, NVIDIA_SMI_QUERY_ARGS, {
    timeoutMs: opts.timeoutMs,
    forceKillAfterMs: FORCE_KILL_AFTER_MS,
    ...(opts.signal && { signal: opts.signal }),
  });
  const { stdout, stderr } = result;
  if (result.errorCode === 'ENOENT') return { gpus: [], error: null };
  if (result.timedOut) {
    return { gpus: [], error: `${opts.binary} did not answer within ${opts.timeoutMs}ms` };
  }
  if (result.canceled) return { gpus: [], error: `${opts.binary} query was canceled` };
  if (NO_DEVICES_RE.test(stdout) || NO_DEVICES_RE.test(stderr)) return { gpus: [], error: null };
  if (result.errorCode !== null) {
    // EMFILE when this process is out of file handles: reported, retried next refresh.
    return { gpus: [], error: `${opts.binary} could not run: ${result.errorMessage ?? result.errorCode}` };
  }
  if (result.exitCode !== 0) {
    // Drivers print some failures ("couldn't communicate with the NVIDIA driver") on stdout.
    const reason = firstLine(stderr) ?? firstLine(stdout) ?? 'no output';
    const how =
      result.exitCode !== null ? `exited with code ${result.exitCode}` : `was ended by ${result.signal}`;
    return { gpus: [], error: `${opts.binary} ${how}: ${reason}` };
  }
  const { gpus, skipped } = parseNvidiaSmiOutput(stdout);
  if (skipped.length === 0) return { gpus, error: null };
  // Only the start of the line (index, name) goes in: the message must stay the same from one
  // refresh to the next so the caller can log it once, and the numbers change every time.
  const sample = truncate(skipped[0] ?? '', 32);
  return { gpus, error: `${opts.binary} printed ${skipped.length} unreadable line(s), first: "${sample}"` };
}

function firstLine(text: string): string | undefined {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '');
  return line === undefined ? undefined : truncate(line.trim(), 200);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
