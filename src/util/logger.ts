// One root pino logger (JSON to stdout, which journald keeps); services take a child.
import { type Logger, pino } from 'pino';

export type { Logger };

/** Lines wait at most this long before they are written (together with the lines after them). */
export const LOG_FLUSH_MS = 10;

/**
 * Build the root logger. By default lines go to stdout asynchronously and in batches: a log
 * line must never cost a request a blocking write (one is ~0.2 ms on a small VM), and under
 * load one write of many lines costs far less than a write (and a thread-pool handoff) per
 * line. pino flushes what is pending on exit. Tests pass a level of 'silent' or a destination.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { pid: process.pid } }, destination ?? batchedStdout());
}

/** stdout, written LOG_FLUSH_MS after the first line of a batch (or once 8 KiB are waiting). */
function batchedStdout(): pino.DestinationStream {
  const out = pino.destination({ dest: 1, sync: false, minLength: 8 * 1024 });
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    try {
      out.flush();
    } catch {
      // Closed at exit: what was pending went out with pino's own exit flush.
    }
  };
  return {
    write(line: string) {
      out.write(line);
      if (!timer) {
        timer = setTimeout(flush, LOG_FLUSH_MS);
        timer.unref();
      }
    },
  };
}

/** A logger that drops everything, for unit tests of services. */
export const silentLogger: Logger = pino({ level: 'silent' });
