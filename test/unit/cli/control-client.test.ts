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

  it('passes on the reason when the daemon refuses a request', () => {
    for (const code of [status.NOT_FOUND, status.INVALID_ARGUMENT, status.FAILED_PRECONDITION]) {
      const err = mapControlError(
        grpcError(code, 'no node called "zulu" in this swarm'),
        present,
        'RemoveNode',
      );
      expect(err.code).toBe(ErrorCodes.CONTROL_FAILED);
      expect(err.message).toBe('swarmd refused RemoveNode: no node called "zulu" in this swarm');
    }
  });

  it("keeps the daemon's own error code and message when it sends one", () => {
    const refusal = grpcError(status.NOT_FOUND, 'no node "zulu" in this swarm: see `swarmctl nodes`');
    refusal.metadata.set('swarm-error-code', 'SWARM_ERR_NODE_NOT_FOUND');
    const err = mapControlError(refusal, present, 'RemoveNode');
    expect(err.code).toBe(ErrorCodes.NODE_NOT_FOUND);
    expect(err.message).toBe('no node "zulu" in this swarm: see `swarmctl nodes`');
    // An unknown code (newer daemon) falls back to the status.
    const newer = grpcError(status.FAILED_PRECONDITION, 'something new');
    newer.metadata.set('swarm-error-code', 'SWARM_ERR_FROM_THE_FUTURE');
    expect(mapControlError(newer, present, 'Rotate').code).toBe(ErrorCodes.CONTROL_FAILED);
  });

  it('says how long it waited for a rekey', () => {
    const err = mapControlError(grpcError(status.DEADLINE_EXCEEDED, ''), present, 'Rotate', 20_000);
    expect(err.message).toContain('did not answer Rotate within 20s');
  });

  it('keeps the status and details of other daemon failures', () => {
    const err = mapControlError(grpcError(status.INTERNAL, 'boom'), present, 'Status');
    expect(err.code).not.toBe(ErrorCodes.CONTROL_UNREACHABLE);
    expect(err.message).toContain('INTERNAL: boom');
  });
});
