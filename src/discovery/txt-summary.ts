// The capability summary part of our mDNS TXT record (DESIGN §5): what a box has, for any
// browser on the LAN. Pure, no I/O. Peers never route on it (heartbeats carry the real facts),
// so a summary this release cannot read is dropped while the rest of the advert still counts.

/** What a node says in mDNS about what it has. */
export interface AdvertSummary {
  /** `active` takes work; `paused` does not (paused, draining or leaving). */
  state: 'active' | 'paused';
  /** How many GPUs the box has. */
  gpuCount: number;
  /** Distinct GPU names with how many of each, in index order; may be cut short (`gpuCount` stays). */
  gpus: { name: string; count: number }[];
  /** Total VRAM in MiB, or null when no GPU reports it. */
  vramTotalMiB: number | null;
  /** Free VRAM in MiB, rounded down to whole GiB, or null when no GPU reports it. */
  vramFreeMiB: number | null;
  /** Models loaded now, sorted; may be cut short to fit the record (`modelCount` stays). */
  models: string[];
  /** How many models are loaded, listed or not. */
  modelCount: number;
}

/** TXT keys of the summary, in the order they are written. */
export const SUMMARY_KEYS = ['st', 'gc', 'gn', 'vt', 'vf', 'lc', 'lm', 'lm2'] as const;
/** The TXT strings loaded model names are spread over, each at most 255 bytes. */
export const MODEL_KEYS = ['lm', 'lm2'] as const;
/** Free VRAM is advertised in steps of this many MiB. */
export const VRAM_FREE_STEP_MIB = 1024;

const COUNT_RE = /^(?:0|[1-9][0-9]{0,5})$/;
const MIB_RE = /^(?:0|[1-9][0-9]{0,9})$/;
const GPU_ENTRY_RE = /^([1-9][0-9]{0,5})x (.+)$/;
const MAX_STRING_BYTES = 255;

/** The fixed-size summary fields (everything but the name lists), as written. */
export function summaryHeadFields(summary: AdvertSummary): Record<string, string> {
  const fields: Record<string, string> = { st: summary.state, gc: String(summary.gpuCount) };
  if (summary.vramTotalMiB !== null) fields['vt'] = String(summary.vramTotalMiB);
  if (summary.vramFreeMiB !== null) fields['vf'] = String(summary.vramFreeMiB);
  fields['lc'] = String(summary.modelCount);
  return fields;
}

/** All summary fields as written; the summary must fit (fitSummary) or this throws. */
export function summaryFields(summary: AdvertSummary): Record<string, string> {
  const fields = summaryHeadFields(summary);
  if (summary.gpus.length > 0) fields['gn'] = summary.gpus.map(gpuEntry).join(',');
  const strings = packModels(summary.models);
  if (strings === null) throw new TypeError('loaded model names do not fit the TXT strings: fit first');
  strings.forEach((value, i) => {
    fields[MODEL_KEYS[i]!] = value;
  });
  return fields;
}

/**
 * Cut the GPU names, then the model names, to what fits in `spareBytes` of TXT on top of the
 * head fields (which always fit) and in 255-byte strings. Keeps a prefix of each list, so
 * fitting a fitted summary changes nothing.
 */
export function fitSummary(summary: AdvertSummary, spareBytes: number): AdvertSummary {
  let spare = spareBytes - fieldsBytes(summaryHeadFields(summary));
  const gpus: AdvertSummary['gpus'] = [];
  for (const gpu of summary.gpus) {
    const bytes = entryBytes('gn', [...gpus, gpu].map(gpuEntry).join(','));
    if (bytes > spare || bytes - 1 > MAX_STRING_BYTES) break;
    gpus.push(gpu);
  }
  if (gpus.length > 0) spare -= entryBytes('gn', gpus.map(gpuEntry).join(','));
  const models: string[] = [];
  for (const model of summary.models) {
    const strings = packModels([...models, model]);
    if (strings === null) break;
    if (strings.reduce((sum, value, i) => sum + entryBytes(MODEL_KEYS[i]!, value), 0) > spare) break;
    models.push(model);
  }
  return { ...summary, gpus, models };
}

/**
 * Read the summary of a received record; null when it has none (an older node) or when any part
 * of it is malformed or inconsistent (a newer node may write it differently: its advert still counts).
 */
