import { describe, expect, it } from 'vitest';
import { doctorJson, modelsJson, nodeJson, nodesJson, rekeyJson, statusJson } from '../../../src/cli/json.js';
import {
  contextLabel,
  gpuLabel,
  heartbeatLabel,
  renderDoctor,
  renderModels,
  renderNodes,
  renderRekey,
  renderStatus,
  stateLabel,
} from '../../../src/cli/render.js';
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
  pairedWithStrangersReply,
  removeReport,
  rotateReport,
  SWARM_A,
  SWARM_B,
  selfView,
  statusReply,
  unpairedNodesReply,
} from './fixtures.js';

/** The table row of the node called name (rows start with the name). */
function row(table: string, name: string): string {
  const line = table.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no row for ${name} in:\n${table}`);
  return line;
}

describe('cell labels', () => {
  it('names the state, what an alive node is doing, incompatibility and one-way links', () => {
    expect(stateLabel(nodeJson(selfView))).toBe('alive');
    expect(stateLabel(nodeJson(cronosView))).toBe('dead');
    expect(stateLabel(nodeJson(deltaView))).toBe('incompatible (v2.0)');
    expect(stateLabel(nodeJson(echoView))).toBe('paused (gaming: steam)');
    expect(stateLabel(nodeJson(foxtrotView))).toBe('alive, one-way');
    expect(stateLabel(nodeJson(golfView))).toBe('suspect');
    const draining = nodeJson({
      ...boreasView,
      node: { ...boreasView.node!, activity: 'ACTIVITY_DRAINING' },
    });
    expect(stateLabel(draining)).toBe('draining');
  });

  it('shows a GPU as short name and used/total GiB', () => {
    const [atlasGpu] = nodeJson(selfView).gpus;
    expect(gpuLabel(atlasGpu!)).toBe('RTX 4090 1.2/24.0G');
    expect(gpuLabel(nodeJson(golfView).gpus[0]!)).toBe('GB10 unified');
  });

  it('shows heartbeat age, and - for self or never heard', () => {
    expect(heartbeatLabel(nodeJson(boreasView))).toBe('0.4s ago');
    expect(heartbeatLabel(nodeJson(cronosView))).toBe('1.6m ago');
    expect(heartbeatLabel(nodeJson(selfView))).toBe('-');
    expect(heartbeatLabel(nodeJson(golfView))).toBe('-');
  });

  it('shows context lengths in k tokens', () => {
    expect(contextLabel(131072)).toBe('128k');
    expect(contextLabel(40960)).toBe('40k');
    expect(contextLabel(100000)).toBe('100000');
    expect(contextLabel(null)).toBe('-');
  });
});

describe('renderNodes', () => {
  const table = renderNodes(nodesJson(listNodesReply));

  it('starts with the swarm and epoch, then the table header and one row per node', () => {
    const [swarm, blank, header] = table.split('\n');
    expect(swarm).toBe('swarm 3fa2c1d0 (epoch 1)');
    expect(blank).toBe('');
    expect(header?.split(/\s{2,}/)).toEqual([
      'NAME',
      'STATE',
      'ADDRESS',
      'GPUS',
      'BACKENDS',
      'MODELS',
      'LOAD',
      'HEARTBEAT',
    ]);
    for (const name of ['boreas', 'cronos', 'delta', 'echo', 'foxtrot', 'golf'])
      expect(row(table, name)).toBeTruthy();
  });

  it('marks self, its GPU, backend and loaded model', () => {
    const atlas = row(table, 'atlas');
    expect(atlas).toMatch(/^atlas \*\s+alive\s/);
    expect(atlas).toContain('192.168.1.10:8766');
    expect(atlas).toContain('RTX 4090 1.2/24.0G');
    expect(atlas).toContain('qwen3:8b*');
    expect(atlas).toMatch(/ollama\s/);
    expect(atlas.trimEnd()).toMatch(/\s1\s+-$/);
  });

  it('lists several GPUs, loaded models first, and the heartbeat age', () => {
    const boreas = row(table, 'boreas');
    expect(boreas).toContain('RTX 3090 18.0/24.0G, RTX 3090 0.0/24.0G');
    expect(boreas).toContain('llama-3.3-70b*, qwen3:8b');
    expect(boreas).not.toContain('qwen3:8b*');
    expect(boreas).toContain('0.4s ago');
  });

  it('shows dead, incompatible, paused, one-way and suspect nodes', () => {
    expect(row(table, 'cronos')).toMatch(/\bdead\b/);
    expect(row(table, 'cronos')).toContain('ollama!');
    expect(row(table, 'delta')).toContain('incompatible (v2.0)');
    expect(row(table, 'echo')).toContain('paused (gaming: steam)');
    expect(row(table, 'foxtrot')).toContain('alive, one-way');
    expect(row(table, 'golf')).toMatch(/\bsuspect\b/);
    expect(row(table, 'golf')).toContain('GB10 unified');
  });

  it('prints one problem line per node below the table', () => {
    const lines = table.split('\n');
    expect(lines).toContain('delta: speaks protocol 2.0, this node 1.0: upgrade swarmd on one of them');
    expect(lines.filter((l) => l.startsWith('foxtrot: one-way'))).toHaveLength(1);
    expect(lines.some((l) => l.startsWith('atlas:'))).toBe(false);
  });

  it('cuts long model lists', () => {
    const many = nodeJson({
      ...boreasView,
      node: {
        ...boreasView.node!,
        backends: [
          {
            ...boreasView.node!.backends[0]!,
            models: ['a', 'b', 'c', 'd', 'e'].map((id) => ({
              id,
              loaded: false,
              contextLength: 0,
              maxConcurrency: 1,
              inflight: 0,
            })),
          },
        ],
      },
    });
    const data = { self: 'x', nodes: [many], paired: true, swarm: 's', epoch: 1, visible: [] };
    expect(row(renderNodes(data), 'boreas')).toContain('a, b, c, +2 more');
  });

  it('has no trailing spaces and no colour codes', () => {
    expect(table).not.toMatch(/ $/m);
    expect(table).not.toContain('\u001b[');
  });
});

describe('renderNodes and the swarm', () => {
  it('when unpaired: the table, then the LAN grouped by swarm, then how to join', () => {
    const text = renderNodes(nodesJson(unpairedNodesReply));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATE/);
    expect(row(text, 'atlas')).toMatch(/^atlas \*\s+alive/);
    const at = lines.indexOf('This node is not in a swarm. Nodes seen on the LAN:');
    expect(at).toBeGreaterThan(1);
    expect(lines.slice(at + 1)).toEqual([
      `  swarm ${SWARM_A}: 3 nodes (10.203.0.1:8766, 10.203.0.2:8766, 10.203.0.3:8766)`,
      `  swarm ${SWARM_B}: 1 node (10.203.0.4:8766)`,
      '  unpaired: 1 node (10.203.0.5:8766)',
      'To join a swarm: on a member run `swarmctl token`, then here `swarmctl join <token>`; ' +
        'to start a new swarm: `swarmctl init`',
    ]);
    expect(text).not.toMatch(/^swarm /m);
  });

  it('cuts a long endpoint list', () => {
    const data = nodesJson(unpairedNodesReply);
    const many = Array.from({ length: 5 }, (_, i) => ({
      id: `${i}`.repeat(16),
      endpoints: [`10.0.0.${i}:8766`],
      swarm: SWARM_A,
      epoch: 1,
      lastSeen: 0,
    }));
    expect(renderNodes({ ...data, visible: many })).toContain(
      `swarm ${SWARM_A}: 5 nodes (10.0.0.0:8766, 10.0.0.1:8766, 10.0.0.2:8766, +2 more)`,
    );
  });

  it('when unpaired and alone: says so and how to start or join', () => {
    const text = renderNodes({ ...nodesJson(unpairedNodesReply), visible: [] });
    const lines = text.split('\n');
    expect(lines.at(-2)).toBe('This node is not in a swarm, and sees no other swarmd on the LAN.');
    expect(lines.at(-1)).toContain('`swarmctl init`');
  });

  it('when paired: swarm and epoch on top, stale members and a one-line note about strangers below', () => {
    const text = renderNodes(nodesJson(pairedWithStrangersReply));
    const lines = text.split('\n');
    expect(lines[0]).toBe(`swarm ${SWARM_A} (epoch 3)`);
    expect(lines[2]).toMatch(/^NAME\s+STATE/);
    expect(text).not.toContain('This node is not in a swarm');
    const stale = lines.find((l) => l.startsWith('6666666666666666'));
    expect(stale).toBe(
      '6666666666666666 (10.203.0.6:8766) holds epoch 2 of this swarm (now 3): unless it was removed, ' +
        'it missed a credential change; ' +
        'on it run `swarmctl join <token>` (`swarmctl token` here prints the token)',
    );
    expect(lines.at(-1)).toMatch(/^2 other nodes on the LAN are not in this swarm \(/);
    expect(text).not.toMatch(/ $/m);
  });

  it('when paired behind the others: tells this node to re-join', () => {
    const data = nodesJson({ ...pairedWithStrangersReply, epoch: 1 });
    const text = renderNodes(data);
    expect(text).toContain(
      '6666666666666666 (10.203.0.6:8766) holds epoch 2 of this swarm but this node holds 1: this node missed',
    );
    expect(text).toContain('then here `swarmctl join <token>`');
  });

  it('when paired with a single stranger: singular note', () => {
    const data = nodesJson(pairedWithStrangersReply);
    const text = renderNodes({ ...data, visible: data.visible.slice(2) });
    expect(text.split('\n').at(-1)).toMatch(/^1 other node on the LAN is not in this swarm/);
  });

  it('when paired with nothing else visible: no note', () => {
    const text = renderNodes(nodesJson(listNodesReply));
    expect(text.split('\n').at(-1)).toBe('* = this node / loaded model, ! = backend unhealthy');
  });
});

describe('renderRekey', () => {
  const names = new Map([
    ['n-atlas', 'atlas'],
    ['n-boreas', 'boreas'],
    ['n-cronos', 'cronos'],
  ]);

  it('names the removed node, the new epoch and fingerprint, who took them and who must re-join', () => {
    const lines = renderRekey(rekeyJson(removeReport), names).split('\n');
    expect(lines[0]).toBe(
      'Removed boreas (n-boreas) from the swarm for good; new swarm credentials: epoch 4, fingerprint c0ffee12.',
    );
    expect(lines[1]).toBe('Took the new credentials: atlas (n-atlas)');
    expect(lines).toContain('  cronos (n-cronos): on it run `swarmctl join <token>`');
    expect(lines.at(-1)).toBe('Print the new token on this box with `swarmctl token`.');
  });

  it('shows ids when names are unknown, and nothing about re-joining when nobody missed', () => {
    const text = renderRekey(rekeyJson(rotateReport));
    expect(text).toBe(
      'Rotated the swarm credentials: epoch 5, fingerprint abad1dea.\nTook the new credentials: n-atlas, n-boreas',
    );
  });

  it('says when no other member was online', () => {
    const text = renderRekey(rekeyJson({ ...rotateReport, delivered: [], missed: ['n-cronos'] }));
    expect(text).toContain('No other member was online to take the new credentials.');
    expect(text).toContain('1 member was offline');
  });
});

describe('renderModels', () => {
  it('shows where each model lives and is loaded', () => {
    const table = renderModels(modelsJson(listModelsReply));
    const lines = table.split('\n');
    expect(lines[0]?.split(/\s{2,}/)).toEqual(['MODEL', 'NODES', 'LOADED', 'CONTEXT']);
    const qwen = lines.find((l) => l.startsWith('qwen3:8b'))!;
    expect(qwen).toContain('atlas/ollama, boreas/llama-swap');
    expect(qwen).toContain('yes on atlas');
    expect(qwen).toContain('40k');
    const llama = lines.find((l) => l.startsWith('llama-3.3-70b'))!;
    expect(llama).toContain('yes on boreas');
    expect(llama).toContain('128k');
  });

  it('says no when a model is loaded nowhere', () => {
    const table = renderModels({
      models: [
        {
          id: 'm',
          nodes: [{ id: 'a', name: 'a', backend: 'vllm@x:1', loaded: false, contextLength: null }],
          loadedOn: 0,
          maxContextLength: null,
        },
      ],
    });
    expect(table.split('\n')[1]).toMatch(/^m\s+a\/vllm\s+no\s+-$/);
  });
});

describe('renderStatus', () => {
  it('shows this node as key: value lines', () => {
    const text = renderStatus(statusJson(statusReply));
    expect(text).toMatch(/^id:\s+n-atlas$/m);
    expect(text).toMatch(/^name:\s+atlas$/m);
    expect(text).toMatch(/^state:\s+alive, active$/m);
    expect(text).toMatch(/^addresses:\s+192\.168\.1\.10:8766, \[fd00::10\]:8766$/m);
    expect(text).toMatch(/^GPUs:\s+RTX 4090 1\.2\/24\.0G$/m);
    expect(text).toMatch(/^backends:\s+ollama@127\.0\.0\.1:11434 \(ollama 0\.12\.3\) healthy$/m);
    expect(text).toMatch(/^models:\s+qwen3:8b \*$/m);
    expect(text).toMatch(/^uptime:\s+1h$/m);
    expect(text).toMatch(/^data dir:\s+\/home\/ada\/\.local\/state\/swarmd$/m);
    expect(text).toMatch(/^config:\s+\(none: defaults\)$/m);
    expect(text).toMatch(/^socket:\s+\/home\/ada\/\.local\/state\/swarmd\/control\.sock$/m);
  });

  it('says why a paused node is paused', () => {
    const text = renderStatus(statusJson({ ...statusReply, self: echoView }));
    expect(text).toMatch(/^state:\s+alive, paused \(gaming: steam\)$/m);
  });
});

describe('renderDoctor', () => {
  it('prints one line per check, fixes indented, and a summary', () => {
    const lines = renderDoctor(doctorJson(doctorReply)).split('\n');
    expect(lines).toEqual([
      '[ok]   data dir: /home/ada/.local/state/swarmd is writable',
      '[warn] mdns: no peer answered on 224.0.0.251:5353 in 10s',
      '       → allow UDP 5353 in the firewall, or list peers with --peer host:8766',
      '[FAIL] backends: no model server answered on 127.0.0.1:11434, :8080, :8000, :1234',
      '       → start Ollama (`systemctl start ollama`) or set --backend http://host:port',
      '1 ok, 1 warning, 1 failure',
    ]);
  });

  it('says all passed when nothing is wrong', () => {
    const text = renderDoctor(doctorJson({ checks: doctorReply.checks.slice(0, 1) }));
    expect(text.split('\n').at(-1)).toBe('all 1 check passed');
  });
});
