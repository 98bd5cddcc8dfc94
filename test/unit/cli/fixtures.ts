// Hand-built control replies as @grpc/proto-loader delivers them (oneof markers included),
// shared by the swarmctl unit and integration tests.
import type {
  DoctorResponse,
  ListModelsResponse,
  ListNodesResponse,
  RekeyReport,
  StatusResponse,
  WireBackend,
  WireGpu,
  WireNodeInfo,
  WirePeerView,
  WireVisibleNode,
} from '../../../src/rpc/wire.js';
import { wireNodeInfo } from '../../helpers/wire.js';

/** Wall-clock instant the fixtures pretend it is. */
export const NOW = 1_760_000_000_000;

/** Adds the `_field: 'field'` markers proto-loader (oneofs: true) puts on set optional fields. */
function withMarkers<T extends object>(value: T): T {
  const markers: Record<string, string> = {};
  for (const key of Object.keys(value)) {
    if (/^(memory|utilization|temperature|power|sizeVram)/.test(key)) markers[`_${key}`] = key;
  }
  return Object.assign({}, value, markers);
}

function gpu(fields: Partial<WireGpu> & Pick<WireGpu, 'index' | 'name'>): WireGpu {
  return withMarkers({ vendor: 'nvidia', uuid: '', unifiedMemory: false, ...fields });
}

function node(fields: Partial<WireNodeInfo> & Pick<WireNodeInfo, 'id' | 'name'>): WireNodeInfo {
  return wireNodeInfo({ incarnation: NOW - 3_600_000, ...fields });
}

function peer(info: WireNodeInfo, fields: Partial<WirePeerView> = {}): WirePeerView {
  return {
    node: info,
    self: false,
    state: 'alive',
    stateSinceMs: NOW - 60_000,
    lastHeartbeatAgeMs: 400,
    address: info.endpoints[0] ?? '',
    outboundOk: true,
    inboundOk: true,
    problem: '',
    compatible: true,
    settling: false,
    ...fields,
  };
}

const ollama: WireBackend = {
  id: 'ollama@127.0.0.1:11434',
  kind: 'ollama',
  url: 'http://127.0.0.1:11434',
  healthy: true,
  version: '0.12.3',
  error: '',
  models: [
    withMarkers({
      id: 'qwen3:8b',
      loaded: true,
      contextLength: 40960,
      maxConcurrency: 4,
      inflight: 1,
      sizeVramBytes: 6.2e9,
    }),
  ],
};

/** This node: one RTX 4090, Ollama with one loaded model. */
export const selfView: WirePeerView = peer(
  node({
    id: 'n-atlas',
    name: 'atlas',
    endpoints: ['192.168.1.10:8766', '[fd00::10]:8766'],
    incarnation: 1_759_996_400_000,
    gpus: [
      gpu({
        index: 0,
        name: 'NVIDIA GeForce RTX 4090',
        uuid: 'GPU-1111',
        memoryTotalMib: 24564,
        memoryUsedMib: 1229,
        memoryFreeMib: 23335,
        utilizationPct: 3,
        temperatureC: 41,
        powerW: 28.5,
      }),
    ],
    backends: [ollama],
    system: {
      hostname: 'atlas',
      platform: 'linux',
      distro: 'Ubuntu',
      release: '24.04',
      arch: 'x64',
      cpuModel: 'AMD Ryzen 9 7950X',
      cpuCores: 32,
      cpuLoadPct: 7.5,
      memTotalBytes: 68_719_476_736,
      memAvailableBytes: 51_539_607_552,
    },
    inflight: 1,
  }),
  { self: true, lastHeartbeatAgeMs: -1, address: '', stateSinceMs: NOW - 3_600_000 },
);

