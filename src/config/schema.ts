// The config schema: every option, its default and what it is for. Durations are
// written "500ms", "30s", "2m" and parsed to milliseconds. Unknown keys are rejected.
import { z } from 'zod';
import { BACKEND_KINDS } from '../backends/types.js';
import { parseDuration } from '../util/duration.js';

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The config file format version this release writes and reads. */
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
      apiKeys: z.array(z.string().min(16, 'an API key must be at least 16 characters')).default([]),
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
  facts: z
    .strictObject({
      /** How often GPU, CPU and memory facts are refreshed. */
      refreshInterval: duration('5s'),
      /** The nvidia-smi executable (a name on PATH or a path). */
      nvidiaSmi: z.string().default('nvidia-smi'),
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