export function decodeSummary(fields: Map<string, string>): AdvertSummary | null {
  const st = fields.get('st');
  if (st !== 'active' && st !== 'paused') return null;
  const gpuCount = count(fields.get('gc'));
  const modelCount = count(fields.get('lc'));
  const vramTotalMiB = mib(fields.get('vt'));
  const vramFreeMiB = mib(fields.get('vf'));
  const gpus = parseList(fields.get('gn'), parseGpu);
  const first = parseList(fields.get('lm'), unescapeName);
  const second = parseList(fields.get('lm2'), unescapeName);
  if (gpuCount === null || modelCount === null || vramTotalMiB === undefined || vramFreeMiB === undefined)
    return null;
  if (gpus === null || first === null || second === null) return null;
  if (first.length === 0 && second.length > 0) return null;
  const models = [...first, ...second];
  if (gpus.reduce((sum, gpu) => sum + gpu.count, 0) > gpuCount || models.length > modelCount) return null;
  const summary: AdvertSummary = {
    state: st,
    gpuCount,
    gpus,
    vramTotalMiB,
    vramFreeMiB,
    models,
    modelCount,
  };
  // Only the form we write ourselves is accepted, so a summary reads back into the same text.
  let again: Record<string, string>;
  try {
    again = summaryFields(summary);
  } catch {
    return null;
  }
  return SUMMARY_KEYS.every((key) => again[key] === fields.get(key)) ? summary : null;
}

// Pack names in order into as few strings (`lm=…`, `lm2=…`) of at most 255 bytes as they need;
// null when they need more strings than MODEL_KEYS (or one name alone is too long).
function packModels(models: readonly string[]): string[] | null {
  const strings: string[] = [];
  let current = '';
  for (const model of models) {
    const name = escapeName(model);
    const joined = current ? `${current},${name}` : name;
    if (entryBytes(MODEL_KEYS[strings.length]!, joined) - 1 <= MAX_STRING_BYTES) {
      current = joined;
      continue;
    }
    if (!current) return null;
    strings.push(current);
    const next = MODEL_KEYS[strings.length];
    if (next === undefined || entryBytes(next, name) - 1 > MAX_STRING_BYTES) return null;
    current = name;
  }
  if (current) strings.push(current);
  return strings;
}

function gpuEntry(gpu: { name: string; count: number }): string {
  return `${gpu.count}x ${escapeName(gpu.name)}`;
}

function parseGpu(entry: string): { name: string; count: number } | null {
  const match = GPU_ENTRY_RE.exec(entry);
  const name = match ? unescapeName(match[2]!) : null;
  return name === null ? null : { name, count: Number(match![1]) };
}

function parseList<T>(value: string | undefined, parse: (entry: string) => T | null): T[] | null {
  if (value === undefined) return [];
  const out: T[] = [];
  for (const entry of value.split(',')) {
    const parsed = parse(entry);
    if (parsed === null) return null;
    out.push(parsed);
  }
  return out;
}

/**
 * Percent-escape what would break a list or the proof's canonical text: the separator ",", the
 * escape "%" itself and control characters (a newline among them).
 */
export function escapeName(name: string): string {
  let out = '';
  for (const ch of name) {
    const code = ch.charCodeAt(0);
    const special = ch === '%' || ch === ',' || code < 0x20 || code === 0x7f;
    out += special ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : ch;
  }
  return out;
}

function unescapeName(text: string): string | null {
  if (text.length === 0) return null;
  const name = text.replace(/%([0-9A-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
  // Any other use of "%" (or an escape of a character we never escape) is not our form.
  return escapeName(name) === text ? name : null;
}

function count(value: string | undefined): number | null {
  return value !== undefined && COUNT_RE.test(value) ? Number(value) : null;
}

// undefined: malformed; null: absent (no GPU reports it).
function mib(value: string | undefined): number | null | undefined {
  if (value === undefined) return null;
  return MIB_RE.test(value) ? Number(value) : undefined;
}

function entryBytes(key: string, value: string): number {
  return 1 + Buffer.byteLength(key) + 1 + Buffer.byteLength(value);
}

function fieldsBytes(fields: Record<string, string>): number {
  let total = 0;
  for (const [key, value] of Object.entries(fields)) total += entryBytes(key, value);
  return total;
}
