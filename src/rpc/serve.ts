// Helpers shared by the peer and control servers: wrap handlers so a throw becomes a
// gRPC status (the daemon never crashes on input), and bind with clear errors.
import * as grpc from '@grpc/grpc-js';
import { ErrorCodes, errorMessage, SwarmError } from '../errors.js';
import type { Logger } from '../util/logger.js';

type Handler<Req, Res> = (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>;

/** Turn a plain (request) => reply function into a grpc-js unary handler that never throws. */
export function unary<Req, Res>(
  logger: Logger,
  name: string,
  handler: Handler<Req, Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => handler(call.request, call))
      .then((reply) => callback(null, reply))
      .catch((err: unknown) => {
        if (isServiceError(err)) {
          callback(err);
          return;
        }
        if (err instanceof SwarmError) {
          // A deliberate refusal: say why, with the status a client can act on.
          const metadata = new grpc.Metadata();
          metadata.set('swarm-error-code', err.code);
          callback({ code: statusFor(err.code), details: err.message, metadata });
          return;
        }
        logger.error({ err, rpc: name }, 'handler failed');
        callback({
          code: grpc.status.INTERNAL,
          details: `${name} failed: ${errorMessage(err)}`,
          metadata: new grpc.Metadata(),
        });
      });
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
