// The error the gateway raises about a client's request itself (bad JSON, a missing or
// wrongly typed parameter), carrying the OpenAI `param` and `code` the client sees.
import { type ErrorCode, ErrorCodes, SwarmError } from '../errors.js';

/** A request the gateway refuses before dispatch; `param` names the offending field. */
export class RequestError extends SwarmError {
  readonly param: string | null;
  readonly openaiCode: string | null;

  constructor(
    message: string,
    options: { param?: string | null; openaiCode?: string | null; code?: ErrorCode; cause?: unknown } = {},
  ) {
    super(options.code ?? ErrorCodes.GATEWAY_BAD_REQUEST, message, { cause: options.cause });
    this.name = 'RequestError';
    this.param = options.param ?? null;
    this.openaiCode = options.openaiCode ?? null;
  }
}
