// Pure parser of `nvidia-smi -q -x` (BACKENDS.md §8.2 caveat): the only nvidia-smi output that
// lists graphics processes (type G, C+G: games, Xorg, compositors) with their VRAM. Written by
// hand and defensive: nvidia-smi's output "is not guaranteed to be backwards compatible", so a
// missing or odd field reads as null and never fails the whole parse.

/** One process using a GPU. */
export interface GpuProcess {
  pid: number | null;
  /** "G" graphics, "C" compute, "C+G" both; '' when absent. */
  type: string;
  /** process_name with XML escapes decoded: a path or a name, '' when absent. */
  name: string;
  /** used_memory in MiB; null when "N/A" (Windows WDDM) or unreadable. */
  usedMib: number | null;
}

/** One GPU of the report. */
export interface GpuUsage {
  /** Position in the report (0, 1, ...). */
  index: number;
  /** utilization > gpu_util in percent; null when absent or N/A. */
  utilPct: number | null;
  processes: GpuProcess[];
}

/** Every GPU of an `nvidia-smi -q -x` report; [] when there is none or the text is not one. */
export function parseNvidiaSmiXml(xml: string): GpuUsage[] {
  const text = xml.replace(/<!--[\s\S]*?-->/g, '');
  const gpus: GpuUsage[] = [];
  for (const block of elements(text, 'gpu')) {
    const utilization = elements(block, 'utilization')[0];
    const processes: GpuProcess[] = [];
    for (const list of elements(block, 'processes')) {
      for (const info of elements(list, 'process_info')) {
        processes.push({
          pid: integer(child(info, 'pid')),
          type: child(info, 'type') ?? '',
          name: child(info, 'process_name') ?? '',
          usedMib: mebibytes(child(info, 'used_memory')),
        });
      }
    }
    gpus.push({
      index: gpus.length,
      utilPct: utilization === undefined ? null : percent(child(utilization, 'gpu_util')),
      processes,
    });
  }
  return gpus;
}

/** The inner text of every `<tag ...>…</tag>` in text (not nested in itself); `<tag/>` is empty. */
function elements(text: string, tag: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${tag}(?:\\s[^>]*)?(?:/>|>([\\s\\S]*?)</${tag}\\s*>)`, 'g');
  for (const match of text.matchAll(re)) out.push(match[1] ?? '');
  return out;
}

/** The decoded, trimmed text of the first `<tag>` child; null when absent. */
function child(text: string, tag: string): string | null {
  const inner = elements(text, tag)[0];
  return inner === undefined ? null : decodeEntities(inner.trim());
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decode XML character and entity references; an unknown reference is left as it is. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code =
        ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[ref] ?? whole;
  });
}

function integer(text: string | null): number | null {
  if (text === null || !/^\d+$/.test(text)) return null;
  return Number(text);
}

/** "9218 MiB" → 9218; "2 GiB" → 2048; "N/A", "[N/A]" or anything else → null. */
function mebibytes(text: string | null): number | null {
  const match = text === null ? null : /^(\d+(?:\.\d+)?)\s*(MiB|GiB|KiB)?$/i.exec(text);
  if (!match) return null;
  const value = Number(match[1]);
  const unit = (match[2] ?? 'MiB').toLowerCase();
  return unit === 'gib' ? value * 1024 : unit === 'kib' ? value / 1024 : value;
}

/** "87 %" → 87; N/A → null. */
function percent(text: string | null): number | null {
  const match = text === null ? null : /^(\d+(?:\.\d+)?)\s*%?$/.exec(text);
  return match ? Number(match[1]) : null;
}
