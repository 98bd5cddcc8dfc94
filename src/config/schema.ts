// The config schema: every option, its default and what it is for. Durations are
// written "500ms", "30s", "2m" and parsed to milliseconds. Unknown keys are rejected.
import { z } from 'zod';
import { BACKEND_KINDS } from '../backends/types.js';
import { TIERS } from '../inference/types.js';
import { parseDuration } from '../util/duration.js';

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** TimeoutStopSec of systemd/swarmd.service: systemd kills swarmd this long after SIGTERM. */
export const SYSTEMD_STOP_TIMEOUT_MS = 45_000;
/** Time kept after the drain grace for handing back, saying goodbye and closing. */
export const SHUTDOWN_MARGIN_MS = 5_000;

/** Process names of model servers, never taken for a game by gaming.autoPause. */
export const DEFAULT_GAMING_IGNORE = [
  'ollama',
  'ollama_llama_server',
  'llama-server',
  'llama-swap',
  'vllm',
  'lms',
  'LM Studio',
  'lm-studio',
] as const;

/** The config file format version this release writes and reads. */
/**
 * Toolchain caches and tools in the home directory that verification may read (never write)
 * inside the sandbox; `~/` is the daemon's home. Entries that do not exist are skipped.
 */
export const DEFAULT_SANDBOX_READ_ONLY = [
  '~/.cargo',
  '~/.rustup',
  '~/go/pkg/mod',
  '~/.npm',
  '~/.nvm',
  '~/.cache/pip',
  '~/.local/bin',
  '~/.local/lib',
] as const;

export const CONFIG_VERSION = 1;

const duration = (fallback: string) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === null) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration such as 500ms, 30s or 2m' });
        return z.NEVER;
      }
      return ms;
    });

const bool = (fallback: boolean) => z.boolean().default(fallback);

/** Shortest usage retention that still covers a whole month for the monthly budget. */
export const MIN_USAGE_RETENTION_MS = 31 * 86_400_000;

const usd = z.number().min(0, 'expected an amount in US dollars, 0 or more').nullable().default(null);

const budgetLevels = z
  .strictObject({
    /** Cloud spend in USD at which a warning is logged and reported; null: never. */
    warnUsd: usd,
    /** Cloud spend in USD past which cloud providers are skipped; null: never. */
    stopUsd: usd,
  })
  .prefault({})
  .refine((b) => b.warnUsd === null || b.stopUsd === null || b.stopUsd >= b.warnUsd, {
    message: 'stopUsd must be at least warnUsd (the warning comes before the stop)',
    path: ['stopUsd'],
  });

const port = (fallback: number) =>
  z
    .number()
    .int()
    .min(0, 'expected a port from 0 to 65535')
    .max(65535, 'expected a port from 0 to 65535')
    .default(fallback);

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port (IPv6 as [addr]:port)');

const backendServer = z.strictObject({
  /** Base URL of the server, e.g. http://127.0.0.1:11434 (no /v1). */
  url: z.url({ message: 'expected a URL such as http://127.0.0.1:11434' }),
  /** Which adapter speaks to it; `auto` tells from the server's answers. */
  kind: z.enum(['auto', ...BACKEND_KINDS]).default('auto'),
  /** Name of an environment variable holding the server's API key, if it wants one. */
  apiKeyEnv: z.string().optional(),
  /** Requests each model may run at once on this server (overrides what the server says). */
  maxConcurrency: z.number().int().positive().optional(),
  /** Per-model overrides, by model id. */
  models: z.record(z.string(), z.strictObject({ maxConcurrency: z.number().int().positive() })).prefault({}),
});

// ---- routing and cloud (see src/scheduling/) ----

const privacyLevel = z.enum(['local', 'lan', 'cloud'], { message: 'expected local, lan or cloud' });

const keyText = z.string().min(16, 'an API key must be at least 16 characters');

/** A gateway API key: the key alone, or {key, privacy} to give its requests a privacy level. */
const apiKey = z
  .union([keyText, z.strictObject({ key: keyText, privacy: privacyLevel.optional() })])
  .transform((entry) =>
    typeof entry === 'string'
      ? { key: entry, privacy: null }
      : { key: entry.key, privacy: entry.privacy ?? null },
  );
