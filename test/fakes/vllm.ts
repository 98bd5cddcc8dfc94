// Fake vLLM speaking BACKENDS.md §3: GET /health (200 empty; 503 empty when the engine died),
// GET /version, GET /v1/models with max_model_len, optionally behind --api-key. Unknown routes
// get FastAPI's 404.
// /metrics and /v1/chat/completions belong in routes() when tests need them.
import type { ServerResponse } from 'node:http';
import { type FakeRequest, FakeServer, type Routes, sendJson } from './fake-server.js';

/** A served model card; a LoRA adapter has `parent` and no max_model_len. */
export interface FakeVllmModel {
  id: string;
  root?: string;
  parent?: string;
  maxModelLen?: number;
}

/** What the fake answers from. */
export interface FakeVllmState {
  version: string;
  /** /health answers 503 (EngineDeadError) when true. */
  engineDead: boolean;
  models: FakeVllmModel[];
  /** --api-key: /v1/* routes then want `Authorization: Bearer <apiKey>` (/health, /version do not). */
  apiKey?: string;
}

/** A fake vLLM server. */
export class FakeVllm extends FakeServer<FakeVllmState> {
  constructor(state: Partial<FakeVllmState> = {}) {
    super({ version: '0.11.0', engineDead: false, models: [], ...state });
  }

  protected override intercept(req: FakeRequest, res: ServerResponse): boolean {
    const key = this.state.apiKey;
    if (key === undefined || !req.path.startsWith('/v1/') || req.headers.authorization === `Bearer ${key}`) {
      return false;
    }
    sendJson(res, 401, { error: 'Unauthorized' });
    return true;
  }

  protected routes(): Routes {
    return {
      'GET /health': (_req, res) => {
        res.writeHead(this.state.engineDead ? 503 : 200);
        res.end();
      },
      'GET /version': (_req, res) => sendJson(res, 200, { version: this.state.version }),
      'GET /v1/models': (_req, res) => sendJson(res, 200, this.models()),
    };
  }

  protected notFound(_req: FakeRequest, res: ServerResponse): void {
    sendJson(res, 404, { detail: 'Not Found' });
  }

  private models() {
    return {
      object: 'list',
      data: this.state.models.map((m) => ({
        id: m.id,
        object: 'model',
        created: 1735000000,
        owned_by: 'vllm',
        root: m.root ?? m.id,
        parent: m.parent ?? null,
        max_model_len: m.parent ? null : (m.maxModelLen ?? 32768),
        permission: [
          {
            id: 'modelperm-0b5bd1d1c1a14c7a9d4f1f0e1c2d3e4f',
            object: 'model_permission',
            created: 1735000000,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: '*',
            group: null,
            is_blocking: false,
          },
        ],
      })),
    };
  }
}
