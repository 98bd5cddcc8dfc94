import { describe, expect, it } from 'vitest';
import {
  activityJson,
  doctorJson,
  errorJson,
  initJson,
  joinJson,
  modelsJson,
  nodeJson,
  nodesJson,
  rekeyJson,
  statusJson,
} from '../../../src/cli/json.js';
import {
  boreasView,
  cronosView,
  deltaView,
  doctorReply,
  echoView,
  foxtrotView,
  golfView,
  listModelsReply,
  listNodesReply,
  NOW,
  pairedWithStrangersReply,
  removeReport,
  rotateReport,
  SWARM_A,
  SWARM_B,
  selfView,
  statusReply,
  unpairedNodesReply,
} from './fixtures.js';

describe('nodeJson', () => {
  it('pins the documented NodeJson shape (public contract)', () => {
    expect(nodeJson(selfView)).toStrictEqual({
      id: 'n-atlas',
      name: 'atlas',
      self: true,
      state: 'alive',
      activity: 'active',
      activityReason: null,
      stateSince: NOW - 3_600_000,
      lastHeartbeatAgeMs: 0,
      address: null,
      addresses: ['192.168.1.10:8766', '[fd00::10]:8766'],
      protocol: '1.0',
      compatible: true,
      reachability: { outbound: true, inbound: true },
      problem: null,
      incarnation: 1_759_996_400_000,
      gpus: [
        {
          index: 0,
          vendor: 'nvidia',
          name: 'NVIDIA GeForce RTX 4090',
          uuid: 'GPU-1111',
          memoryTotalMiB: 24564,
          memoryUsedMiB: 1229,
          memoryFreeMiB: 23335,
          utilizationPct: 3,
          temperatureC: 41,
          powerW: 28.5,
          unifiedMemory: false,
        },
      ],
      backends: [
        {
          id: 'ollama@127.0.0.1:11434',
          kind: 'ollama',
          url: 'http://127.0.0.1:11434',
          healthy: true,
          version: '0.12.3',
          error: null,
          models: [{ id: 'qwen3:8b', loaded: true, contextLength: 40960, maxConcurrency: 4, inflight: 1 }],
        },
      ],
      models: [{ id: 'qwen3:8b', backend: 'ollama@127.0.0.1:11434', loaded: true, contextLength: 40960 }],
      inflight: 1,
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
      softwareVersion: '0.1.0',
    });
  });

  it('never leaks proto-loader oneof markers', () => {
    const text = JSON.stringify(nodesJson(listNodesReply));
    expect(text).not.toMatch(/"_[a-zA-Z]+"/);
    expect(text).not.toContain('sizeVram');
  });

  it('flattens models per backend, deduping a model a backend lists twice', () => {
    const boreas = nodeJson(boreasView);
    expect(boreas.gpus.map((g) => g.name)).toEqual(['NVIDIA GeForce RTX 3090', 'NVIDIA GeForce RTX 3090']);
    expect(boreas.models).toEqual([
      { id: 'llama-3.3-70b', backend: 'llama-swap@127.0.0.1:8080', loaded: true, contextLength: 131072 },
      { id: 'qwen3:8b', backend: 'llama-swap@127.0.0.1:8080', loaded: false, contextLength: 32768 },
    ]);
    expect(boreas.backends[0]?.version).toBeNull();
    expect(boreas.backends[0]?.models[1]?.contextLength).toBeNull();
    expect(boreas.lastHeartbeatAgeMs).toBe(400);
    expect(boreas.address).toBe('192.168.1.11:8766');
  });

  it('gives heartbeat ages as whole ms, as the daemon measures them on a sub-ms clock', () => {
    expect(nodeJson({ ...boreasView, lastHeartbeatAgeMs: 412.73 }).lastHeartbeatAgeMs).toBe(413);
    expect(nodeJson({ ...boreasView, lastHeartbeatAgeMs: 0.4 }).lastHeartbeatAgeMs).toBe(0);
    expect(nodeJson({ ...boreasView, lastHeartbeatAgeMs: -1 }).lastHeartbeatAgeMs).toBeNull();
  });

  it('keeps a dead peer with its unhealthy backend error', () => {
    const cronos = nodeJson(cronosView);
    expect(cronos.state).toBe('dead');
    expect(cronos.lastHeartbeatAgeMs).toBe(95_000);
    expect(cronos.reachability).toEqual({ outbound: false, inbound: false });
    expect(cronos.backends[0]).toMatchObject({
      healthy: false,
      error: 'connect ECONNREFUSED 127.0.0.1:11434',
    });
  });

  it('reports an incompatible protocol', () => {
    const delta = nodeJson(deltaView);
    expect(delta.protocol).toBe('2.0');
    expect(delta.compatible).toBe(false);
    expect(delta.problem).toContain('protocol 2.0');
  });

  it('maps the paused activity and its reason', () => {
    expect(nodeJson(echoView)).toMatchObject({
      state: 'alive',
      activity: 'paused',
      activityReason: 'gaming: steam',
    });
  });

  it('keeps one-sided reachability', () => {
    expect(nodeJson(foxtrotView).reachability).toEqual({ outbound: true, inbound: false });
  });

  it('turns [N/A] GPU memory into nulls and never-heard into a null age', () => {
    const golf = nodeJson(golfView);
    expect(golf.gpus[0]).toStrictEqual({
      index: 0,
      vendor: 'nvidia',
      name: 'NVIDIA GB10',
      uuid: null,
      memoryTotalMiB: null,
      memoryUsedMiB: null,
      memoryFreeMiB: null,
      utilizationPct: 0,
      temperatureC: null,
      powerW: null,
      unifiedMemory: true,
    });
    expect(golf.lastHeartbeatAgeMs).toBeNull();
    expect(golf.address).toBeNull();
    expect(golf.system).toBeNull();
  });

  it('maps every wire activity', () => {
    expect(activityJson('ACTIVITY_ACTIVE')).toBe('active');
    expect(activityJson('ACTIVITY_PAUSED')).toBe('paused');
    expect(activityJson('ACTIVITY_DRAINING')).toBe('draining');
    expect(activityJson('ACTIVITY_LEAVING')).toBe('leaving');
    expect(activityJson('ACTIVITY_UNSPECIFIED')).toBe('active');
  });
});

