// Ask this node's own model servers to free their VRAM (`swarmctl pause --unload`), each the
// way its server allows (BACKENDS.md §1.7, §2.5, §4.8, §5.3), and say per backend what was
// unloaded, what cannot be, and what failed.
import { requestText, type TextResponse } from '../backends/http.js';
import type { BackendKind, BackendStatus, LocalBackend } from '../backends/types.js';
import { errorMessage } from '../errors.js';

/** What unloading did on one backend. */
export interface UnloadReport {
  backendId: string;
  kind: BackendKind;
  /** unloaded: every loaded model was asked to go (models lists them, maybe none); unsupported: the server has no way; failed: it errored. */
  outcome: 'unloaded' | 'unsupported' | 'failed';
  /** Models (or LM Studio instances) unloaded. */
  models: string[];
  /** Why unsupported, the error when failed, '' otherwise. */
  detail: string;
}

/** Options of unloadBackend. */
export interface UnloadOptions {
  /** Deadline of each HTTP request (llama-swap blocks until its processes stopped: default 15 s). */
  timeoutMs?: number;
  apiKey?: string;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/** Unload every loaded model of one backend; never throws (a failure is a report). */
export async function unloadBackend(
  backend: BackendStatus,
  options: UnloadOptions = {},
): Promise<UnloadReport> {
  const report = (outcome: UnloadReport['outcome'], models: string[], detail = ''): UnloadReport => ({
    backendId: backend.id,
    kind: backend.kind,
    outcome,
    models,
    detail,
  });
  const http = {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(options.apiKey !== undefined && { apiKey: options.apiKey }),
    ...(options.signal !== undefined && { signal: options.signal }),
  };
  const base = backend.url.replace(/\/+$/, '');
  const done: string[] = [];
  try {
    switch (backend.kind) {
      case 'ollama': {
        // keep_alive 0 with no prompt unloads at once (done_reason "unload").
        const ps = json(ok(await requestText(`${base}/api/ps`, http))) as { models?: unknown };
        for (const name of namesOf(ps.models, (m) => m.name ?? m.model)) {
          ok(
            await requestText(`${base}/api/generate`, {
              ...http,
              method: 'POST',
              json: { model: name, keep_alive: 0 },
            }),
          );
          done.push(name);
        }
        return report('unloaded', done);
      }
      case 'llama-swap': {
        const running = await requestText(`${base}/running`, http).catch(() => null);
        const models =
          running && running.status === 200
            ? namesOf((json(running) as { running?: unknown }).running, (m) => m.model)
            : [];
        const unload = await requestText(`${base}/api/models/unload`, { ...http, method: 'POST', json: {} });
        // Before v126 only `GET /unload` exists.
        if (unload.status === 404) ok(await requestText(`${base}/unload`, http));
        else ok(unload);
        return report('unloaded', models);
      }
      case 'llamacpp': {
        // Router mode lists each model with a status; a single-model server cannot let its model go.
        const list = await requestText(`${base}/models`, http);
        const data = list.status === 200 ? (json(list) as { data?: unknown }).data : undefined;
        const cards = Array.isArray(data) ? (data as Array<Record<string, unknown>>) : [];
        const router = cards.some((card) => isObject(card.status));
        if (!router) {
          return report(
            'unsupported',
            [],
            'llama-server runs a single model (started with -m) and cannot unload it; stop the server to free its VRAM',
          );
        }
        for (const card of cards) {
          const status = card.status as { value?: unknown };
          // Only a loaded model can go (the router answers 400 "model is not running" otherwise).
          if (typeof card.id !== 'string' || status.value !== 'loaded') continue;
          ok(
            await requestText(`${base}/models/unload`, { ...http, method: 'POST', json: { model: card.id } }),
          );
          done.push(card.id);
        }
        return report('unloaded', done);
      }
      case 'lmstudio': {
        const list = await requestText(`${base}/api/v1/models`, http);
        const body = list.status === 200 ? (json(list) as { models?: unknown }) : null;
        if (!body || !Array.isArray(body.models)) {
          return report(
            'unsupported',
            [],
            'this LM Studio has no /api/v1 unload endpoint (it came with 0.4); unload with `lms unload --all` or upgrade',
          );
        }
        for (const model of body.models as Array<Record<string, unknown>>) {
          for (const id of namesOf(model.loaded_instances, (instance) => instance.id)) {
            ok(
              await requestText(`${base}/api/v1/models/unload`, {
                ...http,
                method: 'POST',
                json: { instance_id: id },
              }),
            );
            done.push(id);
          }
        }
        return report('unloaded', done);
      }
      case 'vllm':
        return report(
          'unsupported',
          [],
          'vLLM keeps its model loaded for as long as it runs; stop the server to free its VRAM',
        );
      case 'openai':
        return report('unsupported', [], 'an OpenAI-compatible server has no API to unload models');
    }
  } catch (err) {
    const detail =
      done.length > 0 ? `${errorMessage(err)} (unloaded before that: ${done.join(', ')})` : errorMessage(err);
    return report('failed', done, detail);
  }
}

/** Unload every backend of this node in parallel, each with its API key; one report per backend. */
export function unloadAll(backends: readonly LocalBackend[]): Promise<UnloadReport[]> {
  return Promise.all(
    backends.map(({ status, apiKey }) => unloadBackend(status, apiKey !== undefined ? { apiKey } : {})),
  );
}

function ok(res: TextResponse): TextResponse {
  if (res.status >= 200 && res.status < 300) return res;
  throw new Error(`${res.url} answered HTTP ${res.status}: ${JSON.stringify(res.text.slice(0, 160))}`);
}

function json(res: TextResponse): unknown {
  try {
    return JSON.parse(res.text) as unknown;
  } catch {
    throw new Error(
      `${res.url} answered with a body that is not JSON: ${JSON.stringify(res.text.slice(0, 80))}`,
    );
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The string names a list of objects holds (pick chooses the field); anything else is skipped. */
function namesOf(list: unknown, pick: (entry: Record<string, unknown>) => unknown): string[] {
  if (!Array.isArray(list)) return [];
  const names: string[] = [];
  for (const entry of list) {
    if (!isObject(entry)) continue;
    const name = pick(entry);
    if (typeof name === 'string' && name.length > 0 && !names.includes(name)) names.push(name);
  }
  return names;
}
