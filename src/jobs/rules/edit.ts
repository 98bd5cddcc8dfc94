// A model's edit, parsed from its reply and applied to file contents. Two formats:
// `whole` (a `FILE: path` line, then a fenced block with the file's complete new content) for
// small models, and aider-style SEARCH/REPLACE blocks for larger ones. Pure: reading and
// writing files is the caller's; what did not match is said precisely so the model can retry.
import type { EditFormat } from '../types.js';

/** A whole-file replacement. */
export interface WholeEdit {
  kind: 'whole';
  path: string;
  content: string;
}

/** Replace the exact text `search` with `replace` in `path` (empty search: create the file). */
export interface SearchReplaceEdit {
  kind: 'search-replace';
  path: string;
  search: string;
  replace: string;
}

export type Edit = WholeEdit | SearchReplaceEdit;

/** Parsed edits, or why nothing usable was found. */
export type ParseResult = { ok: true; edits: Edit[] } | { ok: false; problem: string };

const FENCE = /^(`{3,}|~{3,})[^\n`]*$/;
const SEARCH_START = /^<{5,9} ?SEARCH\s*$/;
const DIVIDER = /^={5,9}\s*$/;
const REPLACE_END = /^>{5,9} ?REPLACE\s*$/;

/** The edits in a model's reply, read in the given format (the other format is accepted too). */
export function parseEdits(reply: string, format: EditFormat): ParseResult {
  const text = reply.replace(/\r\n?/g, '\n');
  const searchReplace = parseSearchReplace(text);
  if (!searchReplace.ok) return searchReplace;
  const whole = searchReplace.edits.length > 0 ? { ok: true as const, edits: [] } : parseWhole(text);
  const edits = [...searchReplace.edits, ...(whole.ok ? whole.edits : [])];
  if (!whole.ok) return whole;
  if (edits.length === 0) {
    return {
      ok: false,
      problem:
        format === 'whole'
          ? 'no file found in the reply: write `FILE: path/to/file` on its own line, then the complete new file in a ``` fenced block'
          : 'no SEARCH/REPLACE block found in the reply: write the file path on its own line, then <<<<<<< SEARCH, the exact lines to find, =======, the new lines, >>>>>>> REPLACE',
    };
  }
  return { ok: true, edits };
}

/** `FILE: path` (or a bare path line) followed by a fenced block: the block is the whole new file. */
function parseWhole(text: string): ParseResult {
  const lines = text.split('\n');
  const edits: Edit[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = FENCE.exec(lines[i]!);
    if (!fence) continue;
    const path = pathFromLine(lines[i - 1] ?? '') ?? pathFromLine(lines[i - 2] ?? '');
    let end = i + 1;
    while (end < lines.length && !lines[end]!.startsWith(fence[1]!)) end++;
    if (end >= lines.length) {
      return { ok: false, problem: `the fenced block opened on line ${i + 1} of the reply is never closed` };
    }
    if (path !== null) {
      const body = lines.slice(i + 1, end);
      edits.push({ kind: 'whole', path, content: `${body.join('\n')}\n` });
    }
    i = end;
  }
  return { ok: true, edits };
}

/** SEARCH/REPLACE blocks; the file path is the last non-fence line before `<<<<<<< SEARCH`. */
function parseSearchReplace(text: string): ParseResult {
  const lines = text.split('\n');
  const edits: Edit[] = [];
  let path: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!SEARCH_START.test(line)) {
      if (!FENCE.test(line) && line.trim() !== '') path = pathFromLine(line) ?? path;
      continue;
    }
    if (path === null) {
      return {
        ok: false,
        problem: `the SEARCH block on line ${i + 1} of the reply has no file path before it`,
      };
    }
    let divider = i + 1;
    while (divider < lines.length && !DIVIDER.test(lines[divider]!)) divider++;
    let end = divider + 1;
    while (end < lines.length && !REPLACE_END.test(lines[end]!)) end++;
    if (divider >= lines.length || end >= lines.length) {
      return {
        ok: false,
        problem: `the SEARCH block on line ${i + 1} of the reply is not closed by ======= and >>>>>>> REPLACE`,
      };
    }
    edits.push({
      kind: 'search-replace',
      path,
      search: joinLines(lines.slice(i + 1, divider)),
      replace: joinLines(lines.slice(divider + 1, end)),
    });
    i = end;
  }
  return { ok: true, edits };
}

