// Well-formed peer messages as a member sends them (the shapes of src/rpc/wire.ts); a test
// passes only the fields it is about.
import type { HeartbeatRequest, WireNodeInfo } from '../../src/rpc/wire.js';

/** A NodeInfo that passes validation: an active node on protocol 1.0 with nothing to offer. */
export function wireNodeInfo(fields: Partial<WireNodeInfo> = {}): WireNodeInfo {
  return {
    id: '0123456789abcdef',
    name: 'box',
    endpoints: [],
    protocol: { major: 1, minor: 0 },
    incarnation: 1_700_000_000_000,
    activity: 'ACTIVITY_ACTIVE',
    gpus: [],
    backends: [],
    system: null,
    softwareVersion: '0.1.0',
    inflight: 0,
    generation: 1,
    activityReason: '',
    ...fields,
  };
}

/** A heartbeat that passes validation: the first of an idle, active node on protocol 1.0. */
export function wireHeartbeat(fields: Partial<HeartbeatRequest> = {}): HeartbeatRequest {
  return {
    nodeId: '0123456789abcdef',
    incarnation: 1_700_000_000_000,
    seq: 1,
    activity: 'ACTIVITY_ACTIVE',
    inflight: 0,
    generation: 1,
    gpus: [],
    activityReason: '',
    protocol: { major: 1, minor: 0 },
    modelInflight: {},
    ...fields,
  };
}
