import { describe, expect, it } from 'vitest';
import { swarmLabel } from '../../../src/security/names.js';

describe('swarmLabel', () => {
  it('names a swarm by its id first, then what is known of its current credentials', () => {
    expect(swarmLabel({ swarmId: '9c1e5a0b2d3f4e6a', epoch: 2, fingerprint: '3fa2c1d0' })).toBe(
      'swarm 9c1e5a0b2d3f4e6a (epoch 2, fingerprint 3fa2c1d0)',
    );
    expect(swarmLabel({ swarmId: '9c1e5a0b2d3f4e6a', epoch: 3 })).toBe('swarm 9c1e5a0b2d3f4e6a (epoch 3)');
    expect(swarmLabel({ swarmId: '9c1e5a0b2d3f4e6a', epoch: null, fingerprint: null })).toBe(
      'swarm 9c1e5a0b2d3f4e6a',
    );
  });
});
