// Raw-bytes bidirectional gRPC services for the bench's floors (no proto needed): an echo, for
// one frame each way on an open call (what a task-channel hop costs at least), and the
// relay's wire (relay-wire.ts).
import type * as grpc from '@grpc/grpc-js';

const same = (message: Buffer) => message;

/** A service with one bidirectional method whose messages are the bytes as sent. */
export function rawBidiService(method: string, path: string): grpc.ServiceDefinition {
  return {
    [method]: {
      path,
      requestStream: true,
      responseStream: true,
      requestSerialize: same,
      requestDeserialize: same,
      responseSerialize: same,
      responseDeserialize: same,
    },
  };
}

export const ECHO_SERVICE = rawBidiService('Echo', '/bench.Echo/Echo');
