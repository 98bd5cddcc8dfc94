import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { mapControlError } from '../../../src/cli/control-client.js';
import { ErrorCodes } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'swarmctl-cc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function grpcError(code: status, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}

describe('mapControlError', () => {
  const missing = join(dir, 'missing.sock');
  const present = join(dir, 'present.sock');
  writeFileSync(present, '');

  it('names a missing socket and how to start swarmd', () => {
    const err = mapControlError(
      grpcError(status.UNAVAILABLE, 'No connection established'),
      missing,
      'ListNodes',
    );
    expect(err.code).toBe(ErrorCodes.CONTROL_UNREACHABLE);
    expect(err.message).toContain(`no control socket at ${missing}`);
    expect(err.message).toContain('systemctl --user start swarmd');
    expect(err.message).toContain('--socket PATH');
  });

  it('calls a refused connection a stale socket', () => {
    const err = mapControlError(grpcError(status.UNAVAILABLE, 'connect ECONNREFUSED'), present, 'Status');
    expect(err.code).toBe(ErrorCodes.CONTROL_UNREACHABLE);
    expect(err.message).toContain(`nothing is listening on ${present}`);
  });

  it('names a permission problem', () => {
    const err = mapControlError(grpcError(status.UNAVAILABLE, 'connect EACCES'), present, 'Status');
    expect(err.code).toBe(ErrorCodes.CONTROL_UNREACHABLE);
    expect(err.message).toContain('permission denied');
  });

  it('treats a missed deadline as unreachable', () => {
    const err = mapControlError(
      grpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'),
      present,
      'Doctor',
      5000,
    );
    expect(err.code).toBe(ErrorCodes.CONTROL_UNREACHABLE);
    expect(err.message).toContain('did not answer Doctor within 5s');
  });

  it('says the versions differ when the daemon lacks the method', () => {
    const err = mapControlError(grpcError(status.UNIMPLEMENTED, ''), present, 'ListModels');
    expect(err.code).toBe(ErrorCodes.NOT_IMPLEMENTED);
    expect(err.message).toContain('ListModels');
  });

  it('keeps the status and details of other daemon failures', () => {
    const err = mapControlError(grpcError(status.INTERNAL, 'boom'), present, 'Status');
    expect(err.code).not.toBe(ErrorCodes.CONTROL_UNREACHABLE);
    expect(err.message).toContain('INTERNAL: boom');
  });
});
