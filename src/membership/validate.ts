// Checks on what a peer sends before any of it is believed. Pure; throws PeerError
// naming the field and the problem, so the caller can log it once and refuse the call.
import { parseEndpoint } from '../discovery/addresses.js';
import { ErrorCodes, PeerError } from '../errors.js';
import type { HeartbeatRequest, WireNodeInfo, WireProtocolVersion } from '../rpc/wire.js';

const NODE_ID_RE = /^[0-9a-f]{16}$/;
const LIMITS = { name: 63, endpoints: 16, gpus: 64, backends: 64, models: 2000, text: 512 };

/** True for a well-formed node id (16 lowercase hex chars). */
export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID_RE.test(value);
}

function invalid(field: string, problem: string): never {
  throw new PeerError(ErrorCodes.PEER_INVALID, `${field}: ${problem}`);
}

/** Validate a node id field. */
export function checkNodeId(field: string, value: unknown): string {
  if (!isNodeId(value))
    invalid(field, `expected 16 lowercase hex characters, got ${JSON.stringify(String(value).slice(0, 40))}`);
  return value;
}

/** Validate a protocol version field. */
export function checkProtocol(
  field: string,
  value: WireProtocolVersion | null | undefined,
): WireProtocolVersion {
  if (!value || !Number.isInteger(value.major) || value.major < 1)
    invalid(field, 'missing or invalid protocol version');
  return value;
}

/** Validate a whole NodeInfo from RegisterNode. */
export function validateNodeInfo(info: WireNodeInfo | null | undefined, field = 'node'): WireNodeInfo {
  if (!info) invalid(field, 'missing');
  checkNodeId(`${field}.id`, info.id);
  if (typeof info.name !== 'string' || info.name.length === 0 || info.name.length > LIMITS.name) {
    invalid(`${field}.name`, `expected 1 to ${LIMITS.name} characters`);
  }
  checkProtocol(`${field}.protocol`, info.protocol);
  if (info.endpoints.length > LIMITS.endpoints)
    invalid(`${field}.endpoints`, `more than ${LIMITS.endpoints}`);
  for (const endpoint of info.endpoints) {
    if (!parseEndpoint(endpoint))
      invalid(`${field}.endpoints`, `${JSON.stringify(endpoint.slice(0, 80))} is not host:port`);
  }
  if (info.gpus.length > LIMITS.gpus) invalid(`${field}.gpus`, `more than ${LIMITS.gpus}`);
  if (info.backends.length > LIMITS.backends) invalid(`${field}.backends`, `more than ${LIMITS.backends}`);
  const models = info.backends.reduce((sum, backend) => sum + backend.models.length, 0);
  if (models > LIMITS.models) invalid(`${field}.backends.models`, `more than ${LIMITS.models} models`);
  for (const backend of info.backends) {
    if (backend.id.length > LIMITS.text || backend.url.length > LIMITS.text)
      invalid(`${field}.backends`, 'id or url too long');
  }
  if (!Number.isFinite(info.incarnation) || info.incarnation <= 0)
    invalid(`${field}.incarnation`, 'must be positive');
  return info;
}

/** Validate the identity fields of a heartbeat. */
export function validateHeartbeat(request: HeartbeatRequest): HeartbeatRequest {
  checkNodeId('nodeId', request.nodeId);
  if (!Number.isFinite(request.incarnation) || request.incarnation <= 0)
    invalid('incarnation', 'must be positive');
  if (request.gpus.length > LIMITS.gpus) invalid('gpus', `more than ${LIMITS.gpus}`);
  if (request.activityReason.length > LIMITS.text) invalid('activityReason', 'too long');
  return request;
}
