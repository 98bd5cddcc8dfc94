// Verification output trimmed to what a model needs: the failing part first (lines that
// say fail, error, assert, expected... with a little context around them), then the end of
// the output, within a size bound. Pure.

const FAILING =
  /\b(fail(ed|ing|ure)?|error|not ok|assert(ion)?|expected|actual|panic|traceback|exception)\b|✖|✗|×/i;
const CONTEXT_BEFORE = 2;
const CONTEXT_AFTER = 6;

// Terminal colour codes say nothing to a model.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** The failing part of output first, then its tail, at most maxChars characters. */
export function trimOutput(output: string, maxChars = 4000): string {
  const text = output.replace(ANSI, '').replace(/\r\n?/g, '\n').trimEnd();
  if (text.length <= maxChars) return text;
  const lines = text.split('\n');
  const keep = new Set<number>();
  lines.forEach((line, index) => {
    if (!FAILING.test(line)) return;
    for (
      let i = Math.max(0, index - CONTEXT_BEFORE);
      i <= Math.min(lines.length - 1, index + CONTEXT_AFTER);
      i++
    )
      keep.add(i);
  });
  const parts: string[] = [];
  let used = 0;
  const budget = Math.floor(maxChars * 0.7);
  let last = -2;
  for (const index of [...keep].sort((a, b) => a - b)) {
    const line = clip(lines[index]!, 400);
    if (used + line.length + 1 > budget) break;
    if (index !== last + 1 && parts.length > 0) parts.push('...');
    parts.push(line);
    used += line.length + 1;
    last = index;
  }
  const tailBudget = maxChars - used - 40;
  const tail: string[] = [];
  let tailUsed = 0;
  for (let index = lines.length - 1; index > last && index >= 0; index--) {
    const line = clip(lines[index]!, 400);
    if (tailUsed + line.length + 1 > tailBudget) break;
    tail.unshift(line);
    tailUsed += line.length + 1;
  }
  const head = parts.length > 0 ? [...parts, '... (end of output:)'] : ['... (output trimmed; its end:)'];
  return [...head, ...tail].join('\n').slice(0, maxChars);
}

/** A failure reduced to what stays the same between runs (numbers, durations, paths of temp dirs dropped). */
export function failureFingerprint(output: string): string {
  return output
    .replace(ANSI, '')
    .replace(/\/tmp\/[^\s:'"]+/g, '<tmp>')
    .replace(/\d+(\.\d+)?/g, '#')
    .replace(/\s+/g, ' ')
    .trim();
}

function clip(line: string, max: number): string {
  return line.length <= max ? line : `${line.slice(0, max)}…`;
}