describe('nodesJson', () => {
  it('names self and keeps the daemon order', () => {
    const data = nodesJson(listNodesReply);
    expect(data.self).toBe('n-atlas');
    expect(data.nodes.map((n) => n.name)).toEqual([
      'atlas',
      'boreas',
      'cronos',
      'delta',
      'echo',
      'foxtrot',
      'golf',
    ]);
    expect(data.nodes.filter((n) => n.self).map((n) => n.id)).toEqual(['n-atlas']);
  });
});

describe('nodesJson swarm fields', () => {
  it('keeps every earlier top-level field first and only adds the swarm ones', () => {
    expect(Object.keys(nodesJson(listNodesReply))).toEqual([
      'self',
      'nodes',
      'paired',
      'swarm',
      'epoch',
      'visible',
    ]);
  });

  it('names the swarm and epoch of a paired node', () => {
    const data = nodesJson(listNodesReply);
    expect(data).toMatchObject({ paired: true, swarm: '3fa2c1d0', epoch: 1, visible: [] });
  });

  it('gives null swarm and epoch when unpaired, and lists what it sees on the LAN', () => {
    const data = nodesJson(unpairedNodesReply);
    expect(data.paired).toBe(false);
    expect(data.swarm).toBeNull();
    expect(data.epoch).toBeNull();
    expect(data.visible).toHaveLength(5);
    expect(data.visible[0]).toStrictEqual({
      id: '1111111111111111',
      endpoints: ['10.203.0.1:8766'],
      swarm: SWARM_A,
      epoch: 2,
      lastSeen: NOW - 2_000,
    });
    // An unpaired stranger: no swarm, so no epoch either (never "" or 0).
    expect(data.visible.find((v) => v.id === '5555555555555555')).toMatchObject({ swarm: null, epoch: null });
    expect(data.visible.find((v) => v.id === '4444444444444444')).toMatchObject({ swarm: SWARM_B, epoch: 1 });
  });

  it('reads a reply without the swarm fields (older daemon) as unpaired with nothing visible', () => {
    const { selfId, nodes } = listNodesReply;
    const data = nodesJson({ selfId, nodes } as typeof listNodesReply);
    expect(data).toMatchObject({ paired: false, swarm: null, epoch: null, visible: [] });
  });

  it('keeps the swarm of a paired node seeing strangers', () => {
    const data = nodesJson(pairedWithStrangersReply);
    expect(data).toMatchObject({ paired: true, swarm: SWARM_A, epoch: 3 });
    expect(data.visible.map((v) => v.epoch)).toEqual([2, 1, null]);
  });
});

