// One root pino logger (JSON to stdout, which journald keeps); services take a child.
import { type Logger, pino } from 'pino';

export type { Logger };

/** Build the root logger. Tests pass a level of 'silent' or a destination. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { pid: process.pid } }, destination);
}

/** A logger that drops everything, for unit tests of services. */
export const silentLogger: Logger = pino({ level: 'silent' });
