// A stranger on the LAN forges an advert of our swarm at a newer credential epoch (the swarm id
// is public; the proof is random). It must not make this node claim it missed a rotation, nor
// be dialled: it is only listed as a node outside the swarm.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Advert } from '../../src/discovery/txt.js';
import { AdvertRouter } from '../../src/membership/advert-router.js';
import type { Membership } from '../../src/membership/membership.js';
import { loadOrCreateNodeId } from '../../src/node/identity.js';
import { initSwarm } from '../../src/security/store.js';
import { SwarmTrust } from '../../src/security/trust.js';
import { createLogger } from '../../src/util/logger.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('a forged newer-epoch advert', () => {
  it('is listed as a stranger: no rotation notice, no warning, never dialled', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'swarmd-advert-'));
    dirs.push(dataDir);
    const nodeId = await loadOrCreateNodeId(dataDir);
    await initSwarm(dataDir, nodeId);
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) });
    const trust = new SwarmTrust({ logger }, { dataDir, nodeId });
    await trust.start();
    const creds = trust.current()!;
    const dialled: string[] = [];
    const membership = { discovered: (advert: Advert) => dialled.push(advert.id) } as unknown as Membership;
    const router = new AdvertRouter({ logger, trust, membership });
    try {
      const forged: Advert = {
        id: randomBytes(8).toString('hex'),
        protocol: { major: 1, minor: 0 },
        endpoints: ['10.0.0.66:8766'],
        proof: randomBytes(16).toString('base64url'),
        swarm: creds.swarmId,
        epoch: creds.epoch + 1,
      };
      for (let i = 0; i < 5; i++)
        router.handle({
          type: 'up',
          advert: { ...forged, epoch: creds.epoch + 1 + i },
          addresses: ['10.0.0.66'],
        });
      expect(dialled).toEqual([]);
      expect(lines.filter((line) => line.level >= 40)).toEqual([]);
      expect(JSON.stringify(lines)).not.toMatch(/missed a credential rotation/);
      expect(router.visible()).toEqual([
        expect.objectContaining({ id: forged.id, swarm: creds.swarmId, epoch: creds.epoch + 5 }),
      ]);
    } finally {
      trust.stop();
    }
  });
});
