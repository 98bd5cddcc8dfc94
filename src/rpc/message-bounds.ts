// Membership messages (RegisterNode, Heartbeat, Rekey, UsageSummary) are small: a NodeInfo
// within validate.ts's list bounds is tens of KB. peer.maxMessageBytes (64 MiB) is sized
// for tasks that carry images, and decoding a member message that large (100k backends)
// froze a node for seconds, long enough to be declared dead. So these methods refuse a
// message over MEMBER_MESSAGE_MAX_BYTES before decoding it, in both directions.
import type * as grpc from '@grpc/grpc-js';

/** Largest RegisterNode/Heartbeat/Rekey/UsageSummary message decoded, either way. */
export const MEMBER_MESSAGE_MAX_BYTES = 512 * 1024;

/** The coordination methods whose messages are bounded (task methods are not). */
const MEMBER_METHODS = new Set(['RegisterNode', 'Heartbeat', 'Rekey', 'UsageSummary']);

/**
 * What a bounded request decodes to when it is too big: serve.ts's unary() answers it with
 * RESOURCE_EXHAUSTED and this reason (a throw here would reach the sender as a bare
 * "Error deserializing request").
 */
export class RefusedMessage {
  constructor(readonly reason: string) {}
}

function tooBig(method: string, what: string, bytes: number): string {
  return `${method} ${what} of ${bytes} bytes refused: member messages are at most ${MEMBER_MESSAGE_MAX_BYTES} bytes`;
}

function boundedRequest<T>(method: string, decode: (buf: Buffer) => T): (buf: Buffer) => T {
  return (buf) =>
    buf.length > MEMBER_MESSAGE_MAX_BYTES
      ? (new RefusedMessage(tooBig(method, 'request', buf.length)) as T)
      : decode(buf);
}

function boundedResponse<T>(method: string, decode: (buf: Buffer) => T): (buf: Buffer) => T {
  return (buf) => {
    if (buf.length > MEMBER_MESSAGE_MAX_BYTES) throw new Error(tooBig(method, 'response', buf.length));
    return decode(buf);
  };
}

/** The service with size-checked decoders on its membership methods. */
export function boundMemberMessages(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(service)) {
    out[name] = MEMBER_METHODS.has(name)
      ? {
          ...method,
          requestDeserialize: boundedRequest(name, method.requestDeserialize),
          responseDeserialize: boundedResponse(name, method.responseDeserialize),
        }
      : method;
  }
  return out as grpc.ServiceDefinition;
}