const tierName = z.enum(['fast', 'deep', 'reviewer', 'cloud'], {
  message: `expected a tier: ${TIERS.join(', ')}`,
});
const complexity = z.enum(['simple', 'moderate', 'complex'], {
  message: 'expected simple, moderate or complex',
});
const modelIds = z.array(z.string().min(1, 'expected a model id')).default([]);

/** Names a request may use that are never aliases: the tiers and `auto`. */
export const RESERVED_MODEL_NAMES: readonly string[] = [...TIERS, 'auto'];

/** What `auto` makes of common action types (`x-swarm-action` / `metadata.action`). */
export const DEFAULT_ACTIONS: Readonly<Record<string, 'simple' | 'moderate' | 'complex'>> = {
  complete: 'simple',
  explain: 'simple',
  summarize: 'simple',
  translate: 'simple',
  commit: 'simple',
  chat: 'moderate',
  edit: 'moderate',
  fix: 'moderate',
  test: 'moderate',
  review: 'moderate',
  refactor: 'complex',
  architect: 'complex',
  plan: 'complex',
  debug: 'complex',
};

/** Words in the last user message that make `auto` lean simple or complex. */
export const DEFAULT_KEYWORDS = {
  simple: [
    'summarize',
    'summarise',
    'summary',
    'translate',
    'rephrase',
    'reword',
    'tl;dr',
    'spell-check',
    'typo',
  ],
  complex: [
    'refactor',
    'architecture',
    'architect',
    'design',
    'prove',
    'proof',
    'optimize',
    'optimise',
    'debug',
    'migrate',
    'concurrency',
    'race condition',
    'security review',
    'step by step',
  ],
} as const;

const alias = z.strictObject({
  /** Concrete models, in preference order. */
  models: z.array(z.string().min(1, 'expected a model id')).min(1, 'an alias needs at least one model'),
  /** Privacy for requests that name this alias (the x-swarm-privacy header still wins). */
  privacy: privacyLevel.optional(),
});

const price = z.strictObject({
  /** USD per million prompt tokens. */
  inputPerMTok: z.number().min(0, 'expected USD per million tokens, 0 or more'),
  /** USD per million completion tokens. */
  outputPerMTok: z.number().min(0, 'expected USD per million tokens, 0 or more'),
});

/** Base URL and key variable of the cloud providers swarmd knows by name (OpenAI-compatible endpoints). */
export const CLOUD_PROVIDER_PRESETS: Readonly<Record<string, { baseUrl: string; apiKeyEnv: string }>> = {
  openai: { baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY' },
  openrouter: { baseUrl: 'https://openrouter.ai/api/v1', apiKeyEnv: 'OPENROUTER_API_KEY' },
  groq: { baseUrl: 'https://api.groq.com/openai/v1', apiKeyEnv: 'GROQ_API_KEY' },
  anthropic: { baseUrl: 'https://api.anthropic.com/v1', apiKeyEnv: 'ANTHROPIC_API_KEY' },
  gemini: { baseUrl: 'https://generativelanguage.googleapis.com/v1beta/openai', apiKeyEnv: 'GEMINI_API_KEY' },
};

const cloudProvider = z
  .strictObject({
    /** Name in logs, headers and the usage ledger; a known name (openai, groq...) fills baseUrl and apiKeyEnv. */
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'expected a short lowercase name such as openai or groq'),
    /** OpenAI-compatible base URL including its version path, e.g. https://api.openai.com/v1. */
    baseUrl: z.url({ message: 'expected a URL such as https://api.openai.com/v1' }).optional(),
    /** Environment variable holding the API key (never the key itself). */
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name such as OPENAI_API_KEY')
      .optional(),
    /** Models this provider may serve, by the id it expects. */
    models: z
      .array(z.string().min(1, 'expected a model id'))
      .min(1, 'a cloud provider needs at least one model'),
    /** USD per million tokens, by model id (used for cost and budgets). */
    prices: z.record(z.string(), price).default({}),
  })
  .transform((provider, ctx) => {
    const preset = CLOUD_PROVIDER_PRESETS[provider.name];
    const baseUrl = (provider.baseUrl ?? preset?.baseUrl)?.replace(/\/+$/, '');
    if (baseUrl === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['baseUrl'],
        message: `provider "${provider.name}" needs a baseUrl (swarmd knows ${Object.keys(CLOUD_PROVIDER_PRESETS).join(', ')} by name)`,
      });
      return z.NEVER;
    }
    return { ...provider, baseUrl, apiKeyEnv: provider.apiKeyEnv ?? preset?.apiKeyEnv ?? null };
  });