/** A peer with two GPUs and llama-swap (one model loaded, one not, one listed twice). */
export const boreasView: WirePeerView = peer(
  node({
    id: 'n-boreas',
    name: 'boreas',
    endpoints: ['192.168.1.11:8766'],
    gpus: [
      gpu({ index: 0, name: 'NVIDIA GeForce RTX 3090', memoryTotalMib: 24576, memoryUsedMib: 18432 }),
      gpu({ index: 1, name: 'NVIDIA GeForce RTX 3090', memoryTotalMib: 24576, memoryUsedMib: 0 }),
    ],
    backends: [
      {
        id: 'llama-swap@127.0.0.1:8080',
        kind: 'llama-swap',
        url: 'http://127.0.0.1:8080',
        healthy: true,
        version: '',
        error: '',
        models: [
          { id: 'llama-3.3-70b', loaded: true, contextLength: 131072, maxConcurrency: 1, inflight: 1 },
          { id: 'qwen3:8b', loaded: false, contextLength: 0, maxConcurrency: 2, inflight: 0 },
          { id: 'qwen3:8b', loaded: false, contextLength: 32768, maxConcurrency: 2, inflight: 0 },
        ],
      },
    ],
    inflight: 1,
  }),
  { lastHeartbeatAgeMs: 400 },
);

/** A peer that stopped answering (and an Ollama it last reported unhealthy). */
export const cronosView: WirePeerView = peer(
  node({
    id: 'n-cronos',
    name: 'cronos',
    endpoints: ['192.168.1.12:8766'],
    backends: [{ ...ollama, healthy: false, error: 'connect ECONNREFUSED 127.0.0.1:11434', models: [] }],
  }),
  { state: 'dead', lastHeartbeatAgeMs: 95_000, outboundOk: false, inboundOk: false },
);

/** A peer that speaks protocol 2.0. */
export const deltaView: WirePeerView = peer(
  node({ id: 'n-delta', name: 'delta', endpoints: ['192.168.1.13:8766'], protocol: { major: 2, minor: 0 } }),
  { compatible: false, problem: 'speaks protocol 2.0, this node 1.0: upgrade swarmd on one of them' },
);

/** A peer its owner paused to play a game. */
export const echoView: WirePeerView = peer(
  node({
    id: 'n-echo',
    name: 'echo',
    endpoints: ['192.168.1.14:8766'],
    activity: 'ACTIVITY_PAUSED',
    activityReason: 'gaming: steam',
  }),
);

/** A peer we can dial that cannot dial us. */
export const foxtrotView: WirePeerView = peer(
  node({ id: 'n-foxtrot', name: 'foxtrot', endpoints: ['10.8.0.5:8766'] }),
  {
    outboundOk: true,
    inboundOk: false,
    problem: 'one-way: we reach it but its heartbeats do not reach us (firewall on this node?)',
  },
);

/** A GB10 box whose driver reports memory as [N/A], never heard from directly. */
export const golfView: WirePeerView = peer(
  node({
    id: 'n-golf',
    name: 'golf',
    endpoints: ['192.168.1.16:8766'],
    gpus: [gpu({ index: 0, name: 'NVIDIA GB10', unifiedMemory: true, utilizationPct: 0 })],
  }),
  { state: 'suspect', lastHeartbeatAgeMs: -1, address: '' },
);

/** ListNodes with every fixture node. */
export const listNodesReply: ListNodesResponse = {
  selfId: 'n-atlas',
  paired: true,
  swarm: '3fa2c1d0',
  epoch: 1,
  visible: [],
  nodes: [selfView, boreasView, cronosView, deltaView, echoView, foxtrotView, golfView],
};

/** Swarm ids as the adverts carry them. */
export const SWARM_A = '3fa2c1d0e5f60718';
export const SWARM_B = '9b8a7c6d5e4f3a2b';

function visible(id: string, endpoint: string, swarm: string, epoch: number): WireVisibleNode {
  return { id, endpoints: [endpoint], swarm, epoch, lastSeenMs: NOW - 2_000 };
}

