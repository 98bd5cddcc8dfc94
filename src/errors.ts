// Every error swarmd raises on purpose is a SwarmError with a stable code.
// Tests assert on `code`; users read `message`, which says what was wrong,
// the value received, and what to do. All codes live here and in the README.

export const ErrorCodes = {
  CONFIG_INVALID: 'SWARM_ERR_CONFIG_INVALID',
  CONFIG_PARSE: 'SWARM_ERR_CONFIG_PARSE',
  CONFIG_UNREADABLE: 'SWARM_ERR_CONFIG_UNREADABLE',
  ARGS_INVALID: 'SWARM_ERR_ARGS_INVALID',
  NODE_ID_CORRUPT: 'SWARM_ERR_NODE_ID_CORRUPT',
  DATA_DIR: 'SWARM_ERR_DATA_DIR',
  PORT_IN_USE: 'SWARM_ERR_PORT_IN_USE',
  CONTROL_UNREACHABLE: 'SWARM_ERR_CONTROL_UNREACHABLE',
  CONTROL_SOCKET_BUSY: 'SWARM_ERR_CONTROL_SOCKET_BUSY',
  CONTROL_FAILED: 'SWARM_ERR_CONTROL_FAILED',
  GATEWAY_UNREACHABLE: 'SWARM_ERR_GATEWAY_UNREACHABLE',
  NODE_NOT_FOUND: 'SWARM_ERR_NODE_NOT_FOUND',
  PEER_UNREACHABLE: 'SWARM_ERR_PEER_UNREACHABLE',
  PEER_PROTOCOL: 'SWARM_ERR_PEER_PROTOCOL',
  PEER_INVALID: 'SWARM_ERR_PEER_INVALID',
  PEER_ID_CONFLICT: 'SWARM_ERR_PEER_ID_CONFLICT',
  TXT_INVALID: 'SWARM_ERR_TXT_INVALID',
  BACKEND_UNREACHABLE: 'SWARM_ERR_BACKEND_UNREACHABLE',
  BACKEND_BAD_RESPONSE: 'SWARM_ERR_BACKEND_BAD_RESPONSE',
  GPU_QUERY: 'SWARM_ERR_GPU_QUERY',
  NOT_IMPLEMENTED: 'SWARM_ERR_NOT_IMPLEMENTED',
  SECURITY_TOKEN_INVALID: 'SWARM_ERR_SECURITY_TOKEN_INVALID',
  SECURITY_TOKEN_STALE: 'SWARM_ERR_SECURITY_TOKEN_STALE',
  SECURITY_UNPAIRED: 'SWARM_ERR_SECURITY_UNPAIRED',
  SECURITY_ALREADY_MEMBER: 'SWARM_ERR_SECURITY_ALREADY_MEMBER',
  SECURITY_CREDENTIALS_CORRUPT: 'SWARM_ERR_SECURITY_CREDENTIALS_CORRUPT',
  SECURITY_DATA_DIR_UNSAFE: 'SWARM_ERR_SECURITY_DATA_DIR_UNSAFE',
  SECURITY_PEER_REFUSED: 'SWARM_ERR_SECURITY_PEER_REFUSED',
  USAGE_STORE: 'SWARM_ERR_USAGE_STORE',
  REQUEST_CANCELLED: 'SWARM_ERR_REQUEST_CANCELLED',
  TASK_REFUSED: 'SWARM_ERR_TASK_REFUSED',
  WORKER_LOST: 'SWARM_ERR_WORKER_LOST',
  TASK_STALE: 'SWARM_ERR_TASK_STALE',
  TASK_STORE: 'SWARM_ERR_TASK_STORE',
  TASK_NOT_FOUND: 'SWARM_ERR_TASK_NOT_FOUND',
  TASK_HANDED_BACK: 'SWARM_ERR_TASK_HANDED_BACK',
  BACKEND_ERROR: 'SWARM_ERR_BACKEND_ERROR',
  BACKEND_OVERLOADED: 'SWARM_ERR_BACKEND_OVERLOADED',
  BACKEND_BAD_REQUEST: 'SWARM_ERR_BACKEND_BAD_REQUEST',
  BACKEND_AUTH_FAILED: 'SWARM_ERR_BACKEND_AUTH_FAILED',
  BACKEND_QUOTA_EXCEEDED: 'SWARM_ERR_BACKEND_QUOTA_EXCEEDED',
  BACKEND_TIMEOUT: 'SWARM_ERR_BACKEND_TIMEOUT',
  BACKEND_STREAM_BROKEN: 'SWARM_ERR_BACKEND_STREAM_BROKEN',
  MODEL_NOT_FOUND: 'SWARM_ERR_MODEL_NOT_FOUND',
  CONTEXT_LENGTH_EXCEEDED: 'SWARM_ERR_CONTEXT_LENGTH_EXCEEDED',
  QUEUE_FULL: 'SWARM_ERR_QUEUE_FULL',
  NO_CAPACITY: 'SWARM_ERR_NO_CAPACITY',
  UNAUTHORIZED: 'SWARM_ERR_UNAUTHORIZED',
  PRIVACY_INVALID: 'SWARM_ERR_PRIVACY_INVALID',
  INTERNAL: 'SWARM_ERR_INTERNAL',
  GATEWAY_BAD_REQUEST: 'SWARM_ERR_GATEWAY_BAD_REQUEST',
  GATEWAY_BODY_TOO_LARGE: 'SWARM_ERR_GATEWAY_BODY_TOO_LARGE',
  GATEWAY_FORBIDDEN_HOST: 'SWARM_ERR_GATEWAY_FORBIDDEN_HOST',
  GATEWAY_FORBIDDEN_ORIGIN: 'SWARM_ERR_GATEWAY_FORBIDDEN_ORIGIN',
  GATEWAY_KEYS_REQUIRED: 'SWARM_ERR_GATEWAY_KEYS_REQUIRED',
  GATEWAY_NOT_FOUND: 'SWARM_ERR_GATEWAY_NOT_FOUND',
  GATEWAY_METHOD_NOT_ALLOWED: 'SWARM_ERR_GATEWAY_METHOD_NOT_ALLOWED',
  JOB_INVALID: 'SWARM_ERR_JOB_INVALID',
  JOB_NOT_FOUND: 'SWARM_ERR_JOB_NOT_FOUND',
  JOB_STATE: 'SWARM_ERR_JOB_STATE',
  JOB_APPLY_CONFLICT: 'SWARM_ERR_JOB_APPLY_CONFLICT',
  JOB_WORKSPACE: 'SWARM_ERR_JOB_WORKSPACE',
  JOB_STORE: 'SWARM_ERR_JOB_STORE',
  JOB_SANDBOX: 'SWARM_ERR_JOB_SANDBOX',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class of every deliberate swarmd error. */
export class SwarmError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SwarmError';
    this.code = code;
  }
}

/** A configuration value (file, environment or flag) that cannot be used. */
export class ConfigError extends SwarmError {
  constructor(message: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(options?.code ?? ErrorCodes.CONFIG_INVALID, message, options);
    this.name = 'ConfigError';
  }
}

/** Something a peer sent that we refuse (bad fields, wrong version, stolen id). */
export class PeerError extends SwarmError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'PeerError';
  }
}

/** A model server that does not answer or answers in a shape we cannot read. */
export class BackendError extends SwarmError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'BackendError';
  }
}

/**
 * No node can take a request now, but one that could is expected back soon (restarting, joining,
 * or silent for a moment): the dispatcher waits for it, up to routing.queueTimeout.
 */
export class CapacityPendingError extends SwarmError {
  constructor(message: string) {
    super(ErrorCodes.NO_CAPACITY, message);
    this.name = 'CapacityPendingError';
  }
}

/** Narrow an unknown thrown value to its message, for logs and replies. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** True when err is a SwarmError carrying the given code. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof SwarmError && err.code === code;
}
