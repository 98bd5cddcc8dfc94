// Async tasks belong to the API key that created them, through a real swarmd and plain HTTP:
// with two keys, key B cannot list, read or cancel key A's task (it gets the same 404 as for an
// id that does not exist); a task stays its key's across a restart with the keys reordered, and
// the journal never holds a key. With no keys, the list is refused and a task is fetched only by
// its unguessable id; tasks made without keys are no key's once keys are set.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeOllama } from '../fakes/ollama.js';
import { startInBox } from '../helpers/loopback-swarm.js';
import { createSandbox, type Sandbox, writeConfig } from '../helpers/sandbox.js';
import { killAllSwarmd } from '../helpers/swarmd.js';
import { waitUntil } from '../helpers/wait.js';

const MODEL = 'qwen3:8b';
const KEY_A = 'sk-alice-0123456789abcdef';
const KEY_B = 'sk-bob-0123456789abcdef00';
const KEY_C = 'sk-carol-0123456789abcdef';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await killAllSwarmd();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface TaskObject {
  id: string;
  status: string;
  result: { choices: { message: { content: string } }[] } | null;
}
interface ErrorBody {
  error: { message: string; type: string; code: string | null };
}

async function setup() {
  const sandbox = await createSandbox();
  const fake = new FakeOllama({ models: [{ name: MODEL }], loaded: [{ name: MODEL }] });
  const { url: fakeUrl } = await fake.start();
  cleanups.push(async () => {
    await fake.stop();
    await sandbox.remove();
  });
  return { sandbox, fake, fakeUrl };
}

async function startNode(sandbox: Sandbox, fakeUrl: string, apiKeys: string[]): Promise<string> {
  const config = await writeConfig(sandbox, { version: 1, gateway: { apiKeys } });
  const daemon = await startInBox(sandbox, ['--config', config, '--name', 'solo', '--backend', fakeUrl]);
  return daemon.gatewayUrl();
}

/** One HTTP call to the gateway as the holder of `key` (none: no Authorization header). */
function call(url: string, path: string, key: string | null, init: RequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers['authorization'] = `Bearer ${key}`;
  return fetch(`${url}${path}`, { ...init, headers: { ...headers, ...(init.headers as object) } });
}

async function submit(url: string, key: string | null, content: string): Promise<TaskObject> {
  const res = await call(url, '/chat/completions', key, {
    method: 'POST',
    headers: { prefer: 'respond-async' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }] }),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as TaskObject;
}

async function task(url: string, key: string | null, id: string): Promise<TaskObject> {
  const res = await call(url, `/tasks/${id}`, key);
  expect(res.status).toBe(200);
  return (await res.json()) as TaskObject;
}

async function listed(url: string, key: string): Promise<string[]> {
  const res = await call(url, '/tasks?limit=100', key);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: TaskObject[] }).data.map((entry) => entry.id);
}

/** Status, codes and message (with the id asked for taken out) of a refused task request. */
async function refusal(res: Response, id: string) {
  const body = (await res.json()) as ErrorBody;
  return {
    status: res.status,
    swarmCode: res.headers.get('x-swarm-error-code'),
    type: body.error.type,
    code: body.error.code,
    message: body.error.message.replaceAll(id, '<id>'),
  };
}

const unknownId = () => `req_${randomBytes(16).toString('hex')}`;

