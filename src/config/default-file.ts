// The commented default config file install.sh writes to ~/.config/swarmd/config.yaml.
// Values come from the schema's own defaults, comments from the table below; the table is
// typed against OptionPath, so an option added to the schema can't be left out of the file.
import { stringify } from 'yaml';
import { BACKEND_KINDS } from '../backends/types.js';
import { formatDuration } from '../util/duration.js';
import { envNameFor, OPTION_TYPES, type OptionPath } from './options.js';
import { CONFIG_VERSION, configSchema } from './schema.js';

interface OptionDoc {
  /** What the option is, as a short sentence without the final period. */
  what: string;
  /** The values it accepts. */
  allowed: string;
  /** Options with no fixed default are written commented out with this example value. */
  unset?: { example: string; means: string };
}

const DURATION = 'a duration (500ms, 30s, 2m, 1h)';

const OPTION_DOCS: Record<OptionPath, OptionDoc> = {
  'node.name': {
    what: 'Name shown to people in swarmctl and to peers',
    allowed: '1 to 63 characters',
    unset: { example: 'my-box', means: 'the hostname' },
  },
  'node.dataDir': {
    what: 'Where the node id, control socket and state live',
    allowed: 'a directory path',
    unset: { example: '/srv/swarmd', means: '$XDG_STATE_HOME/swarmd, else ~/.local/state/swarmd' },
  },
  'peer.host': {
    what: 'Address the peer gRPC server listens on',
    allowed: 'an IP address; 0.0.0.0 is every IPv4 interface, :: every interface',
  },
  'peer.port': { what: 'Port other swarmd nodes dial', allowed: '0 to 65535' },
  'peer.advertise': {
    what: 'Endpoints peers should dial instead of every usable interface address',
    allowed: 'a list of host:port, IPv6 as [addr]:port, e.g. [192.168.1.20:8766]',
  },
  'peer.maxMessageBytes': {
    what: 'Largest gRPC message sent or accepted, in bytes (64 MiB leaves room for images)',
    allowed: '65536 to 1073741824',
  },
  'control.socket': {
    what: 'Unix socket swarmctl talks to (mode 0600, never on the network)',
    allowed: 'a file path',
    unset: { example: '/srv/swarmd/control.sock', means: '<dataDir>/control.sock' },
  },
  'gateway.host': {
    what: 'Address of the OpenAI-compatible endpoint',
    allowed: 'an IP address; keep 127.0.0.1 unless API keys are set',
  },
  'gateway.port': { what: 'Port of the OpenAI-compatible endpoint (.../v1)', allowed: '0 to 65535' },
  'gateway.apiKeys': {
    what: 'API keys clients must send as Authorization: Bearer <key>; required when host is not loopback',
    allowed: 'a list of strings of 16 or more characters; keep this file private (chmod 600)',
  },
  'discovery.mdns.enabled': {
    what: 'Find peers with mDNS on the LAN (flag --no-mdns turns it off)',
    allowed: 'true or false; false finds static peers only',
  },
  'discovery.mdns.interface': {
    what: 'Interface address multicast goes out of',
    allowed: 'an IP address, e.g. 127.0.0.1 to keep mDNS on this machine',
    unset: { example: '192.168.1.20', means: 'every interface' },
  },
  'discovery.mdns.bind': {
    what: 'Address the mDNS socket binds',
    allowed: 'an IP address, e.g. 0.0.0.0',
    unset: { example: '0.0.0.0', means: 'the mDNS library default' },
  },
  'discovery.mdns.includeVirtualInterfaces': {
    what: 'Also advertise addresses of docker, veth and bridge interfaces',
    allowed: 'true or false',
  },
  'discovery.peers': {
    what: 'Peers to dial directly where multicast does not pass (VPN, other subnets)',
    allowed: 'a list of host:port, e.g. [10.8.0.2:8766]; flag --peer repeats',
  },
  'membership.heartbeatInterval': { what: 'How often this node heartbeats each peer', allowed: DURATION },
  'membership.suspectAfter': {
    what: 'Silence after which a peer is suspect',
    allowed: 'a duration longer than heartbeatInterval',
  },
  'membership.deadAfter': {
    what: 'Silence after which a peer is dead and gets no more work',
    allowed: 'a duration longer than suspectAfter',
  },
  'membership.rpcTimeout': { what: 'Deadline of one peer RPC (heartbeat, register)', allowed: DURATION },
  'membership.forgetAfter': {
    what: 'How long dead or departed peers stay listed before they are forgotten',
    allowed: DURATION,
  },
  'backends.autoDetect': {
    what: 'Probe the usual local ports (11434, 8080, 8000, 1234) for model servers',
    allowed: 'true or false',
  },
  'backends.probeInterval': { what: 'How often every model server is probed', allowed: DURATION },
  'backends.probeTimeout': { what: 'Deadline of one probe request', allowed: DURATION },
  'backends.defaultMaxConcurrency': {
    what: 'Requests one model may run at once when neither this file nor the server says',
    allowed: 'a whole number of 1 or more',
  },
  'backends.servers': {
    what: 'Model servers to use besides the auto-detected ones',
    allowed: `a list of {url, kind, apiKeyEnv, maxConcurrency, models}; kind is auto, ${BACKEND_KINDS.join(', ')}; env and --backend take comma-separated URLs`,
    unset: {
      example: '\n  - url: http://192.168.1.30:11434\n    kind: ollama\n    maxConcurrency: 2',
      means: 'none besides the auto-detected ones',
    },
  },
  'facts.refreshInterval': { what: 'How often GPU, CPU and memory facts are refreshed', allowed: DURATION },
  'facts.nvidiaSmi': { what: 'The nvidia-smi executable', allowed: 'a name on PATH or a path' },
  'log.level': {
    what: 'Log level (JSON to stdout; journald keeps it under systemd)',
    allowed: 'trace, debug, info, warn, error, fatal or silent',
  },
};

