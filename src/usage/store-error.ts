// The USAGE_STORE error for a failed ledger operation: says what went wrong with which file and
// what the person can do about it (move a damaged file aside, free disk space, fix permissions).
import { ErrorCodes, errorMessage, SwarmError } from '../errors.js';

/** A SwarmError USAGE_STORE for `err` raised while doing `what` on the ledger at `path`. */
export function storeError(path: string, what: string, err: unknown): SwarmError {
  if (err instanceof SwarmError) return err;
  const code = (err as { code?: unknown }).code;
  const text = errorMessage(err);
  if (code === 'SQLITE_NOTADB' || (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'))) {
    return new SwarmError(
      ErrorCodes.USAGE_STORE,
      `usage ledger ${path} is damaged or not a SQLite database (${text}). Stop swarmd, move the file aside (mv ${path} ${path}.broken, and the same for ${path}-wal and ${path}-shm if present) and start it again: a new, empty ledger is created and the old rows stay in the moved file.`,
      { cause: err },
    );
  }
  if (code === 'SQLITE_FULL') {
    return new SwarmError(
      ErrorCodes.USAGE_STORE,
      `usage ledger ${path}: ${what} failed, the disk is full (${text}). Free space, or shorten usage.retention.`,
      { cause: err },
    );
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM') {
    return new SwarmError(
      ErrorCodes.USAGE_STORE,
      `usage ledger ${path}: ${what} failed, the file cannot be written (${text}). Check that this user owns it and its directory, or set usage.path.`,
      { cause: err },
    );
  }
  return new SwarmError(ErrorCodes.USAGE_STORE, `usage ledger ${path}: ${what} failed: ${text}`, {
    cause: err,
  });
}
