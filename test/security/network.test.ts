// Threat: verification reaches the network. With jobs.sandbox auto (bubblewrap), a project
// whose test opens a connection fails; with the sandbox off the same test passes. The
// connection goes to a server this test runs on loopback, so nothing leaves the box either way.
import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseSandbox, type Sandbox } from '../../src/jobs/io/sandbox.js';
import { runSteps } from '../../src/jobs/io/verify.js';
import type { SandboxMode } from '../../src/jobs/rules/settings.js';
import { makeRepo, PACKAGE_JSON, type TinyRepo } from '../integration/jobs/tiny-repo.js';

let server: Server;
let port = 0;
let repo: TinyRepo;

beforeAll(async () => {
  server = createServer((socket) => socket.end('hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  repo = makeRepo(
    {
      'package.json': PACKAGE_JSON,
      'test/net.test.js': `import assert from 'node:assert/strict';
import { connect } from 'node:net';
import test from 'node:test';

test('reaches the network', async () => {
  const text = await new Promise((resolve, reject) => {
    const socket = connect(${port}, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => { got += d; });
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
  });
  assert.equal(text, 'hello');
});
`,
    },
    { git: false },
  );
});

afterAll(() => {
  server?.close();
  repo?.remove();
});

const steps = [{ name: 'test', argv: ['npm', 'test', '--silent'] }];

async function sandboxFor(mode: SandboxMode): Promise<Sandbox> {
  const choice = await chooseSandbox({ mode, readOnly: [] }, { home: homedir(), hidden: [] });
  if (!choice.ok) throw new Error(`no sandbox: ${choice.reason}`);
  return choice.sandbox;
}

describe('the verification sandbox', () => {
  it('auto is bubblewrap here, and a test that opens a connection fails inside it', async () => {
    const sandbox = await sandboxFor('auto');
    expect(sandbox.kind).toBe('bubblewrap');
    const mounts = { workspace: repo.dir, readOnly: [] };
    const result = await runSteps(steps, { mounts, sandbox, timeoutMs: 60_000 });
    expect(result.ok).toBe(false);
    expect(result.failedStep).toBe('test');
    expect(result.output).toMatch(/ECONNREFUSED|ENETUNREACH|EACCES|EPERM/);
  }, 90_000);

  it('with the sandbox off the same test passes (the failure above is the sandbox)', async () => {
    const result = await runSteps(steps, {
      mounts: { workspace: repo.dir, readOnly: [] },
      sandbox: await sandboxFor('off'),
      timeoutMs: 60_000,
    });
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  }, 90_000);
});
