// Build the effective config: defaults ← file ← environment ← flags, then validate.
// Every error names the option, the value received, where it came from, and what is allowed.
import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, ErrorCodes } from '../errors.js';
import {
  convertOption,
  ENV_ALIASES,
  envNameFor,
  FLAG_ALIASES,
  OPTION_TYPES,
  type OptionPath,
} from './options.js';
import { CONFIG_VERSION, configSchema, type ParsedConfig } from './schema.js';

/** The validated config with every derived default filled in, frozen. */
export type SwarmConfig = Readonly<
  ParsedConfig & {
    node: { name: string; dataDir: string };
    control: { socket: string };
    /** The file the config was read from, null when none was used. */
    configPath: string | null;
  }
>;

export interface LoadOptions {
  /** Flags as typed after the command (without node and script). */
  argv?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Where a config file is looked for when no --config / SWARMD_CONFIG is given. */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'swarmd', 'config.yaml');
}

/** Default data dir: ~/.local/state/swarmd (XDG_STATE_HOME honoured). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'swarmd');
}

type Source = { path: string; origin: string; raw: unknown };

/** Load, merge and validate the config; throws ConfigError with a precise message. */
export function loadConfig(options: LoadOptions = {}): SwarmConfig {
  const env = options.env ?? process.env;
  const flags = parseConfigFlags(options.argv ?? []);
  const explicitPath = flags.configPath ?? env.SWARMD_CONFIG;
  const configPath = explicitPath ?? defaultConfigPath(env);
  const sources: Source[] = [];

  const fileValues = readConfigFile(configPath, explicitPath !== undefined);
  const merged: Record<string, unknown> = fileValues ?? {};
  liftSandboxWord(merged);
  collectLeaves(merged, '', (path, raw) => sources.push({ path, origin: configPath, raw }));

  const envNames: [string, OptionPath][] = [
    ...Object.entries(ENV_ALIASES),
    ...(Object.keys(OPTION_TYPES) as OptionPath[]).map((path): [string, OptionPath] => [
      envNameFor(path),
      path,
    ]),
  ];
  for (const [name, path] of envNames) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = convertOrThrow(path, OPTION_TYPES[path], raw, `environment variable ${name}`);
    setPath(merged, path, value);
    sources.push({ path, origin: `environment variable ${name}`, raw });
  }
  for (const { path, value, flag, raw } of flags.values) {
    setPath(merged, path, value);
    sources.push({ path, origin: `flag --${flag}`, raw });
  }

  const result = configSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(describeIssues(result.error, sources));
  const parsed = result.data;
  const dataDir = parsed.node.dataDir ?? defaultDataDir(env);
  return deepFreeze({
    ...parsed,
    node: { name: parsed.node.name ?? hostname(), dataDir },
    control: { socket: parsed.control.socket ?? join(dataDir, 'control.sock') },
    configPath: fileValues === null ? null : configPath,
  });
}

function readConfigFile(path: string, required: boolean): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return null;
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, {
      code: ErrorCodes.CONFIG_UNREADABLE,
      cause: err,
    });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new ConfigError(`config file ${path} is not valid YAML: ${first.message}`, {
      code: ErrorCodes.CONFIG_PARSE,
    });
  }
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      `config file ${path} must be a mapping of options (key: value), got ${describe(value)}`,
      {
        code: ErrorCodes.CONFIG_PARSE,
      },
    );
  }
  // A key with nothing after it (`node:` whose options are all commented out) means "not set".
  dropNulls(value as Record<string, unknown>);
  const version = (value as Record<string, unknown>).version;
  if (typeof version === 'number' && version > CONFIG_VERSION) {
    throw new ConfigError(
      `config file ${path} has version: ${version}, written by a newer swarmd; this release reads version ${CONFIG_VERSION}. Upgrade swarmd or rewrite the file.`,
    );
  }
  return value as Record<string, unknown>;
}

export interface ParsedFlags {
  configPath: string | undefined;
  values: { path: OptionPath; value: unknown; flag: string; raw: string }[];
}

/**
 * Parse `--option value`, `--option=value`, dotted option paths (`--gateway.port 9000`),
 * the short aliases in FLAG_ALIASES, `--no-<bool option>` and `--no-mdns`.
 * List options repeat (`--peer a:1 --peer b:2`).
 */
