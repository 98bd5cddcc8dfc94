// Fake llama-swap speaking BACKENDS.md §2: GET /health ("OK"), GET / (302 → /ui), GET /running,
// GET /v1/models and /models, and the proxied OpenAI routes POST /v1/chat/completions,
// /v1/completions, /v1/embeddings, answered as the upstream would (OpenAI shape; upstream
// errors pass through in llama-server's format). `shape: 'v170'` answers /running with ready
// processes only, each just {model, state}, /v1/models without `status`/`context_length`
// (before v236), and its own errors as the old gin code did. More than `concurrencyLimit`
// requests at once get 429 (with Retry-After: 1 on the current shape); `sendLoadingState` sends
// llama-swap's id-less loading chunk before the upstream's own (§2.9).
// /upstream/... belongs in routes() when tests need it.
import type { ServerResponse } from 'node:http';
import { type FakeRequest, FakeServer, type Routes, sendJson, sendText } from './fake-server.js';
import { FAILURE_STATUS, failureMessage, serves, sseData } from './generation/errors.js';
import type { ErrorReply, FailureKind } from './generation/script.js';
import { type Dialect, openAiRoutes, type RefuseContext } from './generation/serve.js';
import { LLAMACPP_STREAM_ERROR, llamaCppContextError, llamaCppError } from './llamacpp.js';

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
  /** Per-model concurrencyLimit (default 10): requests beyond it at once get 429. */
  concurrencyLimit: number;
  /** sendLoadingState: a reasoning_content loading chunk precedes the stream. */
  sendLoadingState: boolean;
}

/** A fake llama-swap. */
export class FakeLlamaSwap extends FakeServer<FakeLlamaSwapState> {
  constructor(state: Partial<FakeLlamaSwapState> = {}) {
    super({
      shape: 'current',
      models: [],
      running: [],
      concurrencyLimit: 10,
      sendLoadingState: false,
      ...state,
    });
  }

  protected routes(): Routes {
    return {
      'GET /': (_req, res) => {
        res.writeHead(302, { location: '/ui' });
        res.end();
      },
      'GET /health': (_req, res) => sendText(res, 200, 'OK'),
      'GET /running': (_req, res) => sendJson(res, 200, this.running()),
      // §2.5: every process stops. The POST route came with v126; the GET one is older.
      'GET /unload': (_req, res) => {
        this.setState({ running: [] });
        sendText(res, 200, 'OK');
      },
      'POST /api/models/unload': (_req, res) => {
        this.setState({ running: [] });
        sendJson(res, 200, { msg: 'ok' });
      },
      'GET /v1/models': (_req, res) => sendJson(res, 200, this.models()),
      'GET /models': (_req, res) => sendJson(res, 200, this.models()),
      ...openAiRoutes(this, () => this.dialect()),
    };
  }

  private dialect(): Dialect {
    return {
      style: 'openai',
      fingerprint: null,
      refuse: (ctx) => {
        if (
          !serves(
            this.state.models.map((m) => m.id),
            ctx.model,
          )
        )
          return this.failure('model-not-found', ctx);
        if (ctx.inflight > this.state.concurrencyLimit) return this.failure('overloaded', ctx);
        return null;
      },
      failure: (kind, ctx) => this.failure(kind, ctx),
      midStreamError: () => LLAMACPP_STREAM_ERROR,
      preamble: (plan) =>
        this.state.sendLoadingState
          ? sseData({
              choices: [{ delta: { reasoning_content: `llama-swap loading model: ${plan.model}\n` } }],
            })
          : '',
    };
  }

  private failure(kind: FailureKind, ctx: RefuseContext): ErrorReply {
    const v170 = this.state.shape === 'v170';
    switch (kind) {
      case 'model-not-found':
        return v170
          ? { status: 400, body: { error: `could not find real modelID for ${ctx.model}` } }
          : { status: 404, body: { src: 'llama-swap', error: 'no local server found for requested model' } };
      case 'overloaded':
        return v170
          ? { status: 429, body: 'Too many requests\n' }
          : {
              status: 429,
              headers: { 'retry-after': '1' },
              body: {
                src: 'llama-swap',
                error: {
                  message: 'Too many requests',
                  type: 'rate_limit_error',
                  param: null,
                  code: 'concurrency_limit',
                },
              },
            };
      // The upstream llama-server answered: its body passes through unchanged.
      case 'context-length':
        return llamaCppContextError(ctx.promptTokens + 4096, 4096);
      case 'server-error':
        return { status: 502, body: { src: 'llama-swap', error: 'upstream command exited prematurely' } };
      default:
        return llamaCppError(FAILURE_STATUS[kind], failureMessage(kind, ctx));
    }
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
