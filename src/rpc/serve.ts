// Helpers shared by the peer and control servers: wrap handlers (unary and server-streaming)
// so a throw becomes a gRPC status (the daemon never crashes on input), and bind with clear errors.
import * as grpc from '@grpc/grpc-js';
import { ErrorCodes, errorMessage, SwarmError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { RefusedMessage } from './message-bounds.js';

type Handler<Req, Res> = (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>;

/** Turn a plain (request) => reply function into a grpc-js unary handler that never throws. */
export function unary<Req, Res>(
  logger: Logger,
  name: string,
  handler: Handler<Req, Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    if ((call.request as unknown) instanceof RefusedMessage) {
      const { reason } = call.request as unknown as RefusedMessage;
      callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: reason, metadata: new grpc.Metadata() });
      return;
    }
    Promise.resolve()
      .then(() => handler(call.request, call))
      .then((reply) => callback(null, reply))
      .catch((err: unknown) => callback(toStatus(logger, name, err)));
  };
}

type StreamHandler<Req, Res> = (
  request: Req,
  call: grpc.ServerWritableStream<Req, Res>,
) => Iterable<Res> | AsyncIterable<Res>;

/**
 * Turn a (request) => messages function into a grpc-js server-streaming handler that never
 * throws: messages are written as the client takes them (backpressure), reading stops when the
 * client cancels, and a throw ends the stream with the status unary() would give.
 */
export function serverStream<Req, Res>(
  logger: Logger,
  name: string,
  handler: StreamHandler<Req, Res>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    (async () => {
      for await (const message of handler(call.request, call)) {
        if (call.cancelled || call.destroyed) return;
        if (!call.write(message)) await drained(call);
      }
      if (!call.cancelled) call.end();
    })().catch((err: unknown) => {
      if (!call.cancelled) call.emit('error', toStatus(logger, name, err));
    });
  };
}

/** Resolves when the stream can take more, or has closed (cancelled, failed). */
function drained(call: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('close', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('close', done);
    call.on('cancelled', done);
  });
}

/** The status a handler's throw becomes: its own, a SwarmError's (code in metadata), or INTERNAL. */
function toStatus(logger: Logger, name: string, err: unknown): Partial<grpc.StatusObject> {
  if (isServiceError(err)) return err;
  if (err instanceof SwarmError) {
    // A deliberate refusal: say why, with the status a client can act on.
    const metadata = new grpc.Metadata();
    metadata.set('swarm-error-code', err.code);
    return { code: statusFor(err.code), details: err.message, metadata };
  }
  logger.error({ err, rpc: name }, 'handler failed');
  return {
    code: grpc.status.INTERNAL,
    details: `${name} failed: ${errorMessage(err)}`,
    metadata: new grpc.Metadata(),
  };
}

/** The gRPC status for a SwarmError code. */
export function statusFor(code: string): grpc.status {
  if (code === ErrorCodes.SECURITY_PEER_REFUSED) return grpc.status.PERMISSION_DENIED;
  if (code === ErrorCodes.NODE_NOT_FOUND) return grpc.status.NOT_FOUND;
  if (code.endsWith('_INVALID')) return grpc.status.INVALID_ARGUMENT;
  return grpc.status.FAILED_PRECONDITION;
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as grpc.ServiceError).code === 'number';
}

/** Bind a server, turning EADDRINUSE into a SwarmError that says what to do. */
export function bindServer(
  server: grpc.Server,
  address: string,
  credentials: grpc.ServerCredentials,
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => {
      if (!err) {
        resolve(port);
        return;
      }
      if (/EADDRINUSE|address already in use/i.test(err.message)) {
        reject(
          new SwarmError(
            ErrorCodes.PORT_IN_USE,
            `cannot listen on ${address}: the address is in use (another swarmd? set peer.port / --port to another port)`,
            { cause: err },
          ),
        );
      } else {
        reject(
          new SwarmError(ErrorCodes.PORT_IN_USE, `cannot listen on ${address}: ${err.message}`, {
            cause: err,
          }),
        );
      }
    });
  });
}

/** Graceful shutdown with a deadline, then force. */
export function shutdownServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