export function parseConfigFlags(argv: string[]): ParsedFlags {
  const result: ParsedFlags = { configPath: undefined, values: [] };
  const lists = new Map<OptionPath, unknown[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      throw new ConfigError(
        `unexpected argument "${arg}": options are written --name value (see swarmd --help)`,
        {
          code: ErrorCodes.ARGS_INVALID,
        },
      );
    }
    const eq = arg.indexOf('=');
    let flag = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let raw: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (flag === 'config') {
      raw ??= argv[++i];
      if (raw === undefined)
        throw new ConfigError('--config needs a file path', { code: ErrorCodes.ARGS_INVALID });
      result.configPath = raw;
      continue;
    }
    let negated = false;
    if (flag === 'no-mdns') {
      flag = 'discovery.mdns.enabled';
      negated = true;
    } else if (flag.startsWith('no-') && raw === undefined) {
      const target = FLAG_ALIASES[flag.slice(3)] ?? flag.slice(3);
      if (OPTION_TYPES[target as OptionPath] === 'bool') {
        flag = flag.slice(3);
        negated = true;
      }
    }
    const path = (FLAG_ALIASES[flag] ?? flag) as OptionPath;
    const type = OPTION_TYPES[path];
    if (type === undefined) {
      throw new ConfigError(`unknown option --${flag}; run swarmd --help for the list of options`, {
        code: ErrorCodes.ARGS_INVALID,
      });
    }
    if (negated) raw = 'false';
    if (raw === undefined) {
      const next = argv[i + 1];
      if (type === 'bool' && (next === undefined || next.startsWith('--'))) raw = 'true';
      else if (next === undefined) {
        throw new ConfigError(`--${flag} needs a value`, { code: ErrorCodes.ARGS_INVALID });
      } else {
        raw = next;
        i++;
      }
    }
    const value = convertOrThrow(path, type, raw, `flag --${flag}`);
    if (type === 'list' || type === 'backends') {
      const list = lists.get(path) ?? [];
      list.push(...(value as unknown[]));
      lists.set(path, list);
      result.values = result.values.filter((entry) => entry.path !== path);
      result.values.push({ path, value: list, flag, raw });
    } else {
      result.values.push({ path, value, flag, raw });
    }
  }
  return result;
}

function convertOrThrow(
  path: string,
  type: Parameters<typeof convertOption>[0],
  raw: string,
  origin: string,
) {
  try {
    return convertOption(type, raw);
  } catch (err) {
    throw new ConfigError(`${path}: got ${JSON.stringify(raw)} from ${origin}: ${(err as Error).message}`);
  }
}

function describeIssues(error: z.ZodError, sources: Source[]): string {
  const lines = error.issues.slice(0, 10).map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
      return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${prefix}${k}"`).join(', ')} (check the spelling; see the configuration reference in the README)`;
    }
    const path = issue.path.join('.');
    const source = [...sources].reverse().find((s) => s.path === path || path.startsWith(`${s.path}.`));
    const got = source ? ` got ${describe(source.raw)} from ${source.origin}:` : '';
    return `${path || '(top level)'}:${got} ${issue.message}`;
  });
  return `invalid config: ${lines.join('; ')}`;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function collectLeaves(value: unknown, prefix: string, visit: (path: string, raw: unknown) => void) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value))
      collectLeaves(inner, prefix ? `${prefix}.${key}` : key, visit);
  } else if (prefix) visit(prefix, value);
}

/**
 * `jobs.sandbox: off` (the word, from before the section had readOnly) as `{ mode: off }`, so an
 * environment variable or flag for `jobs.sandbox.readOnly` adds to it instead of replacing it.
 */
function liftSandboxWord(file: Record<string, unknown>) {
  const jobs = file.jobs;
  if (!jobs || typeof jobs !== 'object' || Array.isArray(jobs)) return;
  const section = jobs as Record<string, unknown>;
  if (typeof section.sandbox === 'string') section.sandbox = { mode: section.sandbox };
}

function dropNulls(mapping: Record<string, unknown>) {
  for (const [key, inner] of Object.entries(mapping)) {
    if (inner === null) delete mapping[key];
    else if (typeof inner === 'object' && !Array.isArray(inner)) dropNulls(inner as Record<string, unknown>);
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown) {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (!next || typeof next !== 'object' || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