describe('rekeyJson', () => {
  it('pins the RekeyJson shape of remove', () => {
    expect(rekeyJson(removeReport)).toStrictEqual({
      epoch: 4,
      fingerprint: 'c0ffee12',
      delivered: ['n-atlas'],
      missed: ['n-cronos'],
      removed: 'n-boreas',
    });
  });

  it('gives removed: null for rotate', () => {
    expect(rekeyJson(rotateReport).removed).toBeNull();
  });
});

describe('initJson and joinJson', () => {
  const creds = { swarmId: SWARM_A, fingerprint: '7c279f92', epoch: 1 };
  it('pin the documented shapes', () => {
    expect(joinJson(creds)).toStrictEqual({ swarm: SWARM_A, fingerprint: '7c279f92', epoch: 1 });
    expect(initJson('swarmd1_x', creds)).toStrictEqual({
      token: 'swarmd1_x',
      swarm: SWARM_A,
      fingerprint: '7c279f92',
      epoch: 1,
    });
  });
});

describe('modelsJson', () => {
  it('builds the catalogue sorted by model id', () => {
    expect(modelsJson(listModelsReply)).toStrictEqual({
      models: [
        {
          id: 'llama-3.3-70b',
          nodes: [
            {
              id: 'n-boreas',
              name: 'boreas',
              backend: 'llama-swap@127.0.0.1:8080',
              loaded: true,
              contextLength: 131072,
            },
          ],
          loadedOn: 1,
          maxContextLength: 131072,
        },
        {
          id: 'qwen3:8b',
          nodes: [
            {
              id: 'n-atlas',
              name: 'atlas',
              backend: 'ollama@127.0.0.1:11434',
              loaded: true,
              contextLength: 40960,
            },
            {
              id: 'n-boreas',
              name: 'boreas',
              backend: 'llama-swap@127.0.0.1:8080',
              loaded: false,
              contextLength: null,
            },
          ],
          loadedOn: 1,
          maxContextLength: 40960,
        },
      ],
    });
  });

  it('gives a null max context when no holder knows it', () => {
    const data = modelsJson({
      models: [
        {
          model: 'm',
          holders: [{ nodeId: 'a', nodeName: 'a', backend: 'b', loaded: false, contextLength: 0 }],
        },
      ],
    });
    expect(data.models[0]).toMatchObject({ loadedOn: 0, maxContextLength: null });
  });
});

describe('statusJson', () => {
  it('builds the status shape', () => {
    const data = statusJson(statusReply);
    expect(Object.keys(data).sort()).toEqual(
      ['configPath', 'controlSocket', 'dataDir', 'gatewayUrl', 'mdns', 'node', 'peerPort', 'uptimeMs'].sort(),
    );
    expect(data).toMatchObject({
      uptimeMs: 3_600_000,
      dataDir: '/home/ada/.local/state/swarmd',
      configPath: null,
      controlSocket: '/home/ada/.local/state/swarmd/control.sock',
      peerPort: 8766,
      mdns: true,
      gatewayUrl: 'http://127.0.0.1:8765/v1',
    });
    expect(data.node).toStrictEqual(nodeJson(selfView));
    expect(statusJson({ ...statusReply, uptimeMs: 3_600_000.618 }).uptimeMs).toBe(3_600_001);
  });
});

describe('doctorJson', () => {
  it('is not ok when a check fails, and empty fixes are null', () => {
    const data = doctorJson(doctorReply);
    expect(data.ok).toBe(false);
    expect(data.checks.map((c) => [c.name, c.status, c.fix === null])).toEqual([
      ['data dir', 'ok', true],
      ['mdns', 'warn', false],
      ['backends', 'fail', false],
    ]);
  });

  it('is ok with warnings only', () => {
    expect(doctorJson({ checks: doctorReply.checks.slice(0, 2) }).ok).toBe(true);
  });
});

describe('errorJson', () => {
  it('wraps code and message', () => {
    expect(errorJson('SWARM_ERR_CONTROL_UNREACHABLE', 'x')).toStrictEqual({
      error: { code: 'SWARM_ERR_CONTROL_UNREACHABLE', message: 'x' },
    });
  });
});
