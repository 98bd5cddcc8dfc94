import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { endQuietlyWhenReaderCloses } from '../../../src/cli/closed-pipe.js';

function failure(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`write ${code}`), { code });
}

describe('endQuietlyWhenReaderCloses', () => {
  it('ends with status 0 when the reader has gone (EPIPE)', () => {
    const stream = new PassThrough();
    const exit = vi.fn();
    endQuietlyWhenReaderCloses(stream, exit);
    stream.emit('error', failure('EPIPE'));
    expect(exit).toHaveBeenCalledExactlyOnceWith(0);
  });

  it('lets any other write error through', () => {
    const stream = new PassThrough();
    const exit = vi.fn();
    endQuietlyWhenReaderCloses(stream, exit);
    expect(() => stream.emit('error', failure('ENOSPC'))).toThrow('write ENOSPC');
    expect(exit).not.toHaveBeenCalled();
  });
});
