// grpc-js writes its own log lines straight to stderr ("E No address added out of total 1
// resolved"). Route them through swarmd's logger instead, so a person sees swarmd's words:
// a failure grpc-js also hands to its caller is told once, by the code that knows what to do.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../util/logger.js';

// Bind failures: bindAsync rejects with them too, and swarmd reports SWARM_ERR_PORT_IN_USE (the
// port, and what to do) or its own start error; grpc-js's line would only say it twice, worse.
const TOLD_TO_CALLER = /^(No address added|WARNING Only \d+ addresses added)/;

/** Send everything grpc-js logs (process-wide) to logger, component "grpc": errors as warnings. */
export function routeGrpcLogs(logger: Logger): void {
  const log = logger.child({ component: 'grpc' });
  const to =
    (level: 'warn' | 'debug' | 'trace') =>
    (message?: unknown, ...rest: unknown[]): void => {
      const text = [message, ...rest].map(String).join(' ');
      log[TOLD_TO_CALLER.test(text) ? 'debug' : level](text);
    };
  grpc.setLogger({ error: to('warn'), info: to('debug'), debug: to('trace') });
}
