import { describe, expect, it } from 'vitest';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { validateHeartbeat, validateNodeInfo } from '../../../src/membership/validate.js';
import type { WireNodeInfo } from '../../../src/rpc/wire.js';
import { thrown } from '../../helpers/expect-error.js';
import { wireHeartbeat, wireNodeInfo } from '../../helpers/wire.js';

const info = (overrides: Partial<WireNodeInfo> = {}) =>
  wireNodeInfo({ endpoints: ['10.0.0.2:8766', '[fd00::2]:8766'], ...overrides });

describe('validateNodeInfo', () => {
  it('accepts a well-formed NodeInfo', () => {
    expect(validateNodeInfo(info()).id).toBe('0123456789abcdef');
  });

  it.each([
    ['missing node', null],
    ['bad id', info({ id: '../../etc/passwd' })],
    ['uppercase id', info({ id: '0123456789ABCDEF' })],
    ['empty name', info({ name: '' })],
    ['huge name', info({ name: 'x'.repeat(500) })],
    ['no protocol', info({ protocol: null })],
    ['endpoint without port', info({ endpoints: ['10.0.0.2'] })],
    ['shell metacharacters in endpoint', info({ endpoints: ['$(touch /tmp/x):8766'] })],
    ['too many endpoints', info({ endpoints: Array.from({ length: 40 }, (_, i) => `10.0.0.${i}:1`) })],
    ['zero incarnation', info({ incarnation: 0 })],
  ])('refuses %s with PEER_INVALID', (_name, value) => {
    expect(thrown(() => validateNodeInfo(value as WireNodeInfo), SwarmError).code).toBe(
      ErrorCodes.PEER_INVALID,
    );
  });
});

describe('validateHeartbeat', () => {
  const base = wireHeartbeat({ incarnation: 5 });

  it('accepts a normal heartbeat and refuses a forged id or zero incarnation', () => {
    expect(validateHeartbeat(base).nodeId).toBe(base.nodeId);
    expect(thrown(() => validateHeartbeat({ ...base, nodeId: 'not-an-id' }), SwarmError).code).toBe(
      ErrorCodes.PEER_INVALID,
    );
    expect(thrown(() => validateHeartbeat({ ...base, incarnation: 0 }), SwarmError).code).toBe(
      ErrorCodes.PEER_INVALID,
    );
  });
});