describe('async tasks belong to the API key that created them', () => {
  it("key B cannot list, read or cancel key A's task: 404 as for an id that does not exist", async () => {
    const { sandbox, fake, fakeUrl } = await setup();
    const url = await startNode(sandbox, fakeUrl, [KEY_A, KEY_B]);

    fake.behave({ reply: "alice's secret" });
    const done = await submit(url, KEY_A, 'finished one');
    await waitUntil(async () => (await task(url, KEY_A, done.id)).status === 'completed', 'A’s task');
    fake.behave({ hang: true });
    const pending = await submit(url, KEY_A, 'pending one');
    const bobs = await submit(url, KEY_B, "bob's own");
    await waitUntil(() => fake.generations.some((g) => g.requestId === pending.id), 'A’s task to run');

    // The list: each key sees its own tasks only.
    expect(await listed(url, KEY_B)).toEqual([bobs.id]);
    expect((await listed(url, KEY_A)).sort()).toEqual([done.id, pending.id].sort());

    // Reading and cancelling A's tasks as B: exactly the answer for an id nobody has.
    const missing = unknownId();
    const none = await refusal(await call(url, `/tasks/${missing}`, KEY_B), missing);
    expect(none).toMatchObject({
      status: 404,
      swarmCode: 'SWARM_ERR_TASK_NOT_FOUND',
      code: 'task_not_found',
    });
    expect(await refusal(await call(url, `/tasks/${done.id}`, KEY_B), done.id)).toEqual(none);
    const noneDeleted = await refusal(
      await call(url, `/tasks/${missing}`, KEY_B, { method: 'DELETE' }),
      missing,
    );
    expect(
      await refusal(await call(url, `/tasks/${pending.id}`, KEY_B, { method: 'DELETE' }), pending.id),
    ).toEqual(noneDeleted);
    expect(noneDeleted.status).toBe(404);

    // A's tasks are untouched: the result is A's to read, the pending task still runs.
    expect((await task(url, KEY_A, done.id)).result?.choices[0]?.message.content).toBe("alice's secret");
    expect((await task(url, KEY_A, pending.id)).status).toBe('running');
    expect(fake.generations.find((g) => g.requestId === pending.id)?.aborted).toBe(false);

    // Its owner can cancel it.
    const cancelled = await call(url, `/tasks/${pending.id}`, KEY_A, { method: 'DELETE' });
    expect(((await cancelled.json()) as TaskObject).status).toBe('cancelled');
  }, 60_000);

  it('keeps a task its key’s across a restart with the keys reordered; the journal holds no key', async () => {
    const { sandbox, fake, fakeUrl } = await setup();
    let url = await startNode(sandbox, fakeUrl, [KEY_A, KEY_B]);
    fake.behave({ reply: 'kept' });
    const mine = await submit(url, KEY_A, 'across a restart');
    await waitUntil(async () => (await task(url, KEY_A, mine.id)).status === 'completed', 'the task');
    await killAllSwarmd();

    // Key A is now the third key, at the index key B had: the task follows the key, not the index.
    url = await startNode(sandbox, fakeUrl, [KEY_C, KEY_A, KEY_B]);
    expect((await task(url, KEY_A, mine.id)).result?.choices[0]?.message.content).toBe('kept');
    expect(await listed(url, KEY_A)).toEqual([mine.id]);
    expect((await call(url, `/tasks/${mine.id}`, KEY_B)).status).toBe(404);
    expect((await call(url, `/tasks/${mine.id}`, KEY_C)).status).toBe(404);
    expect(await listed(url, KEY_C)).toEqual([]);

    const files = readdirSync(sandbox.dataDir).filter((name) => name.startsWith('tasks.sqlite'));
    expect(files).toContain('tasks.sqlite');
    for (const name of files) {
      const bytes = readFileSync(join(sandbox.dataDir, name)).toString('latin1');
      for (const key of [KEY_A, KEY_B, KEY_C]) expect(bytes.includes(key), `${key} in ${name}`).toBe(false);
    }
  }, 60_000);

  it('with no keys: the list is refused naming gateway.apiKeys, a task is fetched by its 128-bit id', async () => {
    const { sandbox, fake, fakeUrl } = await setup();
    let url = await startNode(sandbox, fakeUrl, []);
    fake.behave({ reply: 'anyone with the id' });
    const accepted = await submit(url, null, 'no keys');
    expect(accepted.id).toMatch(/^req_[0-9a-f]{32}$/);
    await waitUntil(async () => (await task(url, null, accepted.id)).status === 'completed', 'the task');

    const list = await call(url, '/tasks', null);
    expect(list.status).toBe(403);
    expect(list.headers.get('x-swarm-error-code')).toBe('SWARM_ERR_GATEWAY_KEYS_REQUIRED');
    const body = (await list.json()) as ErrorBody;
    expect(body.error.code).toBe('api_keys_required');
    expect(body.error.message).toContain('gateway.apiKeys');

    // A different id every time, none of them guessable from the last.
    const ids = new Set<string>([accepted.id]);
    for (let i = 0; i < 5; i++) ids.add((await submit(url, null, `more ${i}`)).id);
    expect(ids.size).toBe(6);
    // 128 random bits, not a UUIDv4 (122: its 13th hex digit is always 4).
    expect([...ids].every((id) => id[4 + 12] === '4')).toBe(false);
    await killAllSwarmd();

    // Once keys are set, a task made without them belongs to no key.
    url = await startNode(sandbox, fakeUrl, [KEY_A]);
    const asA = await call(url, `/tasks/${accepted.id}`, KEY_A);
    expect(asA.status).toBe(404);
    expect(await listed(url, KEY_A)).toEqual([]);
  }, 60_000);
});
