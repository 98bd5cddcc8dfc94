// Errors about swarm membership and peer identity; callers branch on `code`, users read `message`.
import { type ErrorCode, SwarmError } from '../errors.js';

/** A token, credential file or peer identity that swarmd refuses. */
export class SecurityError extends SwarmError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'SecurityError';
  }
}
