// Loads proto/swarm/v1/swarm.proto once and exposes the two service definitions.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { boundMemberMessages } from './message-bounds.js';

/** Options every side uses, so both ends agree on how messages map to JS. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The wire protocol this build speaks; peers with the same major are accepted. */
export const PROTOCOL_VERSION = { major: 1, minor: 0 } as const;

/** Absolute path of the proto file, found relative to this module in src/ and dist/src/. */
export function protoPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // src/rpc → ../../proto ; dist/src/rpc → ../../../proto
  const candidates = [join(here, '..', '..', 'proto'), join(here, '..', '..', '..', 'proto')];
  for (const dir of candidates) {
    const file = join(dir, 'swarm', 'v1', 'swarm.proto');
    if (existsSync(file)) return file;
  }
  return join(candidates[0]!, 'swarm', 'v1', 'swarm.proto');
}

let cached:
  | {
      coordination: grpc.ServiceDefinition;
      coordinationClient: grpc.ServiceClientConstructor;
      control: grpc.ServiceDefinition;
      pkg: grpc.GrpcObject;
    }
  | undefined;

/** The loaded services (cached: parsing the proto costs ~20 ms). */
export function loadServices() {
  if (!cached) {
    const definition = protoLoader.loadSync(protoPath(), PROTO_LOADER_OPTIONS);
    const pkg = grpc.loadPackageDefinition(definition);
    const v1 = (pkg.swarm as grpc.GrpcObject).v1 as grpc.GrpcObject;
    // Both ends use the bounded definition: a member message too big is refused undecoded.
    const coordination = boundMemberMessages((v1.SwarmCoordination as grpc.ServiceClientConstructor).service);
    const coordinationClient = grpc.makeClientConstructor(coordination, 'swarm.v1.SwarmCoordination');
    const control = (v1.SwarmControl as grpc.ServiceClientConstructor).service;
    cached = { coordination, coordinationClient, control, pkg: v1 };
  }
  return cached;
}

/** Client constructor for the peer service. */
export function coordinationClient(): grpc.ServiceClientConstructor {
  return loadServices().coordinationClient;
}

/** Client constructor for the local control service. */
export function controlClient(): grpc.ServiceClientConstructor {
  return loadServices().pkg.SwarmControl as grpc.ServiceClientConstructor;
}
