// A bidirectional echo service with raw-bytes messages (no proto needed): the bench's floor
// for one frame each way on an open gRPC call, which is what a task-channel hop costs.
import type * as grpc from '@grpc/grpc-js';

const same = (message: Buffer) => message;

export const ECHO_SERVICE: grpc.ServiceDefinition = {
  Echo: {
    path: '/bench.Echo/Echo',
    requestStream: true,
    responseStream: true,
    requestSerialize: same,
    requestDeserialize: same,
    responseSerialize: same,
    responseDeserialize: same,
  },
};