function joinLines(lines: string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** A file path on a line of its own (`FILE: a/b.js`, `**a/b.js**`, `` `a/b.js` ``, `a/b.js:`), or null. */
export function pathFromLine(line: string): string | null {
  let text = line.trim();
  text = text.replace(/^#+\s*/, '').replace(/^(file|path)\s*:\s*/i, '');
  text = text.replace(/^[*`'"]+|[*`'":]+$/g, '').trim();
  if (text === '' || /\s/.test(text) || text.length > 300) return null;
  if (!/[./]/.test(text) && !/^(Makefile|Dockerfile|[A-Z][A-Za-z]+file)$/.test(text)) return null;
  return text;
}

/** Files as the proposal leaves them, or what did not apply. */
export type ApplyResult =
  | { ok: true; files: Map<string, { before: string | null; after: string }> }
  | { ok: false; problem: string };

/**
 * Apply edits to file contents read through `read` (null: the file does not exist). SEARCH
 * text must match exactly; a match that differs only in trailing whitespace is accepted.
 */
export function applyEdits(edits: readonly Edit[], read: (path: string) => string | null): ApplyResult {
  const files = new Map<string, { before: string | null; after: string }>();
  const current = (path: string): string | null => {
    const known = files.get(path);
    return known ? known.after : read(path);
  };
  for (const edit of edits) {
    const before = files.get(edit.path)?.before ?? read(edit.path);
    if (edit.kind === 'whole') {
      files.set(edit.path, { before, after: edit.content });
      continue;
    }
    const text = current(edit.path);
    if (text === null) {
      if (edit.search.trim() !== '') {
        return {
          ok: false,
          problem: `${edit.path} does not exist, so its SEARCH block cannot match; to create it, leave SEARCH empty`,
        };
      }
      files.set(edit.path, { before, after: edit.replace });
      continue;
    }
    if (edit.search === '') {
      files.set(edit.path, { before, after: text + edit.replace });
      continue;
    }
    const replaced = replaceOnce(text, edit.search, edit.replace);
    if (replaced === null) return { ok: false, problem: mismatch(edit, text) };
    files.set(edit.path, { before, after: replaced });
  }
  return { ok: true, files };
}

function replaceOnce(text: string, search: string, replace: string): string | null {
  const at = text.indexOf(search);
  if (at !== -1) return text.slice(0, at) + replace + text.slice(at + search.length);
  // Same lines but for trailing whitespace.
  const lines = text.split('\n');
  const want = search.replace(/\n$/, '').split('\n');
  const norm = (s: string) => s.trimEnd();
  for (let i = 0; i + want.length <= lines.length; i++) {
    if (want.every((line, k) => norm(lines[i + k]!) === norm(line))) {
      const head = lines.slice(0, i).join('\n');
      const tail = lines.slice(i + want.length).join('\n');
      return `${head}${i > 0 ? '\n' : ''}${replace}${tail}`;
    }
  }
  return null;
}

/** What did not match: the SEARCH text's first line, and where the file's closest line is. */
function mismatch(edit: SearchReplaceEdit, text: string): string {
  const first = edit.search.split('\n').find((line) => line.trim() !== '') ?? '';
  const lines = text.split('\n');
  const near = lines.findIndex((line) => line.trim() === first.trim());
  const where =
    near === -1
      ? `no line of ${edit.path} is like its first line ${JSON.stringify(first.trim())}`
      : `its first line is line ${near + 1} of ${edit.path}, but the lines after it differ: the file has\n${lines
          .slice(near, near + edit.search.split('\n').length)
          .join('\n')}`;
  return `the SEARCH block for ${edit.path} did not match the file exactly (${where}); copy the lines to replace exactly as they are in the file`;
}
