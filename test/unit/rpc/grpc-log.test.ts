import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { routeGrpcLogs } from '../../../src/rpc/grpc-log.js';
import { createLogger } from '../../../src/util/logger.js';

interface Line {
  level: number;
  component?: string;
  msg: string;
}

afterEach(() => {
  grpc.setLogger(console);
  vi.restoreAllMocks();
});

describe('routeGrpcLogs', () => {
  it('keeps grpc-js off stderr: its errors become swarmd warnings, a bind failure it also throws only debug', () => {
    const stderr = vi.spyOn(console, 'error');
    const lines: Line[] = [];
    routeGrpcLogs(createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line)) }));
    grpc.experimental.log(grpc.logVerbosity.ERROR, 'Failed to connect to proxy 10.0.0.1:3128');
    grpc.experimental.log(grpc.logVerbosity.ERROR, 'No address added out of total 1 resolved');
    expect(stderr).not.toHaveBeenCalled();
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        component: 'grpc',
        msg: 'Failed to connect to proxy 10.0.0.1:3128',
      }),
      expect.objectContaining({
        level: 20,
        component: 'grpc',
        msg: 'No address added out of total 1 resolved',
      }),
    ]);
  });
});