const SECTION_NOTES: Record<string, string> = {
  node: 'This box.',
  peer: 'The peer gRPC server other swarmd nodes talk to.',
  control: 'Local control for swarmctl.',
  gateway: 'The OpenAI-compatible endpoint apps talk to.',
  discovery: 'How peers are found.',
  membership: 'Failure detection: a killed peer is noticed within deadAfter.',
  backends: 'Model servers on this box (Ollama, llama-swap, vLLM, llama.cpp, LM Studio) or elsewhere.',
  facts: 'Hardware facts shared with peers.',
  log: 'Logging.',
};

const HEADER = [
  `version: ${CONFIG_VERSION}  # format of this file; this release reads version ${CONFIG_VERSION}`,
  '',
  '# swarmd configuration. install.sh wrote it once and never overwrites it.',
  '# Every option is shown with its default value; commented-out ones have no fixed default.',
  '# Precedence: defaults < this file < environment variables (named on each line) < flags.',
  '# Durations: 500ms, 30s, 2m, 1h. Lists in environment variables: comma-separated.',
];

/** The commented default config file, every option at its default value. */
export function defaultConfigYaml(): string {
  const defaults = configSchema.parse({}) as unknown as Record<string, unknown>;
  const lines = [...HEADER];
  let openSections: string[] = [];
  for (const path of Object.keys(OPTION_DOCS) as OptionPath[]) {
    const doc = OPTION_DOCS[path];
    const parts = path.split('.');
    const key = parts.pop()!;
    let shared = 0;
    while (shared < parts.length && openSections[shared] === parts[shared]) shared++;
    for (let depth = shared; depth < parts.length; depth++) {
      const section = parts[depth]!;
      if (depth === 0) lines.push('', `# ${SECTION_NOTES[section] ?? section}`);
      lines.push(`${'  '.repeat(depth)}${section}:`);
    }
    openSections = parts;
    const indent = '  '.repeat(parts.length);
    lines.push(`${indent}# ${doc.what}. Allowed: ${doc.allowed}. Env: ${envNameFor(path)}`);
    if (doc.unset) {
      const [first, ...rest] = `${key}: ${doc.unset.example}`.split('\n');
      lines.push(`${indent}# ${first!.trimEnd()}  # default: ${doc.unset.means}`);
      for (const line of rest) lines.push(`${indent}# ${line}`);
    } else {
      lines.push(`${indent}${key}: ${formatValue(path, valueAt(defaults, path))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function formatValue(path: OptionPath, value: unknown): string {
  if (OPTION_TYPES[path] === 'duration') return formatDuration(value as number);
  if (Array.isArray(value)) return stringify(value, { flow: true }).trim();
  return stringify(value).trim();
}

function valueAt(root: Record<string, unknown>, path: string): unknown {
  let node: unknown = root;
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  return node;
}
