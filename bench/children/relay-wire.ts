// The wire of the bench's bare gRPC relay (relay-front.ts → relay-back.ts): one bidirectional
// call with raw-bytes messages (no proto), and the two frames that travel on it.
//   request frame:  u32 id | request body
//   response frame: u32 id | u16 status | u16 content-type length | content-type | response body
// The id lets one long-lived call carry many requests at once, as swarmd's task channel does.
import { rawBidiService } from './grpc-echo.js';

export const RELAY_SERVICE = rawBidiService('Relay', '/bench.Relay/Relay');

export interface RelayAnswer {
  id: number;
  status: number;
  contentType: string;
  body: Buffer;
}

export function encodeRequest(id: number, body: Buffer): Buffer {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(id, 0);
  return Buffer.concat([head, body]);
}

export function decodeRequest(frame: Buffer): { id: number; body: Buffer } {
  return { id: frame.readUInt32BE(0), body: frame.subarray(4) };
}

export function encodeAnswer({ id, status, contentType, body }: RelayAnswer): Buffer {
  const type = Buffer.from(contentType);
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(id, 0);
  head.writeUInt16BE(status, 4);
  head.writeUInt16BE(type.length, 6);
  return Buffer.concat([head, type, body]);
}

export function decodeAnswer(frame: Buffer): RelayAnswer {
  const typeEnd = 8 + frame.readUInt16BE(6);
  return {
    id: frame.readUInt32BE(0),
    status: frame.readUInt16BE(4),
    contentType: frame.toString('utf8', 8, typeEnd),
    body: frame.subarray(typeEnd),
  };
}
