// Call a swarmd peer port the way an outsider would, from inside a test-LAN namespace:
//   node --import tsx test/helpers/peer-probe.ts --target 10.203.7.1:8766 --mode member --data-dir D --calls 3
// Modes: member (mTLS with the credentials in D), plaintext (no TLS), nocert (TLS, no client cert).
// Prints one JSON line: {"results": [{"ok": bool, "code": number|null, "details": string}]}.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { coordinationClient } from '../../src/rpc/proto.js';
import { clientCredentials, peerChannelOptions } from '../../src/security/grpc-credentials.js';
import { loadCredentials } from '../../src/security/store.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    mode: { type: 'string', default: 'member' },
    'data-dir': { type: 'string' },
    calls: { type: 'string', default: '1' },
  },
});

async function channel(): Promise<{ credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions }> {
  if (values.mode === 'plaintext') return { credentials: grpc.credentials.createInsecure(), options: {} };
  if (values.mode === 'nocert') {
    return {
      credentials: grpc.credentials.createSsl(null, null, null, { checkServerIdentity: () => undefined }),
      options: peerChannelOptions(),
    };
  }
  const dataDir = values['data-dir']!;
  const nodeId = (await readFile(join(dataDir, 'node-id'), 'utf8')).trim();
  const creds = await loadCredentials(dataDir, nodeId);
  if (!creds) throw new Error(`no credentials in ${dataDir}`);
  return { credentials: clientCredentials(creds), options: peerChannelOptions() };
}

const { credentials, options } = await channel();
const Client = coordinationClient();
const results: { ok: boolean; code: number | null; details: string }[] = [];
for (let i = 0; i < Number(values.calls); i++) {
  // A fresh client per call: each attempt is a new connection, as a stranger retrying would make.
  const client = new Client(values.target!, credentials, options) as grpc.Client &
    Record<string, (...args: unknown[]) => void>;
  const result = await new Promise<{ ok: boolean; code: number | null; details: string }>((resolve) => {
    client.heartbeat!(
      {
        nodeId: 'ffffffffffffffff',
        incarnation: Date.now(),
        seq: i + 1,
        activity: 'ACTIVITY_ACTIVE',
        protocol: { major: 1, minor: 0 },
      },
      { deadline: Date.now() + 3000 },
      (error: grpc.ServiceError | null) =>
        resolve(
          error
            ? { ok: false, code: error.code, details: error.details }
            : { ok: true, code: null, details: '' },
        ),
    );
  });
  client.close();
  results.push(result);
}
process.stdout.write(`${JSON.stringify({ results })}\n`);