export const configSchema = z.strictObject({
  /** Config format version, so later releases can migrate old files. */
  version: z
    .literal(CONFIG_VERSION, {
      message: `expected ${CONFIG_VERSION} (this release reads version ${CONFIG_VERSION})`,
    })
    .default(CONFIG_VERSION),
  node: z
    .strictObject({
      /** Name shown to people; defaults to the hostname. */
      name: z.string().min(1).max(63).optional(),
      /** Where the node id, control socket and state live. */
      dataDir: z.string().min(1).optional(),
    })
    .prefault({}),
  peer: z
    .strictObject({
      /** Address the peer gRPC server listens on. */
      host: z.string().default('0.0.0.0'),
      /** Peer gRPC port. */
      port: port(8766),
      /** Endpoints to advertise instead of every usable interface address (host:port). */
      advertise: z.array(hostPort).default([]),
      /** Largest gRPC message accepted or sent, in bytes (room for requests with images). */
      maxMessageBytes: z
        .number()
        .int()
        .min(65_536)
        .max(1_073_741_824)
        .default(64 * 1024 * 1024),
    })
    .prefault({}),
  control: z
    .strictObject({
      /** Unix socket swarmctl talks to; defaults to <dataDir>/control.sock. */
      socket: z.string().optional(),
    })
    .prefault({}),
  gateway: z
    .strictObject({
      /** Address of the OpenAI-compatible endpoint (loopback unless API keys are set). */
      host: z.string().default('127.0.0.1'),
      /** Port of the OpenAI-compatible endpoint. */
      port: port(8765),
      /** API keys clients must send (Authorization: Bearer); required to listen beyond loopback. */
      apiKeys: z.array(apiKey).default([]),
    })
    .prefault({})
    .refine((gateway) => isLoopback(gateway.host) || gateway.apiKeys.length > 0, {
      message:
        'listening beyond loopback needs at least one API key in gateway.apiKeys (clients send it as Authorization: Bearer <key>); or keep host 127.0.0.1',
      path: ['host'],
    }),
  discovery: z
    .strictObject({
      mdns: z
        .strictObject({
          /** Advertise and browse with mDNS. Off: only static peers are found. */
          enabled: bool(true),
          /** Interface address multicast goes out of (e.g. 127.0.0.1 for local testing); all when unset. */
          interface: z.string().optional(),
          /** Address the mDNS socket binds (e.g. 0.0.0.0); library default when unset. */
          bind: z.string().optional(),
          /** Also advertise addresses of docker/veth/bridge interfaces. */
          includeVirtualInterfaces: bool(false),
        })
        .prefault({}),
      /** Peers to dial directly (host:port), for networks where multicast does not pass. */
      peers: z.array(hostPort).default([]),
    })
    .prefault({}),
  membership: z
    .strictObject({
      /** How often each node heartbeats each peer. */
      heartbeatInterval: duration('1s'),
      /** Silence after which a peer is suspect. */
      suspectAfter: duration('1.5s'),
      /** Silence after which a peer is dead. */
      deadAfter: duration('3s'),
      /** Deadline of one peer RPC (heartbeat, register). */
      rpcTimeout: duration('1s'),
      /** How long dead or left peers stay listed before they are forgotten. */
      forgetAfter: duration('10m'),
    })
    .prefault({})
    .refine((m) => m.suspectAfter > m.heartbeatInterval, {
      message: 'suspectAfter must be longer than heartbeatInterval',
      path: ['suspectAfter'],
    })
    .refine((m) => m.deadAfter > m.suspectAfter, {
      message: 'deadAfter must be longer than suspectAfter',
      path: ['deadAfter'],
    }),
  backends: z
    .strictObject({
      /** Probe the default local ports (11434, 8080, 8000, 1234) for known servers. */
      autoDetect: bool(true),
      /** How often every backend is probed (a backend that goes down shows within one period). */
      probeInterval: duration('5s'),
      /** Deadline of one probe request. */
      probeTimeout: duration('2s'),
      /** Per-model concurrency when neither config nor the server says. */
      defaultMaxConcurrency: z.number().int().positive().default(4),
      /** Servers to use besides the auto-detected ones. */
      servers: z.array(backendServer).default([]),
    })
    .prefault({}),
  routing: z
    .strictObject({
      /** Privacy of a request that neither a header, its alias nor its API key sets. */
      defaultPrivacy: privacyLevel.default('lan'),
      /** Names clients may send as `model`, each a list of concrete models in preference order. */
      aliases: z.record(z.string().min(1), alias).default({}),
      /** Concrete models of each tier, in preference order; an empty tier means every model the swarm has. */
      tiers: z
        .strictObject({ fast: modelIds, deep: modelIds, reviewer: modelIds, cloud: modelIds })
        .prefault({}),
      /** Tiers tried, in order, after the requested alias, tier or auto has failed (never for a concrete model id). */
      fallback: z
        .array(tierName)
        .default(['fast', 'deep', 'cloud'])
        .refine((tiers) => new Set(tiers).size === tiers.length, 'a tier may appear only once'),
      /** Attempts per request, fallbacks and quality-gate escalations included. */
      maxAttempts: z.number().int().min(1).max(20).default(3),
      /** Requests that may wait at this coordinator while every slot in the swarm is busy. */
      queueSize: z.number().int().min(0).max(100_000).default(256),
      /** How long a queued request waits for a slot before it is answered 429. */
      queueTimeout: duration('30s'),
      /** Consecutive failures after which a node or backend cools down. */
      cooldownAfter: z.number().int().min(1).default(3),
      /** First cooldown; it doubles on each further failure up to cooldownMax, and resets on success. */
      cooldown: duration('30s'),
      /** Longest cooldown. */
      cooldownMax: duration('5m'),
      /** Complexity `auto` gives each action type, overriding its own judgement. */
      actions: z.record(z.string().min(1), complexity).default({ ...DEFAULT_ACTIONS }),
      /** Words or phrases in the last user message that make `auto` lean simple or complex. */
      keywords: z
        .strictObject({
          simple: z.array(z.string().min(1)).default([...DEFAULT_KEYWORDS.simple]),
          complex: z.array(z.string().min(1)).default([...DEFAULT_KEYWORDS.complex]),
        })
        .prefault({}),
      /** Checks a non-streamed reply of a model swarmd chose (auto, tier, alias) passes; a failure escalates. */
      qualityGate: z
        .strictObject({
          enabled: bool(true),
          /** JSON was asked for (response_format): the reply must parse. */
          json: bool(true),
          /** No text and no tool call. */
          empty: bool(true),
          /** finish_reason "length". */
          truncated: bool(true),
          /** The reply opens with a refusal ("I can't help with that"). */
          refusal: bool(true),
        })
        .prefault({}),
    })
    .prefault({})
    .superRefine((routing, ctx) => {
      for (const name of Object.keys(routing.aliases)) {
        if (RESERVED_MODEL_NAMES.includes(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['aliases', name],
            message: `"${name}" is a tier or auto and cannot be an alias; pick another name`,
          });
        }
      }
      if (routing.cooldownMax < routing.cooldown) {
        ctx.addIssue({
          code: 'custom',
          path: ['cooldownMax'],
          message: 'cooldownMax must be at least cooldown',
        });
      }
    }),
  cloud: z
    .strictObject({
      /** OpenAI-compatible cloud APIs, used only when privacy and budget allow; none: fully offline. */
      providers: z.array(cloudProvider).default([]),
      /** The cloud model every request's cost is compared with (savings); null: no comparison. */
      reference: z
        .strictObject({ model: z.string().min(1), ...price.shape })
        .nullable()
        .default(null),
    })
    .prefault({})
    .superRefine((cloud, ctx) => {
      const seen = new Set<string>();
      cloud.providers.forEach((provider, index) => {
        if (seen.has(provider.name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['providers', index, 'name'],
            message: `provider name "${provider.name}" is used twice; names must be unique`,
          });
        }
        seen.add(provider.name);
      });
    }),
  facts: z
    .strictObject({
      /** How often GPU, CPU and memory facts are refreshed. */
      refreshInterval: duration('5s'),
      /** The nvidia-smi executable (a name on PATH or a path). */
      nvidiaSmi: z.string().default('nvidia-smi'),
    })
    .prefault({}),
  usage: z
    .strictObject({
      /** Record every request in the usage ledger (SQLite); budgets need it. */
      enabled: bool(true),
      /** The ledger file; defaults to <dataDir>/usage.sqlite. */
      path: z.string().min(1).nullable().default(null),
      /** How long ledger rows are kept; 0 keeps them forever. */
      retention: duration('90d'),
      /** Cloud spend limits of this node, per local calendar day and month. */
      budgets: z.strictObject({ daily: budgetLevels, monthly: budgetLevels }).prefault({}),
    })
    .prefault({})
    .refine((u) => u.retention === 0 || u.retention >= MIN_USAGE_RETENTION_MS, {
      message:
        'retention must be 0 (keep forever) or at least 31d, so the monthly budget sees the whole month',
      path: ['retention'],
    })
    .refine(
      (u) =>
        u.enabled ||
        [u.budgets.daily, u.budgets.monthly].every((b) => b.warnUsd === null && b.stopUsd === null),
      {
        message: 'budgets are counted from the usage ledger: set usage.enabled to true or remove the budgets',
        path: ['budgets'],
      },
    ),
  tasks: z
    .strictObject({
      /** The task journal (SQLite); defaults to <dataDir>/tasks.sqlite. */
      path: z.string().min(1).nullable().default(null),
      /** How long finished tasks (and async results) are kept. */
      retention: duration('24h'),
      /** Async tasks run at once; the rest wait in order. */
      concurrency: z.number().int().min(1).max(1000).default(8),
      /** Async tasks accepted and not finished, at most; more get 429. */
      maxPending: z.number().int().min(1).max(1_000_000).default(10_000),
      /** How long an async task keeps waiting for capacity before it fails. */
      deadline: duration('1h'),
    })
    .prefault({}),
  shutdown: z
    .strictObject({
      /**
       * On SIGTERM (systemctl stop), how long in-flight work may run before what is left is handed
       * back to its coordinators. Must stay below the unit's TimeoutStopSec (45 s).
       */
      drainGrace: duration('20s'),
    })
    .prefault({})
    .refine((s) => s.drainGrace < SYSTEMD_STOP_TIMEOUT_MS - SHUTDOWN_MARGIN_MS, {
      message: `drainGrace must be shorter than ${(SYSTEMD_STOP_TIMEOUT_MS - SHUTDOWN_MARGIN_MS) / 1000}s: the systemd unit kills swarmd ${SYSTEMD_STOP_TIMEOUT_MS / 1000}s after SIGTERM (TimeoutStopSec) and leaving takes a few seconds more`,
      path: ['drainGrace'],
    }),
  gaming: z
    .strictObject({
      autoPause: z
        .strictObject({
          /** Pause while a process of one of these names runs (/proc/<pid>/comm or argv[0]). Empty: off. */
          processes: z.array(z.string().min(1)).default([]),
          /** Pause while graphics processes (nvidia-smi type G / C+G) not in ignore use this much VRAM in MiB. 0: off. */
          vramThresholdMib: z.number().int().min(0, 'expected MiB, 0 (off) or more').default(0),
          /** Pause while GPU use reaches this percent, judged only while this node runs no work. 0: off. */
          gpuUtilThresholdPct: z
            .number()
            .min(0, 'expected a percent from 0 (off) to 100')
            .max(100, 'expected a percent from 0 (off) to 100')
            .default(0),
          /** Process names that are never a game: our own backends. */
          ignore: z.array(z.string().min(1)).default([...DEFAULT_GAMING_IGNORE]),
          /** How long the box must look idle again before the node resumes by itself. */
          quietPeriod: duration('2m'),
          /** How often processes and the GPU are checked. */
          checkInterval: duration('5s'),
        })
        .prefault({})
        .refine((g) => g.checkInterval >= 100, {
          message: 'checkInterval must be at least 100ms',
          path: ['checkInterval'],
        }),
    })
    .prefault({}),
  jobs: z
    .strictObject({
      sandbox: z
        .preprocess(
          // Before readOnly existed this was a word (jobs.sandbox: off); it still is the mode.
          (value) => (typeof value === 'string' ? { mode: value } : value),
          z.strictObject({
            /** auto: verification runs in bubblewrap, and is refused where bubblewrap cannot run; off: no sandbox. */
            mode: z
              .enum(['auto', 'off'], {
                message: 'expected auto (bubblewrap, verification refused without it) or off (no sandbox)',
              })
              .default('auto'),
            /** Paths verification may read (never write) inside the sandbox: toolchain caches. */
            readOnly: z
              .array(
                z.string().refine((path) => path.startsWith('/') || path.startsWith('~/'), {
                  message: 'expected an absolute path or one starting with ~/',
                }),
              )
              .default([...DEFAULT_SANDBOX_READ_ONLY]),
          }),
        )
        .prefault({}),
      /** Failed attempts on one tier before the job escalates to the next. */
      attemptsPerTier: z.number().int().min(1).max(10).default(2),
      /** Verified attempts in all before the job stops and reports. */
      maxAttempts: z.number().int().min(1).max(20).default(3),
      /** Edits that did not apply or were refused before the job stops (counted apart from attempts). */
      maxEditFailures: z.number().int().min(1).max(20).default(4),
      /** Files one attempt may change. */
      maxFiles: z.number().int().min(1).max(100).default(3),
      /** Lines one attempt may add or remove. */
      maxChangedLines: z.number().int().min(1).max(100_000).default(200),
      /** Deadline of each verification step. */
      stepTimeout: duration('5m'),
      /** Tokens of repository files put in a prompt (about 4 characters each). */
      contextTokens: z.number().int().min(500).max(1_000_000).default(12_000),
      /** Tiers a job climbs, in order; cloud only when the job's privacy is cloud. */
      escalation: z
        .array(tierName)
        .min(1)
        .default(['fast', 'deep', 'cloud'])
        .refine((tiers) => new Set(tiers).size === tiers.length, 'a tier may appear only once'),
      /** Edit format by model id or tier (whole | search-replace); unlisted: fast whole, others search-replace. */
      editFormats: z
        .record(
          z.string().min(1),
          z.enum(['whole', 'search-replace'], { message: 'expected whole or search-replace' }),
        )
        .default({}),
      /** Tiers of the proposals of --best-of, repeated as needed. */
      bestOfMix: z.array(tierName).min(1).default(['fast', 'fast', 'deep']),
      /** Plan subtasks run at once when the plan does not say. */
      maxConcurrent: z.number().int().min(1).max(16).default(2),
    })
    .prefault({}),
  log: z
    .strictObject({
      /** pino level: trace, debug, info, warn, error, fatal or silent. */
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    })
    .prefault({}),
});

/** Config as written by a person (before defaults). */
export type ConfigInput = z.input<typeof configSchema>;
/** Config after validation, with every default applied (durations in ms). */
export type ParsedConfig = z.output<typeof configSchema>;
export type BackendServerConfig = z.output<typeof backendServer>;
/** The routing section after validation (aliases, tiers, fallback, cooldown, auto, quality gate). */
export type RoutingConfig = z.output<typeof configSchema>['routing'];
/** One cloud provider after validation (baseUrl and apiKeyEnv filled from presets). */
export type CloudProviderConfig = z.output<typeof cloudProvider>;
/** The cloud section after validation. */
export type CloudConfig = z.output<typeof configSchema>['cloud'];
