// What a client reads never names an internal host: every error path of a real two-node swarm
// (alpha serves local-only:1b itself, bravo serves peer-only:8b over the peer hop) is scanned
// for URLs and host:port: gateway JSON errors, stream error events, `/v1/tasks` error objects,
// `swarmctl chat` messages and every `x-swarm-*` header. The model server's own message, type
// and code reach the client as it said them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namesAddress } from '../../../src/gateway/scrub.js';
import { openAiError } from '../../fakes/generation/errors.js';
import { startTwoNodeSwarm, type TwoNodeSwarm } from '../../helpers/loopback-swarm.js';
import { waitUntil } from '../../helpers/wait.js';

let swarm: TwoNodeSwarm;
let url = '';

beforeAll(async () => {
  swarm = await startTwoNodeSwarm();
  url = swarm.nodeA.gatewayUrl();
}, 60_000);

afterAll(async () => {
  await swarm?.stop();
});

const RUNNER_DIED = openAiError(500, 'llama runner process has terminated: exit status 2', {
  type: 'api_error',
  code: 'runner_terminated',
});

/** Every x-swarm-* header and the body, as one text to scan. */
function seen(response: Response, body: string): string {
  const headers = [...response.headers.entries()].filter(([name]) => name.startsWith('x-swarm-'));
  return `${JSON.stringify(headers)}\n${body}`;
}

async function chat(
  model: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }),
  });
  const body = await response.text();
  return { response, body, text: seen(response, body) };
}

describe('no internal address reaches a client', () => {
  it('a model server’s 500, here and over the peer hop: its own message, no address', async () => {
    swarm.fakeA.behave({ failWith: RUNNER_DIED });
    swarm.fakeB.behave({ failWith: RUNNER_DIED });
    const local = await chat('local-only:1b');
    expect(local.response.status).toBe(500);
    expect(JSON.parse(local.body).error).toMatchObject({
      message: 'llama runner process has terminated: exit status 2',
      type: 'api_error',
      code: 'runner_terminated',
    });
    expect(namesAddress(local.text), local.text).toBe(false);

    const peer = await chat('peer-only:8b');
    expect(peer.response.status).toBe(500);
    expect(JSON.parse(peer.body).error).toMatchObject({
      message: 'llama runner process has terminated: exit status 2',
      type: 'api_error',
      code: 'runner_terminated',
    });
    expect(namesAddress(peer.text), peer.text).toBe(false);
  });

  it('served replies: no x-swarm-* header names an address', async () => {
    swarm.fakeA.behave({ reply: 'hello from A', failWith: null });
    swarm.fakeB.behave({ reply: 'hello from B', failWith: null });
    for (const model of ['local-only:1b', 'peer-only:8b']) {
      const served = await chat(model);
      expect(served.response.status).toBe(200);
      expect(served.response.headers.get('x-swarm-backend')).toBe('ollama');
      expect(namesAddress(seen(served.response, '')), model).toBe(false);
    }
  });

  it('a stream that breaks after its first chunk: the error event names no address', async () => {
    swarm.fakeA.behave({
      reply: 'one two three four',
      failAfterChunks: 1,
      midStreamFailure: 'error-event',
      failWith: null,
    });
    swarm.fakeB.behave({
      reply: 'one two three four',
      failAfterChunks: 1,
      midStreamFailure: 'drop',
      failWith: null,
    });
    for (const model of ['local-only:1b', 'peer-only:8b']) {
      const streamed = await chat(model, { stream: true });
      expect(streamed.body, model).toContain('"error"');
      expect(namesAddress(streamed.text), streamed.text).toBe(false);
    }
  });

  it('an async task’s error object names no address', async () => {
    swarm.fakeB.behave({ failWith: RUNNER_DIED });
    const submitted = await chat('peer-only:8b', {}, { prefer: 'respond-async' });
    expect(submitted.response.status).toBe(202);
    const id = (JSON.parse(submitted.body) as { id: string }).id;
    let task: { status: string } = { status: '' };
    let text = '';
    await waitUntil(async () => {
      const response = await fetch(`${url}/tasks/${id}`);
      text = seen(response, await response.text());
      task = JSON.parse(text.slice(text.indexOf('\n') + 1));
      return task.status === 'failed';
    }, 'the task to fail');
    expect(text).toContain('llama runner process has terminated');
    expect(namesAddress(text), text).toBe(false);
  });

  it('a model server that cannot be reached: swarmctl chat and the gateway name no address', async () => {
    swarm.fakeA.behave({ reply: 'hello from A', failWith: null });
    await swarm.fakeA.stop();
    const refused = await chat('local-only:1b');
    expect(refused.response.status).toBeGreaterThanOrEqual(500);
    expect(namesAddress(refused.text), refused.text).toBe(false);
    const cli = await swarm.a.swarmctl(['chat', '--model', 'peer-only:8b', '--no-stream', 'hi']);
    expect(cli.code).toBe(1);
    expect(cli.stdout + cli.stderr).toContain('llama runner process has terminated');
    expect(namesAddress(cli.stdout + cli.stderr), cli.stderr).toBe(false);
  });
});
