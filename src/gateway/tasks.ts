// Asynchronous tasks over HTTP: `Prefer: respond-async` on an inference route answers 202 with
// a task object and `Location: /v1/tasks/{id}`; `GET /v1/tasks/{id}` fetches it (with the
// OpenAI response once completed), `GET /v1/tasks` lists them, `DELETE /v1/tasks/{id}` cancels.
// A task belongs to the API key that created it: another key's task is answered exactly as an
// unknown id. Without keys every client is one anonymous client, so tasks are only fetched by
// their unguessable id and the list is refused.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, SwarmError } from '../errors.js';
import type { AsyncTaskService, AsyncTaskView, JsonObject } from '../inference/types.js';
import { type Headers, sendJson } from './respond.js';
import type { ClientIdentity } from './security.js';

const DEFAULT_LIST_LIMIT = 20;
const MAX_LIST_LIMIT = 100;

/** True when the client asked to be answered later (RFC 7240 `Prefer: respond-async`). */
export function prefersAsync(req: IncomingMessage): boolean {
  const prefer = req.headers.prefer;
  if (typeof prefer !== 'string') return false;
  return prefer.split(',').some((token) => token.split(';')[0]!.trim().toLowerCase() === 'respond-async');
}

/** The task object clients see (snake_case, times in Unix seconds, like OpenAI's objects). */
export function taskObject(task: AsyncTaskView): JsonObject {
  const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));
  return {
    id: task.id,
    object: 'swarm.task',
    status: task.status,
    kind: task.kind,
    model: task.model,
    created_at: seconds(task.createdMs),
    started_at: seconds(task.startedMs),
    completed_at: seconds(task.finishedMs),
    attempts: task.attempts,
    served_by: task.servedBy && {
      node: task.servedBy.nodeName,
      node_id: task.servedBy.nodeId,
      backend: task.servedBy.backend,
      model: task.servedBy.model,
      tier: task.servedBy.tier,
    },
    result: task.result,
    error: task.error && {
      message: task.error.message,
      type: task.error.type,
      param: null,
      code: task.error.code,
      status: task.error.status,
      swarm_code: task.error.swarmCode,
    },
  };
}

/** Answer an accepted async task: 202 + where to fetch it. */
export function sendAccepted(res: ServerResponse, task: AsyncTaskView, headers: Headers): void {
  sendJson(res, 202, taskObject(task), {
    ...headers,
    location: `/v1/tasks/${task.id}`,
    'preference-applied': 'respond-async',
  });
}

/** Serve GET /v1/tasks, GET /v1/tasks/{id} and DELETE /v1/tasks/{id} for `client`. */
export function serveTaskRoute(
  service: AsyncTaskService | undefined,
  route: 'tasks' | 'task' | 'cancelTask',
  id: string | null,
  url: string | undefined,
  res: ServerResponse,
  headers: Headers,
  client: ClientIdentity,
): void {
  if (!service) {
    throw new SwarmError(ErrorCodes.GATEWAY_NOT_FOUND, 'asynchronous tasks are not served by this gateway');
  }
  const owner = client.keyId;
  if (route === 'tasks') {
    if (owner === null) {
      throw new SwarmError(
        ErrorCodes.GATEWAY_KEYS_REQUIRED,
        'GET /v1/tasks lists the tasks of one API key, and this gateway has none (gateway.apiKeys is empty): every local client would see every task. Fetch a task by the id its 202 answer gave you (GET /v1/tasks/{id}), or set gateway.apiKeys and send your key.',
      );
    }
    const limit = listLimit(url);
    sendJson(res, 200, { object: 'list', data: service.list(owner, limit).map(taskObject) }, headers);
    return;
  }
  const task = route === 'task' ? service.get(id ?? '', owner) : service.cancel(id ?? '', owner);
  if (!task) {
    // The same answer for another key's task as for none: ids cannot be probed.
    throw new SwarmError(
      ErrorCodes.TASK_NOT_FOUND,
      `No task ${JSON.stringify(id)} here: a task is seen only on the node that accepted it and, when gateway.apiKeys is set, with the key that created it; finished ones are kept for tasks.retention.`,
    );
  }
  sendJson(res, 200, taskObject(task), headers);
}

function listLimit(url: string | undefined): number {
  const raw = new URL(url ?? '/', 'http://x').searchParams.get('limit');
  if (raw === null) return DEFAULT_LIST_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new SwarmError(
      ErrorCodes.GATEWAY_BAD_REQUEST,
      `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}; got ${JSON.stringify(raw)}`,
    );
  }
  return limit;
}
