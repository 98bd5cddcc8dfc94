// SwarmError codes → HTTP status and OpenAI error objects (BACKENDS.md §6.3), in one table.
// Anything not in the table is a 500 `server_error`; a non-SwarmError (a bug) never shows
// its message or stack to the client.
import { type ErrorCode, ErrorCodes, SwarmError } from '../errors.js';
import { withoutAddresses } from './scrub.js';

/** The OpenAI error object: `{error: {message, type, param, code}}`. */
export interface OpenAIErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** How one SwarmError code is answered. */
export interface ErrorRule {
  status: number;
  type: string;
  code: string | null;
  /** Retry-After when the error carries no positive `retryAfterMs` of its own; none when absent. */
  retryAfterMs?: number;
}

/** The answer to a failed request, ready to write. */
export interface HttpError {
  status: number;
  error: OpenAIErrorObject;
  /** Retry-After, retry-after-ms and x-swarm-error-code. */
  headers: Record<string, string>;
  /** The SwarmError code (x-swarm-error-code). */
  swarmCode: ErrorCode;
}

const invalid = 'invalid_request_error';

/** The mapping table; codes missing here answer 500 `server_error`. */
export const ERROR_RULES: Readonly<Partial<Record<ErrorCode, ErrorRule>>> = {
  [ErrorCodes.MODEL_NOT_FOUND]: { status: 404, type: invalid, code: 'model_not_found' },
  [ErrorCodes.CONTEXT_LENGTH_EXCEEDED]: { status: 400, type: invalid, code: 'context_length_exceeded' },
  [ErrorCodes.QUEUE_FULL]: { status: 429, type: 'requests', code: 'rate_limit_exceeded', retryAfterMs: 1000 },
  [ErrorCodes.BACKEND_OVERLOADED]: {
    status: 503,
    type: 'server_error',
    code: 'server_is_overloaded',
    retryAfterMs: 2000,
  },
  [ErrorCodes.TASK_HANDED_BACK]: {
    status: 503,
    type: 'server_error',
    code: 'node_paused',
    retryAfterMs: 1000,
  },
  [ErrorCodes.NO_CAPACITY]: { status: 503, type: 'server_error', code: 'no_capacity', retryAfterMs: 5000 },
  // Nothing can serve it right now (holders dead, paused, busy elsewhere): worth retrying later.
  [ErrorCodes.NODE_NOT_FOUND]: { status: 503, type: 'server_error', code: 'no_capacity', retryAfterMs: 5000 },
  [ErrorCodes.TASK_REFUSED]: {
    status: 503,
    type: 'server_error',
    code: 'server_is_overloaded',
    retryAfterMs: 1000,
  },
  [ErrorCodes.WORKER_LOST]: { status: 503, type: 'server_error', code: 'worker_lost', retryAfterMs: 1000 },
  // Our credentials for an upstream were refused: a gateway-side configuration problem.
  [ErrorCodes.BACKEND_AUTH_FAILED]: { status: 502, type: 'server_error', code: 'upstream_auth_failed' },
  [ErrorCodes.BACKEND_BAD_REQUEST]: { status: 400, type: invalid, code: null },
  [ErrorCodes.BACKEND_QUOTA_EXCEEDED]: {
    status: 429,
    type: 'insufficient_quota',
    code: 'insufficient_quota',
  },
  [ErrorCodes.BACKEND_TIMEOUT]: { status: 504, type: 'server_error', code: 'timeout' },
  [ErrorCodes.UNAUTHORIZED]: { status: 401, type: invalid, code: 'invalid_api_key' },
  [ErrorCodes.PRIVACY_INVALID]: { status: 400, type: invalid, code: 'invalid_privacy' },
  [ErrorCodes.ARGS_INVALID]: { status: 400, type: invalid, code: null },
  [ErrorCodes.GATEWAY_BAD_REQUEST]: { status: 400, type: invalid, code: null },
  [ErrorCodes.GATEWAY_BODY_TOO_LARGE]: { status: 413, type: invalid, code: 'request_too_large' },
  [ErrorCodes.GATEWAY_FORBIDDEN_HOST]: { status: 403, type: invalid, code: 'forbidden_host' },
  [ErrorCodes.GATEWAY_FORBIDDEN_ORIGIN]: { status: 403, type: invalid, code: 'forbidden_origin' },
  [ErrorCodes.GATEWAY_KEYS_REQUIRED]: { status: 403, type: invalid, code: 'api_keys_required' },
  [ErrorCodes.TASK_NOT_FOUND]: { status: 404, type: invalid, code: 'task_not_found' },
  [ErrorCodes.GATEWAY_NOT_FOUND]: { status: 404, type: invalid, code: 'unknown_url' },
  [ErrorCodes.GATEWAY_METHOD_NOT_ALLOWED]: { status: 405, type: invalid, code: 'method_not_allowed' },
};

const SERVER_ERROR: ErrorRule = { status: 500, type: 'server_error', code: 'server_error' };

/** The client-facing form of any thrown value; `model` words the model_not_found message. */
export function toHttpError(
  err: unknown,
  context: { model?: string | null; requestId?: string } = {},
): HttpError {
  if (!(err instanceof SwarmError)) {
    const where = context.requestId ? ` (request ${context.requestId})` : '';
    return build(
      SERVER_ERROR,
      ErrorCodes.INTERNAL,
      `swarmd failed to handle the request${where}; see the daemon log`,
      null,
      SERVER_ERROR.code,
    );
  }
  const rule = ERROR_RULES[err.code] ?? SERVER_ERROR;
  // The daemon log keeps the full text (with the request id); the client never sees an address.
  let message = withoutAddresses(err.message);
  if (err.code === ErrorCodes.MODEL_NOT_FOUND && context.model) {
    message = `The model \`${context.model}\` does not exist or no node of this swarm serves it. ${err.message}`;
  }
  const extra = err as { param?: unknown; openaiCode?: unknown; retryAfterMs?: unknown; upstream?: unknown };
  const param = typeof extra.param === 'string' ? extra.param : null;
  // A model server's own type and code (here or from a peer's worker), as it said them.
  const upstream = isRecord(extra.upstream) ? extra.upstream : {};
  const code =
    typeof extra.openaiCode === 'string'
      ? extra.openaiCode
      : typeof upstream['code'] === 'string'
        ? upstream['code']
        : rule.code;
  const type = typeof upstream['type'] === 'string' ? upstream['type'] : rule.type;
  const retryAfterMs =
    typeof extra.retryAfterMs === 'number' && Number.isFinite(extra.retryAfterMs) && extra.retryAfterMs > 0
      ? extra.retryAfterMs
      : rule.retryAfterMs;
  return build({ ...rule, type }, err.code, message, param, code, retryAfterMs);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function build(
  rule: ErrorRule,
  swarmCode: ErrorCode,
  message: string,
  param: string | null,
  code: string | null,
  retryAfterMs?: number,
): HttpError {
  const headers: Record<string, string> = { 'x-swarm-error-code': swarmCode };
  if (retryAfterMs !== undefined) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    headers['retry-after-ms'] = String(Math.round(retryAfterMs));
  }
  return { status: rule.status, error: { message, type: rule.type, param, code }, headers, swarmCode };
}