/** What an unpaired atlas sees on the LAN: three nodes of swarm A, one of swarm B, one unpaired. */
export const strangers: WireVisibleNode[] = [
  visible('1111111111111111', '10.203.0.1:8766', SWARM_A, 2),
  visible('2222222222222222', '10.203.0.2:8766', SWARM_A, 2),
  visible('5555555555555555', '10.203.0.5:8766', '', 0),
  visible('3333333333333333', '10.203.0.3:8766', SWARM_A, 2),
  visible('4444444444444444', '10.203.0.4:8766', SWARM_B, 1),
];

/** ListNodes of an unpaired atlas: only itself in the table, strangers on the LAN. */
export const unpairedNodesReply: ListNodesResponse = {
  selfId: 'n-atlas',
  paired: false,
  swarm: '',
  epoch: 0,
  visible: strangers,
  nodes: [selfView],
};

/** ListNodes of atlas in swarm A at epoch 3, seeing a member left on epoch 2 and two strangers. */
export const pairedWithStrangersReply: ListNodesResponse = {
  selfId: 'n-atlas',
  paired: true,
  swarm: SWARM_A,
  epoch: 3,
  visible: [
    visible('6666666666666666', '10.203.0.6:8766', SWARM_A, 2),
    visible('4444444444444444', '10.203.0.4:8766', SWARM_B, 1),
    visible('5555555555555555', '10.203.0.5:8766', '', 0),
  ],
  nodes: [selfView, boreasView],
};

/** Remove boreas: atlas took the new credentials, cronos was offline. */
export const removeReport: RekeyReport = {
  epoch: 4,
  fingerprint: 'c0ffee12',
  delivered: ['n-atlas'],
  missed: ['n-cronos'],
  removed: 'n-boreas',
};

/** Rotate with every member online. */
export const rotateReport: RekeyReport = {
  epoch: 5,
  fingerprint: 'abad1dea',
  delivered: ['n-atlas', 'n-boreas'],
  missed: [],
  removed: '',
};

/** The model catalogue across atlas and boreas. */
export const listModelsReply: ListModelsResponse = {
  models: [
    {
      model: 'qwen3:8b',
      holders: [
        {
          nodeId: 'n-atlas',
          nodeName: 'atlas',
          backend: 'ollama@127.0.0.1:11434',
          loaded: true,
          contextLength: 40960,
        },
        {
          nodeId: 'n-boreas',
          nodeName: 'boreas',
          backend: 'llama-swap@127.0.0.1:8080',
          loaded: false,
          contextLength: 0,
        },
      ],
    },
    {
      model: 'llama-3.3-70b',
      holders: [
        {
          nodeId: 'n-boreas',
          nodeName: 'boreas',
          backend: 'llama-swap@127.0.0.1:8080',
          loaded: true,
          contextLength: 131072,
        },
      ],
    },
  ],
};

/** Status of atlas. */
export const statusReply: StatusResponse = {
  self: selfView,
  uptimeMs: 3_600_000,
  dataDir: '/home/ada/.local/state/swarmd',
  configPath: '',
  controlSocket: '/home/ada/.local/state/swarmd/control.sock',
  peerPort: 8766,
  mdnsEnabled: true,
  gatewayUrl: 'http://127.0.0.1:8765/v1',
};

/** Doctor with one of each outcome. */
export const doctorReply: DoctorResponse = {
  checks: [
    { name: 'data dir', status: 'ok', detail: '/home/ada/.local/state/swarmd is writable', fix: '' },
    {
      name: 'mdns',
      status: 'warn',
      detail: 'no peer answered on 224.0.0.251:5353 in 10s',
      fix: 'allow UDP 5353 in the firewall, or list peers with --peer host:8766',
    },
    {
      name: 'backends',
      status: 'fail',
      detail: 'no model server answered on 127.0.0.1:11434, :8080, :8000, :1234',
      fix: 'start Ollama (`systemctl start ollama`) or set --backend http://host:port',
    },
  ],
};
