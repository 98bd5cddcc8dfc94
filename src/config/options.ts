// The table of every config option that can be set from the environment or a flag.
// It is typed against the config: adding an option without listing it here fails
// the type check, so no option ships without its flag and environment variable.
import type { ParsedConfig } from './schema.js';

/** How a string from a flag or the environment becomes a config value. */
export type OptionType =
  | 'string'
  | 'int'
  | 'number'
  | 'bool'
  | 'duration'
  | 'list'
  | 'backends'
  /** `key=value,key=value` into a mapping (routing.actions). */
  | 'map'
  /** A JSON value, for options made of objects (routing.aliases, cloud.providers). */
  | 'json';

type Leaves<T, Prefix extends string = ''> = {
  [K in keyof T & string]-?: NonNullable<T[K]> extends readonly unknown[]
    ? `${Prefix}${K}`
    : // A mapping keyed by names the user picks (routing.aliases) is one option, not a section.
      string extends keyof NonNullable<T[K]>
      ? `${Prefix}${K}`
      : NonNullable<T[K]> extends Record<string, unknown>
        ? Leaves<NonNullable<T[K]>, `${Prefix}${K}.`>
        : `${Prefix}${K}`;
}[keyof T & string];

/** Every settable option path, e.g. "gateway.port". */
export type OptionPath = Exclude<Leaves<ParsedConfig>, 'version'>;

export const OPTION_TYPES: Record<OptionPath, OptionType> = {
  'node.name': 'string',
  'node.dataDir': 'string',
  'peer.host': 'string',
  'peer.port': 'int',
  'peer.advertise': 'list',
  'peer.maxMessageBytes': 'int',
  'control.socket': 'string',
  'gateway.host': 'string',
  'gateway.port': 'int',
  'gateway.apiKeys': 'list',
  'discovery.mdns.enabled': 'bool',
  'discovery.mdns.interface': 'string',
  'discovery.mdns.bind': 'string',
  'discovery.mdns.includeVirtualInterfaces': 'bool',
  'discovery.peers': 'list',
  'membership.heartbeatInterval': 'duration',
  'membership.suspectAfter': 'duration',
  'membership.deadAfter': 'duration',
  'membership.rpcTimeout': 'duration',
  'membership.forgetAfter': 'duration',
  'backends.autoDetect': 'bool',
  'backends.probeInterval': 'duration',
  'backends.probeTimeout': 'duration',
  'backends.defaultMaxConcurrency': 'int',
  'backends.servers': 'backends',
  'facts.refreshInterval': 'duration',
  'facts.nvidiaSmi': 'string',
  'shutdown.drainGrace': 'duration',
  'gaming.autoPause.processes': 'list',
  'gaming.autoPause.vramThresholdMib': 'int',
  'gaming.autoPause.gpuUtilThresholdPct': 'number',
  'gaming.autoPause.ignore': 'list',
  'gaming.autoPause.quietPeriod': 'duration',
  'gaming.autoPause.checkInterval': 'duration',
  'log.level': 'string',
  'tasks.path': 'string',
  'tasks.retention': 'duration',
  'tasks.concurrency': 'number',
  'tasks.maxPending': 'number',
  'tasks.deadline': 'duration',
  'usage.enabled': 'bool',
  'usage.path': 'string',
  'usage.retention': 'duration',
  'usage.budgets.daily.warnUsd': 'number',
  'usage.budgets.daily.stopUsd': 'number',
  'usage.budgets.monthly.warnUsd': 'number',
  'usage.budgets.monthly.stopUsd': 'number',
  'routing.defaultPrivacy': 'string',
  'routing.aliases': 'json',
  'routing.tiers.fast': 'list',
  'routing.tiers.deep': 'list',
  'routing.tiers.reviewer': 'list',
  'routing.tiers.cloud': 'list',
  'routing.fallback': 'list',
  'routing.maxAttempts': 'int',
  'routing.queueSize': 'int',
  'routing.queueTimeout': 'duration',
  'routing.cooldownAfter': 'int',
  'routing.cooldown': 'duration',
  'routing.cooldownMax': 'duration',
  'routing.actions': 'map',
  'routing.keywords.simple': 'list',
  'routing.keywords.complex': 'list',
  'routing.qualityGate.enabled': 'bool',
  'routing.qualityGate.json': 'bool',
  'routing.qualityGate.empty': 'bool',
  'routing.qualityGate.truncated': 'bool',
  'routing.qualityGate.refusal': 'bool',
  'cloud.providers': 'json',
  'cloud.reference.model': 'string',
  'cloud.reference.inputPerMTok': 'number',
  'cloud.reference.outputPerMTok': 'number',
  'jobs.sandbox.mode': 'string',
  'jobs.sandbox.readOnly': 'list',
  'jobs.attemptsPerTier': 'int',
  'jobs.maxAttempts': 'int',
  'jobs.maxEditFailures': 'int',
  'jobs.maxFiles': 'int',
  'jobs.maxChangedLines': 'int',
  'jobs.stepTimeout': 'duration',
  'jobs.contextTokens': 'int',
  'jobs.escalation': 'list',
  'jobs.editFormats': 'map',
  'jobs.bestOfMix': 'list',
  'jobs.maxConcurrent': 'int',
};

/** Short flags people type often, mapped to the option they set. */
export const FLAG_ALIASES: Record<string, OptionPath> = {
  name: 'node.name',
  'data-dir': 'node.dataDir',
  port: 'peer.port',
  peer: 'discovery.peers',
  backend: 'backends.servers',
  socket: 'control.socket',
  'mdns-interface': 'discovery.mdns.interface',
  'log-level': 'log.level',
  // jobs.sandbox was a word before it had readOnly: --jobs.sandbox off still sets the mode.
  'jobs.sandbox': 'jobs.sandbox.mode',
};

/** Environment variables of options that moved, mapped to the option they set now. */
export const ENV_ALIASES: Record<string, OptionPath> = {
  SWARMD_JOBS__SANDBOX: 'jobs.sandbox.mode',
};

/** The environment variable for an option: SWARMD_ + upper snake case, `__` between levels. */
export function envNameFor(path: string): string {
  const parts = path.split('.').map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase());
  return `SWARMD_${parts.join('__')}`;
}

/** Convert raw text to the value an option takes; throws a message on bad text. */
export function convertOption(type: OptionType, raw: string): unknown {
  switch (type) {
    case 'string':
    case 'duration':
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) throw new Error('expected a whole number');
      return Number(raw.trim());
    }
    case 'number': {
      if (!/^-?\d+(\.\d+)?$/.test(raw.trim())) throw new Error('expected a number such as 5 or 2.50');
      return Number(raw.trim());
    }
    case 'bool': {
      const text = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(text)) return true;
      if (['false', '0', 'no', 'off'].includes(text)) return false;
      throw new Error('expected true or false');
    }
    case 'list':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0);
    case 'backends':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0)
        .map((url) => ({ url }));
    case 'map': {
      const entries = raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0)
        .map((item) => {
          const eq = item.indexOf('=');
          if (eq <= 0) throw new Error(`expected key=value pairs separated by commas, got "${item}"`);
          return [item.slice(0, eq).trim(), item.slice(eq + 1).trim()] as const;
        });
      return Object.fromEntries(entries);
    }
    case 'json':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        throw new Error('expected JSON in the shape the config file uses (a mapping or a list)');
      }
  }
}
