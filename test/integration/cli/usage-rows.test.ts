// UsageRows end to end between the real ControlServer and the real control client: a big export
// streams whole, a reader that stops early stops the daemon's reading, and a failure arrives as
// the daemon's SwarmError.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectControl } from '../../../src/cli/control-client.js';
import { ControlServer } from '../../../src/control/server.js';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import type { UsageRowMessage, UsageRowsRequest } from '../../../src/rpc/wire.js';
import { createLogger } from '../../../src/util/logger.js';
import { waitUntil } from '../../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'swarmctl-rows-'));
const socket = join(dir, 'control.sock');
const ROWS = 5_000;
/** How many rows the server produced for the latest call, and whether it was told to stop. */
const produced = { count: 0, finished: false };
let server: ControlServer;

function* rows(request: UsageRowsRequest): Generator<UsageRowMessage> {
  produced.count = 0;
  produced.finished = false;
  if (request.sinceMs < 0) throw new SwarmError(ErrorCodes.USAGE_STORE, 'the ledger is closed');
  try {
    for (let i = 0; i < ROWS; i++) {
      produced.count++;
      yield { jsonl: `${JSON.stringify({ i, pad: 'x'.repeat(200) })}\n` };
    }
  } finally {
    produced.finished = true;
  }
}

beforeAll(async () => {
  const unused = () => {
    throw new Error('not used');
  };
  server = new ControlServer(
    {
      logger: createLogger('silent'),
      handlers: {
        status: unused,
        listNodes: unused,
        listModels: unused,
        doctor: unused,
        removeNode: unused,
        rotate: unused,
        usage: async () => ({ json: '{}' }),
        usageRows: rows,
        pause: unused,
        resume: unused,
        drain: unused,
      },
    },
    { socketPath: socket },
  );
  await server.start();
});

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('UsageRows over the control socket', () => {
  it('streams every row, in order', async () => {
    const client = connectControl(socket);
    let n = 0;
    for await (const line of client.usageRows({ sinceMs: 0 })) {
      expect(JSON.parse(line).i).toBe(n);
      n++;
    }
    client.close();
    expect(n).toBe(ROWS);
  });

  it('stops producing rows when the reader stops early', async () => {
    const client = connectControl(socket);
    let n = 0;
    for await (const _line of client.usageRows({ sinceMs: 0 })) {
      if (++n === 10) break;
    }
    await waitUntil(() => produced.finished, 'the producer to finish', 2_000, 20).finally(() =>
      client.close(),
    );
    expect(produced.count).toBeLessThan(ROWS);
  });

  it("ends with the daemon's SwarmError when reading fails", async () => {
    const client = connectControl(socket);
    const read = async () => {
      for await (const _line of client.usageRows({ sinceMs: -1 })) {
        // nothing arrives
      }
    };
    await expect(read()).rejects.toMatchObject({
      code: ErrorCodes.USAGE_STORE,
      message: 'the ledger is closed',
    });
    client.close();
  });
});
