// One root pino logger (JSON to stdout, which journald keeps); services take a child.
import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * Build the root logger. By default lines go to stdout asynchronously: a log line must never
 * cost a request a blocking write (one is ~0.2 ms on a small VM). pino flushes what is pending
 * on exit. Tests pass a level of 'silent' or a destination.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, base: { pid: process.pid } },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that drops everything, for unit tests of services. */
export const silentLogger: Logger = pino({ level: 'silent' });
