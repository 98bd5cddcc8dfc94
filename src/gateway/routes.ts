// The gateway's route table: path + method → handler name. Exact paths in a Map, plus the
// `/v1/models/{id}` prefix (ids may contain `/`). A known path with the wrong method → 405.
import type { InferenceKind } from '../inference/types.js';

/** What a request asks for. */
export type RouteName =
  | InferenceKind
  | 'models'
  | 'model'
  | 'tasks'
  | 'task'
  | 'cancelTask'
  | 'health'
  | 'root';

/** The result of matching a request line. */
export type RouteMatch =
  | {
      ok: true;
      name: RouteName /** The decoded id of `/v1/models/{id}` or `/v1/tasks/{id}`. */;
      param: string | null;
    }
  | { ok: false; status: 404 | 405 /** The methods the path takes (for `Allow`). */; allow: string | null };

const ROUTES = new Map<string, { method: 'GET' | 'POST'; name: RouteName }>([
  ['/v1/chat/completions', { method: 'POST', name: 'chat' }],
  ['/v1/completions', { method: 'POST', name: 'completions' }],
  ['/v1/embeddings', { method: 'POST', name: 'embeddings' }],
  ['/v1/models', { method: 'GET', name: 'models' }],
  ['/v1/tasks', { method: 'GET', name: 'tasks' }],
  ['/health', { method: 'GET', name: 'health' }],
  ['/', { method: 'GET', name: 'root' }],
]);

const MODEL_PREFIX = '/v1/models/';
const TASK_PREFIX = '/v1/tasks/';

/** The path of a request target, without query string or one trailing slash. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** Match a method and path against the table (HEAD is served as GET). */
export function matchRoute(method: string | undefined, path: string): RouteMatch {
  const verb = method === 'HEAD' ? 'GET' : method;
  const route = ROUTES.get(path);
  if (route) {
    if (route.method === verb) return { ok: true, name: route.name, param: null };
    return { ok: false, status: 405, allow: route.method === 'GET' ? 'GET, HEAD' : route.method };
  }
  if (path.startsWith(MODEL_PREFIX) && path.length > MODEL_PREFIX.length) {
    if (verb !== 'GET') return { ok: false, status: 405, allow: 'GET, HEAD' };
    let id: string;
    try {
      id = decodeURIComponent(path.slice(MODEL_PREFIX.length));
    } catch {
      return { ok: false, status: 404, allow: null };
    }
    return { ok: true, name: 'model', param: id };
  }
  if (path.startsWith(TASK_PREFIX) && path.length > TASK_PREFIX.length) {
    const id = path.slice(TASK_PREFIX.length);
    if (verb === 'GET') return { ok: true, name: 'task', param: id };
    if (verb === 'DELETE') return { ok: true, name: 'cancelTask', param: id };
    return { ok: false, status: 405, allow: 'GET, HEAD, DELETE' };
  }
  return { ok: false, status: 404, allow: null };
}
