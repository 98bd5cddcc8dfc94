// Asynchronous tasks through a real swarmd: `Prefer: respond-async` answers 202 with a task
// that is journaled before the answer, runs in the background and is fetched by id; a
// coordinator killed with SIGKILL mid-task resumes every accepted task when it starts again.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeOllama } from '../../fakes/ollama.js';
import { startInBox } from '../../helpers/loopback-swarm.js';
import { createSandbox, type Sandbox } from '../../helpers/sandbox.js';
import { killAllSwarmd, type Swarmd } from '../../helpers/swarmd.js';
import { waitUntil } from '../../helpers/wait.js';

const MODEL = 'qwen3:8b';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await killAllSwarmd();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface TaskObject {
  id: string;
  object: string;
  status: string;
  model: string;
  attempts: number;
  served_by: { node: string } | null;
  result: { choices: { message: { content: string } }[]; usage: { total_tokens: number } } | null;
  error: { code: string | null; swarm_code: string } | null;
}

async function startNode(sandbox: Sandbox, fakeUrl: string): Promise<{ daemon: Swarmd; url: string }> {
  const daemon = await startInBox(sandbox, ['--name', 'solo', '--backend', fakeUrl]);
  return { daemon, url: daemon.gatewayUrl() };
}

async function setup() {
  const sandbox = await createSandbox();
  const fake = new FakeOllama({ models: [{ name: MODEL }], loaded: [{ name: MODEL }] });
  const { url: fakeUrl } = await fake.start();
  cleanups.push(async () => {
    await fake.stop();
    await sandbox.remove();
  });
  return { sandbox, fake, fakeUrl, ...(await startNode(sandbox, fakeUrl)) };
}

function submit(url: string, content: string, extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', prefer: 'respond-async' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], ...extra }),
  });
}

async function getTask(url: string, id: string): Promise<TaskObject> {
  const res = await fetch(`${url}/tasks/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as TaskObject;
}

describe('async tasks', () => {
  it('answers 202 with a task, runs it, and serves the result by id', async () => {
    const { url, fake } = await setup();
    fake.behave({ reply: 'done later', firstTokenDelayMs: 300 });
    const res = await submit(url, 'hello');
    expect(res.status).toBe(202);
    expect(res.headers.get('preference-applied')).toBe('respond-async');
    const accepted = (await res.json()) as TaskObject;
    expect(res.headers.get('location')).toBe(`/v1/tasks/${accepted.id}`);
    expect(accepted).toMatchObject({ object: 'swarm.task', model: MODEL, result: null });
    expect(['queued', 'running']).toContain(accepted.status);

    let task = accepted;
    await waitUntil(async () => {
      task = await getTask(url, accepted.id);
      return task.status === 'completed';
    }, 'the task to complete');
    expect(task.result?.choices[0]?.message.content).toBe('done later');
    expect(task.result?.usage.total_tokens).toBeGreaterThan(0);
    expect(task.served_by?.node).toBe('solo');
    expect(task.attempts).toBe(1);
    expect(fake.generations.filter((g) => g.requestId === accepted.id && g.completed)).toHaveLength(1);

    // Without API keys every client is the same one: no list, only fetches by id (task-owners.test.ts).
    const list = await fetch(`${url}/tasks`);
    expect(list.status).toBe(403);
    expect(list.headers.get('x-swarm-error-code')).toBe('SWARM_ERR_GATEWAY_KEYS_REQUIRED');
  });

  it('refuses async streaming, and answers task_not_found for an unknown id', async () => {
    const { url } = await setup();
    const streaming = await submit(url, 'hi', { stream: true });
    expect(streaming.status).toBe(400);
    expect(streaming.headers.get('x-swarm-error-code')).toBe('SWARM_ERR_GATEWAY_BAD_REQUEST');
    const unknown = await fetch(`${url}/tasks/req_nope`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('task_not_found');
  });

  it('cancels a running task: its generation stops on the backend', async () => {
    const { url, fake } = await setup();
    fake.behave({ hang: true });
    const { id } = (await (await submit(url, 'forever')).json()) as TaskObject;
    await waitUntil(() => fake.generations.some((g) => g.requestId === id), 'the backend to start it');
    const cancelled = (await (await fetch(`${url}/tasks/${id}`, { method: 'DELETE' })).json()) as TaskObject;
    expect(cancelled.status).toBe('cancelled');
    await waitUntil(
      () => fake.generations.find((g) => g.requestId === id)?.aborted === true,
      'the backend to see the abort',
    );
    expect((await getTask(url, id)).status).toBe('cancelled');
  });

  it('resumes every accepted task after the coordinator is killed mid-run and restarted', async () => {
    const { sandbox, fake, fakeUrl, daemon, url } = await setup();
    fake.behave({ reply: 'survived', firstTokenDelayMs: 1500 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await submit(url, `task ${i}`);
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as TaskObject).id);
    }
    await waitUntil(() => fake.generations.length >= 3, 'tasks to be running on the backend');
    await daemon.kill(); // SIGKILL: no goodbye, no flush beyond what was committed

    const restarted = await startNode(sandbox, fakeUrl);
    expect(restarted.daemon.logs().some((line) => line.msg.startsWith('task journal recovered'))).toBe(true);
    const tasks = new Map<string, TaskObject>();
    await waitUntil(
      async () => {
        for (const id of ids) tasks.set(id, await getTask(restarted.url, id));
        return [...tasks.values()].every((task) => task.status === 'completed');
      },
      () =>
        `every accepted task to complete after the restart: ${JSON.stringify([...tasks.values()].map((t) => [t.status, t.error]))}`,
      30_000,
      250,
    );
    for (const task of tasks.values()) expect(task.result?.choices[0]?.message.content).toBe('survived');
    // Every task reached the backend to completion, the ones cut off by the kill included.
    for (const id of ids) expect(fake.generations.some((g) => g.requestId === id && g.completed)).toBe(true);
  }, 60_000);
});
