// Secret detection in prompts: a prompt that carries credentials never leaves the LAN.
// Pure. The patterns below are the documented list (README "Privacy"); each is written so
// its work is linear in the prompt size (no nested quantifiers, token runs anchored at their
// first character, bounded lengths), so a 1 MB prompt is scanned in milliseconds.
//
// What counts as a placeholder, and is therefore NOT a secret, in assignments and .env lines:
// an empty value; a value of only `*`, `x`, `.`, `-`, `_` or `#`; a value wrapped in `<…>`,
// `{…}`, `[…]` or `%(…)s`; a reference to another variable (`$VAR`, `${VAR}`); the words
// changeme, change-me, placeholder, example, redacted, secret, password, token, null, none,
// undefined, todo, true, false and anything starting with `your` (`your-api-key`); and in
// .env lines a bare number. Everything else is treated as a secret: a false alarm only keeps
// a request on the LAN, a miss would send a credential to a cloud provider.

/** One kind of secret and how it is recognised. */
export interface SecretPattern {
  /** Stable name, shown in `x-swarm-privacy-reason` (never the secret itself). */
  kind: string;
  /** What it matches, for people. */
  description: string;
  /** Global regex; capture group `value` (when present) is checked against the placeholders. */
  regex: RegExp;
}

/** One secret found: its kind and where it starts in the scanned text. */
export interface SecretFinding {
  kind: string;
  index: number;
}

// Characters of base64url-ish tokens; a token match must start where such a run starts.
const RUN = 'A-Za-z0-9_\\-';

