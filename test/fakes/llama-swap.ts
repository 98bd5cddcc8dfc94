// Fake llama-swap speaking BACKENDS.md §2: GET /health ("OK"), GET / (302 → /ui), GET /running,
// GET /v1/models and /models. `shape: 'v170'` answers /running with ready processes only, each
// just {model, state}, and /v1/models without `status`/`context_length` (before v236).
// Proxied routes (/v1/chat/completions, /upstream/...) belong in routes() when tests need them.
import type { ServerResponse } from 'node:http';
import { type FakeRequest, FakeServer, type Routes, sendJson, sendText } from './fake-server.js';

/** A model from the llama-swap config. */
export interface FakeSwapModel {
  id: string;
  name?: string;
  description?: string;
  /** Sent as context_length (current shape only) when set. */
  contextLength?: number;
}

/** A process llama-swap runs for a model. */
export interface FakeSwapProcess {
  model: string;
  state: 'starting' | 'ready' | 'stopping';
  ttl?: number;
}

/** What the fake answers from. */
export interface FakeLlamaSwapState {
  shape: 'current' | 'v170';
  models: FakeSwapModel[];
  running: FakeSwapProcess[];
}

/** A fake llama-swap. */
export class FakeLlamaSwap extends FakeServer<FakeLlamaSwapState> {
  constructor(state: Partial<FakeLlamaSwapState> = {}) {
    super({ shape: 'current', models: [], running: [], ...state });
  }

  protected routes(): Routes {
    return {
      'GET /': (_req, res) => {
        res.writeHead(302, { location: '/ui' });
        res.end();
      },
      'GET /health': (_req, res) => sendText(res, 200, 'OK'),
      'GET /running': (_req, res) => sendJson(res, 200, this.running()),
      'GET /v1/models': (_req, res) => sendJson(res, 200, this.models()),
      'GET /models': (_req, res) => sendJson(res, 200, this.models()),
    };
  }

  protected notFound(_req: FakeRequest, res: ServerResponse): void {
    sendText(res, 404, '404 page not found');
  }

  private running() {
    const sorted = [...this.state.running].sort((a, b) => a.model.localeCompare(b.model));
    if (this.state.shape === 'v170') {
      return {
        running: sorted.filter((p) => p.state === 'ready').map((p) => ({ model: p.model, state: p.state })),
      };
    }
    return {
      running: sorted.map((p, i) => {
        const m = this.state.models.find((x) => x.id === p.model);
        return {
          model: p.model,
          state: p.state,
          cmd: `llama-server --port ${10001 + i} -m /models/${p.model}.gguf`,
          proxy: `http://127.0.0.1:${10001 + i}`,
          ttl: p.ttl ?? 300,
          name: m?.name ?? '',
          description: m?.description ?? '',
        };
      }),
    };
  }

  private models() {
    const current = this.state.shape === 'current';
    const data = [...this.state.models]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((m) => {
        // Any non-stopped process reads "loaded" here, `starting` included: only /running tells them apart.
        const live = this.state.running.some((p) => p.model === m.id);
        return {
          id: m.id,
          object: 'model',
          created: Math.floor(Date.now() / 1000),
          owned_by: 'llama-swap',
          ...(m.name ? { name: m.name } : {}),
          ...(m.description ? { description: m.description } : {}),
          ...(current && m.contextLength ? { context_length: m.contextLength } : {}),
          meta: { llamaswap: { type: 'model' } },
          ...(current ? { status: { value: live ? 'loaded' : 'unloaded' } } : {}),
        };
      });
    return { object: 'list', data };
  }
}
