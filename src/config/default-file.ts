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
    allowed:
      "a list of keys (16 or more characters), or {key, privacy: local|lan|cloud} to set the privacy of that key's requests; keep this file private (chmod 600)",
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
  'shutdown.drainGrace': {
    what: 'On SIGTERM (systemctl --user stop swarmd), how long running requests may finish before the rest are handed back to other nodes',
    allowed: `${DURATION}, shorter than 40s (the unit's TimeoutStopSec is 45s)`,
  },
  'gaming.autoPause.processes': {
    what: 'Pause this node while a process of one of these names runs (as in /proc/<pid>/comm, or the file name of its command), e.g. [steam, gamescope, wine64-preloader]',
    allowed: 'a list of process names; empty turns the check off',
  },
  'gaming.autoPause.vramThresholdMib': {
    what: 'Pause while graphics processes (type G or C+G in nvidia-smi -q -x) other than the ignored ones hold this much VRAM together; Xorg and compositors count too, so keep it above what the desktop takes',
    allowed: 'MiB; 0 turns the check off',
  },
  'gaming.autoPause.gpuUtilThresholdPct': {
    what: 'Pause while GPU use is at or above this percent; only judged while this node runs no work of its own (our generation uses the GPU too)',
    allowed: 'a percent from 0 to 100; 0 turns the check off',
  },
  'gaming.autoPause.ignore': {
    what: 'Process names never taken for a game (the model servers)',
    allowed: 'a list of process names',
  },
  'gaming.autoPause.quietPeriod': {
    what: 'How long the box must look idle again before an automatic pause ends by itself (a swarmctl pause never ends by itself)',
    allowed: DURATION,
  },
  'gaming.autoPause.checkInterval': {
    what: 'How often processes and the GPU are checked',
    allowed: DURATION,
  },
  'log.level': {
    what: 'Log level (JSON to stdout; journald keeps it under systemd)',
    allowed: 'trace, debug, info, warn, error, fatal or silent',
  },
  'tasks.path': {
    what: 'The task journal (SQLite): every accepted request, and async tasks with their results',
    allowed: 'a file path',
    unset: { example: '/srv/swarmd/tasks.sqlite', means: '<dataDir>/tasks.sqlite' },
  },
  'tasks.retention': {
    what: 'How long finished tasks and async results are kept',
    allowed: DURATION,
  },
  'tasks.concurrency': { what: 'Async tasks run at once; the rest wait in order', allowed: '1 to 1000' },
  'tasks.maxPending': {
    what: 'Async tasks accepted and not finished, at most; more are answered 429',
    allowed: '1 to 1000000',
  },
  'tasks.deadline': {
    what: 'How long an async task keeps waiting for a free model before it fails',
    allowed: DURATION,
  },
  'usage.enabled': {
    what: 'Record every request (tokens, latency, cost) in the usage ledger that swarmctl usage reads',
    allowed: 'true or false; budgets need it on',
  },
  'usage.path': {
    what: 'The usage ledger file (SQLite)',
    allowed: 'a file path',
    unset: { example: '/srv/swarmd/usage.sqlite', means: '<dataDir>/usage.sqlite' },
  },
  'usage.retention': {
    what: 'How long ledger rows are kept',
    allowed: 'a duration of 31d or more, e.g. 90d; 0 keeps every row forever',
  },
  'usage.budgets.daily.warnUsd': {
    what: 'Cloud spend in USD today (local time) at which swarmd warns',
    allowed: 'an amount of 0 or more, at most stopUsd',
    unset: { example: '4', means: 'no warning' },
  },
  'usage.budgets.daily.stopUsd': {
    what: 'Cloud spend in USD today (local time) past which cloud providers are skipped until midnight',
    allowed: 'an amount of 0 or more (0 allows no cloud at all)',
    unset: { example: '5', means: 'no limit' },
  },
  'usage.budgets.monthly.warnUsd': {
    what: 'Cloud spend in USD this calendar month at which swarmd warns',
    allowed: 'an amount of 0 or more, at most stopUsd',
    unset: { example: '40', means: 'no warning' },
  },
  'usage.budgets.monthly.stopUsd': {
    what: 'Cloud spend in USD this calendar month past which cloud providers are skipped until the 1st',
    allowed: 'an amount of 0 or more (0 allows no cloud at all)',
    unset: { example: '50', means: 'no limit' },
  },
  'routing.defaultPrivacy': {
    what: 'Privacy of a request no header, alias or API key sets: local (this box), lan (any swarm node), cloud (cloud allowed)',
    allowed: 'local, lan or cloud; prompts with secrets are kept to lan or stricter whatever is asked',
  },
  'routing.aliases': {
    what: 'Model names clients may send, each standing for concrete models in preference order',
    allowed:
      'a mapping of name to {models, privacy}; not fast, deep, reviewer, cloud or auto; env and flag take JSON',
    unset: {
      example: '\n  coder:\n    models: [qwen2.5-coder:32b, qwen2.5-coder:7b]\n    privacy: lan',
      means: 'no aliases',
    },
  },
  'routing.tiers.fast': {
    what: 'Small quick models for easy requests, in preference order',
    allowed:
      'a list of model ids as backends report them, e.g. [qwen3:8b, llama3.2:3b]; [] means every model',
  },
  'routing.tiers.deep': {
    what: 'Larger models for harder requests, in preference order',
    allowed: 'a list of model ids, e.g. [qwen3:32b]; [] means every model',
  },
  'routing.tiers.reviewer': {
    what: 'Models that review work (model: reviewer), in preference order',
    allowed: 'a list of model ids; [] means every model',
  },
  'routing.tiers.cloud': {
    what: 'Cloud models, in preference order (only used when privacy and budget allow)',
    allowed: 'a list of model ids offered by cloud.providers; [] means every model they offer',
  },
  'routing.fallback': {
    what: 'Tiers tried in turn once the requested alias, tier or auto has failed (never for a concrete model id)',
    allowed: 'a list of fast, deep, reviewer, cloud, each at most once',
  },
  'routing.maxAttempts': {
    what: 'Attempts per request, fallbacks and quality-gate escalations included',
    allowed: '1 to 20',
  },
  'routing.queueSize': {
    what: 'Requests that may wait here while every slot in the swarm is busy; more are answered 429 with Retry-After',
    allowed: 'a whole number from 0 to 100000',
  },
  'routing.queueTimeout': {
    what: 'How long a waiting request may wait for a slot before it is answered 429',
    allowed: 'a duration (500ms, 30s, 2m, 1h)',
  },
  'routing.cooldownAfter': {
    what: 'Consecutive failures after which a node or backend is left alone for a while',
    allowed: 'a whole number of 1 or more',
  },
  'routing.cooldown': {
    what: 'First cooldown; it doubles with each further failure up to cooldownMax and ends on a success',
    allowed: DURATION,
  },
  'routing.cooldownMax': { what: 'Longest cooldown', allowed: 'a duration of at least cooldown' },
  'routing.actions': {
    what: 'Complexity that model auto gives each action type (x-swarm-action header or metadata.action)',
    allowed:
      'a mapping of action to simple, moderate or complex; env and flag take action=complexity pairs, comma-separated',
  },
  'routing.keywords.simple': {
    what: 'Words in the last user message that make auto lean to the fast tier',
    allowed: 'a list of words or phrases (whole words, any case)',
  },
  'routing.keywords.complex': {
    what: 'Words in the last user message that make auto pick the deep tier (and cloud when allowed)',
    allowed: 'a list of words or phrases (whole words, any case)',
  },
  'routing.qualityGate.enabled': {
    what: 'Check each non-streamed reply of a model swarmd chose (auto, tier, alias); a failed check tries the next candidate',
    allowed: 'true or false',
  },
  'routing.qualityGate.json': {
    what: 'Reject a reply that is not valid JSON when response_format asked for JSON',
    allowed: 'true or false',
  },
  'routing.qualityGate.empty': {
    what: 'Reject a reply with no text and no tool call',
    allowed: 'true or false',
  },
  'routing.qualityGate.truncated': {
    what: 'Reject a reply cut off by the token limit (finish_reason length)',
    allowed: 'true or false',
  },
  'routing.qualityGate.refusal': {
    what: 'Reject a short reply that opens with a refusal (I cannot help with that...)',
    allowed: 'true or false',
  },
  'cloud.providers': {
    what: 'OpenAI-compatible cloud APIs, used only when privacy and budget allow',
    allowed:
      'a list of {name, baseUrl, apiKeyEnv, models, prices}; openai, openrouter, groq, anthropic and gemini need no baseUrl or apiKeyEnv; prices in USD per million tokens; env and flag take JSON',
    unset: {
      example:
        '\n  - name: groq\n    models: [llama-3.3-70b-versatile]\n    prices:\n      llama-3.3-70b-versatile: { inputPerMTok: 0.59, outputPerMTok: 0.79 }',
      means: 'none, the swarm works fully offline',
    },
  },
  'cloud.reference.model': {
    what: 'Cloud model every request is compared with to report savings',
    allowed: 'a model id',
    unset: { example: 'gpt-4o', means: 'no comparison' },
  },
  'cloud.reference.inputPerMTok': {
    what: 'Its price in USD per million prompt tokens',
    allowed: 'an amount of 0 or more',
    unset: { example: '2.5', means: 'no comparison' },
  },
  'cloud.reference.outputPerMTok': {
    what: 'Its price in USD per million completion tokens',
    allowed: 'an amount of 0 or more',
    unset: { example: '10', means: 'no comparison' },
  },
  'jobs.sandbox.mode': {
    what: 'How verification of coding jobs (code a model wrote) is contained: auto runs it in bubblewrap (no network, only its workspace writable, no $HOME, no data dir, no daemon environment) and refuses to verify where bubblewrap cannot run; off runs it as you, unsandboxed. jobs.sandbox: auto|off (the word) still works',
    allowed: 'auto or off',
  },
  'jobs.sandbox.readOnly': {
    what: 'Paths verification may read but never write inside the sandbox: toolchains and caches real repositories need; ~/ is your home; missing ones are skipped',
    allowed: 'a list of absolute paths or ~/paths',
  },
  'jobs.attemptsPerTier': {
    what: 'Failed attempts on one tier before a job escalates to the next tier',
    allowed: '1 to 10',
  },
  'jobs.maxAttempts': { what: 'Verified attempts in all before a job stops and reports', allowed: '1 to 20' },
  'jobs.maxEditFailures': {
    what: 'Edits that did not apply or were over the limits before a job stops (counted apart from attempts)',
    allowed: '1 to 20',
  },
  'jobs.maxFiles': { what: 'Files one attempt may change', allowed: '1 to 100' },
  'jobs.maxChangedLines': { what: 'Lines one attempt may add or remove', allowed: '1 to 100000' },
  'jobs.stepTimeout': { what: 'Deadline of each verification step (lint, build, test)', allowed: DURATION },
  'jobs.contextTokens': {
    what: 'Tokens of repository files put in a prompt (about 4 characters a token)',
    allowed: '500 to 1000000',
  },
  'jobs.escalation': {
    what: 'Tiers a job climbs in order; cloud only when the job runs with privacy cloud',
    allowed: 'a list of fast, deep, reviewer, cloud, each at most once',
  },
  'jobs.editFormats': {
    what: 'How each model (by id, or by tier) writes edits; unlisted: fast whole files, other tiers search-replace blocks',
    allowed:
      'a mapping of model id or tier to whole or search-replace; env and flag take name=format pairs, comma-separated',
  },
  'jobs.bestOfMix': {
    what: 'Tiers of the parallel proposals of swarmctl run --best-of N, repeated as needed',
    allowed: 'a list of fast, deep, reviewer, cloud',
  },
  'jobs.maxConcurrent': { what: 'Plan subtasks run at once when the plan does not say', allowed: '1 to 16' },
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
  shutdown: 'Stopping: on SIGTERM the node drains, hands back what is left, then leaves.',
  gaming: 'Gaming mode: pause this node by itself while the box is used for games.',
  log: 'Logging.',
  routing:
    'How each request picks a model and a node: privacy, aliases, tiers, auto, fallback, quality gate.',
  cloud: 'Cloud providers. With none configured the swarm works fully offline.',
  tasks:
    'The task journal: requests are recorded before they are answered; async tasks (Prefer: respond-async) survive a restart.',
  jobs: 'Coding jobs (swarmctl run): verification on this box, bounded repair, escalation, best-of, plans.',
  usage: 'Usage ledger and cloud budgets. Both are per node: each box records and limits its own requests.',
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
  // Lists and mappings on one line (flow style), never folded: the key is on the same line.
  if (value !== null && typeof value === 'object')
    return stringify(value, { flow: true, lineWidth: 0 }).trim();
  return stringify(value).trim();
}

function valueAt(root: Record<string, unknown>, path: string): unknown {
  let node: unknown = root;
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  return node;
}