/** The documented list of secrets swarmd looks for, most specific first. */
export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    kind: 'private-key',
    description: 'PEM private key block (-----BEGIN RSA/EC/DSA/OPENSSH/ENCRYPTED/PGP PRIVATE KEY-----)',
    regex: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----/g,
  },
  {
    kind: 'aws-access-key',
    description: 'AWS access key id (AKIA… or ASIA… and 16 more capitals or digits)',
    regex: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
  },
  {
    kind: 'github-token',
    description: 'GitHub token (ghp_, gho_, ghu_, ghs_, ghr_ and 36+ characters, or github_pat_…)',
    regex: new RegExp(`(?<![${RUN}])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})`, 'g'),
  },
  {
    kind: 'anthropic-api-key',
    description: 'Anthropic API key (sk-ant-…)',
    regex: new RegExp(`(?<![${RUN}])sk-ant-[${RUN}]{20,}`, 'g'),
  },
  {
    kind: 'openai-api-key',
    description:
      'OpenAI-style secret key (sk-…, sk-proj-…, 20+ characters; also used by OpenRouter, DeepSeek…)',
    regex: new RegExp(`(?<![${RUN}])sk-[${RUN}]{20,}`, 'g'),
  },
  {
    kind: 'slack-token',
    description: 'Slack token (xoxb-, xoxp-, xoxa-, xoxo-, xoxs-, xoxr- and 10+ characters)',
    regex: /(?<![A-Za-z0-9_-])xox[abposr]-[A-Za-z0-9-]{10,}/g,
  },
  {
    kind: 'google-api-key',
    description: 'Google API key (AIza and 35 more characters)',
    regex: new RegExp(`(?<![${RUN}])AIza[${RUN}]{35}(?![${RUN}])`, 'g'),
  },
  {
    kind: 'jwt',
    description: 'JSON Web Token (three base64url parts, the first two starting eyJ)',
    regex: new RegExp(`(?<![${RUN}.])eyJ[${RUN}]{8,}\\.eyJ[${RUN}]{8,}\\.[${RUN}]{8,}`, 'g'),
  },
  {
    kind: 'url-credentials',
    description: 'password in a URL (scheme://user:password@host)',
    regex: /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@'"]{1,128}:(?<value>[^\s:/@'"]{1,128})@/gi,
  },
  {
    kind: 'secret-assignment',
    description:
      'a quoted value assigned to a name ending in password, passwd, pwd, secret, token, api_key/apikey, access_key or private_key (= : := =>, code, JSON, YAML, TOML)',
    regex:
      /(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)["']?[ \t]{0,10}(?::=|=>|=|:)[ \t]{0,10}(?<quote>["'`])(?<value>(?:(?!\k<quote>)[^\r\n]){1,256})\k<quote>/gi,
  },
  {
    kind: 'env-secret',
    description:
      '.env-style line NAME=value whose UPPER_SNAKE name has a KEY, SECRET, TOKEN, PASSWORD, PASSWD, PWD or CREDENTIALS part',
    // The name must hold a keyword (checked by part below) and the value must not be a bare number.
    regex:
      /^[ \t]*(?:export[ \t]+)?(?<name>(?=[A-Z0-9_]{0,127}?(?:KEY|SECRET|TOKEN|PASSW(?:OR)?D|PWD|CREDENTIALS))[A-Z][A-Z0-9_]{0,127})=(?!-?\d+(?:\.\d+)?[ \t]*(?:#|$))(?<value>[^\r\n]{1,1024})/gm,
  },
];

const ENV_NAME_PARTS = new Set([
  'KEY',
  'APIKEY',
  'SECRET',
  'TOKEN',
  'PASSWORD',
  'PASSWD',
  'PWD',
  'CREDENTIALS',
]);

const PLACEHOLDER_WORDS = new Set([
  'changeme',
  'change-me',
  'change_me',
  'placeholder',
  'example',
  'redacted',
  'secret',
  'password',
  'token',
  'null',
  'none',
  'nil',
  'undefined',
  'todo',
  'true',
  'false',
]);

/** True for values that stand for a secret without being one (see the list at the top). */
export function isPlaceholder(raw: string): boolean {
  let value = raw.trim();
  if (value.length >= 2 && /^["'`]/.test(value) && value.endsWith(value[0]!))
    value = value.slice(1, -1).trim();
  if (value === '') return true;
  if (/^[*x.\-_#]+$/i.test(value)) return true;
  if (/^<.*>$|^\{.*\}$|^\[.*\]$|^%\(.*\)s$/.test(value)) return true;
  if (/^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(value)) return true;
  const lower = value.toLowerCase();
  return PLACEHOLDER_WORDS.has(lower) || lower.startsWith('your');
}

const MAX_FINDINGS = 64;

/** Every secret in `text` (at most 64, by position, overlaps reported once); empty when there is none. */
export function findSecrets(text: string): SecretFinding[] {
  const found: (SecretFinding & { end: number })[] = [];
  for (const pattern of SECRET_PATTERNS) {
    for (const match of text.matchAll(pattern.regex)) {
      if (found.length >= MAX_FINDINGS) break;
      const end = match.index + match[0].length;
      if (found.some((f) => match.index < f.end && f.index < end)) continue;
      if (!accept(pattern.kind, match.groups)) continue;
      found.push({ kind: pattern.kind, index: match.index, end });
    }
  }
  return found.sort((a, b) => a.index - b.index).map(({ kind, index }) => ({ kind, index }));
}

function accept(kind: string, groups: Record<string, string | undefined> | undefined): boolean {
  const value = groups?.['value'];
  if (kind === 'env-secret') {
    const name = groups?.['name'] ?? '';
    if (!name.split('_').some((part) => ENV_NAME_PARTS.has(part))) return false;
    return !isPlaceholder((value ?? '').replace(/\s+#.*$/, ''));
  }
  return value === undefined || !isPlaceholder(value);
}

/** Every string a request sends to a model: message text and parts, tool call arguments, prompt, input. */
export function requestText(body: Record<string, unknown>): string {
  const parts: string[] = [];
  const messages = body['messages'];
  if (Array.isArray(messages)) {
    for (const message of messages) {
      if (!isObject(message)) continue;
      collectContent(message['content'], parts);
      const toolCalls = message['tool_calls'];
      if (Array.isArray(toolCalls)) {
        for (const call of toolCalls) {
          if (isObject(call) && isObject(call['function']))
            pushArguments(call['function']['arguments'], parts);
        }
      }
      if (isObject(message['function_call'])) pushArguments(message['function_call']['arguments'], parts);
    }
  }
  for (const key of ['prompt', 'suffix', 'input', 'instructions']) collectContent(body[key], parts);
  return parts.join('\n');
}

function collectContent(value: unknown, parts: string[]): void {
  if (typeof value === 'string') {
    parts.push(value);
    return;
  }
  if (!Array.isArray(value)) return;
  for (const item of value) {
    if (typeof item === 'string') parts.push(item);
    else if (isObject(item)) {
      // Content parts: {type:'text', text}; images and audio are not text and are skipped.
      pushString(item['text'], parts);
      if (item['content'] !== undefined) collectContent(item['content'], parts);
    }
  }
}

// Tool arguments are JSON text: their strings are scanned unescaped too, so a `\n` inside
// them still starts a line for the .env pattern.
function pushArguments(value: unknown, parts: string[]): void {
  if (typeof value !== 'string') return;
  parts.push(value);
  if (!value.includes('\\')) return;
  try {
    collectStrings(JSON.parse(value) as unknown, parts, 0);
  } catch {
    // Not JSON (a model wrote something else): the raw text above is what is scanned.
  }
}

function collectStrings(value: unknown, parts: string[], depth: number): void {
  if (typeof value === 'string') parts.push(value);
  else if (depth < 32 && value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) collectStrings(inner, parts, depth + 1);
  }
}

function pushString(value: unknown, parts: string[]): void {
  if (typeof value === 'string') parts.push(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
