// Fake vLLM speaking BACKENDS.md §3: GET /health (200 empty; 503 empty when the engine died),
// GET /version, GET /v1/models with max_model_len, optionally behind --api-key, and the OpenAI
// routes POST /v1/chat/completions, /v1/completions, /v1/embeddings. Unknown models get 404 and
// prompts longer than max_model_len get 400, in the error envelope of the fake's version (flat
// `{"object":"error",…}` before v0.10.1). Unknown routes get FastAPI's 404.
// /metrics belongs in routes() when tests need it.
import type { ServerResponse } from 'node:http';
import { type FakeRequest, FakeServer, type Routes, sendJson } from './fake-server.js';
import { FAILURE_STATUS, failureMessage, sseData } from './generation/errors.js';
import type { ErrorReply, FailureKind } from './generation/script.js';
import { type Dialect, openAiRoutes, type RefuseContext } from './generation/serve.js';

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
      ...openAiRoutes(this, () => this.dialect()),
    };
  }

  private dialect(): Dialect {
    return {
      style: 'vllm',
      fingerprint: null,
      refuse: (ctx) => {
        const card = this.state.models.find((m) => m.id === ctx.model);
        if (this.state.models.length > 0 && !card) return this.failure('model-not-found', ctx);
        const limit = card?.maxModelLen ?? 32768;
        const wanted = ctx.promptTokens + (ctx.maxTokens ?? 0);
        if (wanted > limit) {
          return this.error(
            400,
            `This model's maximum context length is ${limit} tokens. However, you requested ${wanted} tokens ` +
              `(${ctx.promptTokens} in the messages, ${ctx.maxTokens ?? 0} in the completion). ` +
              'Please reduce the length of the messages or completion.',
          );
        }
        return null;
      },
      failure: (kind, ctx) => this.failure(kind, ctx),
      // The serving layer yields the error as a data event, then still ends with [DONE].
      midStreamError: () =>
        `${sseData(this.errorBody(500, 'EngineCore encountered an issue.'))}data: [DONE]\n\n`,
    };
  }

  private failure(kind: FailureKind, ctx: RefuseContext): ErrorReply {
    if (kind === 'unauthorized') return { status: 401, body: { error: 'Unauthorized' } };
    return this.error(
      FAILURE_STATUS[kind],
      failureMessage(kind, ctx),
      kind === 'model-not-found' ? 'model' : null,
    );
  }

  private error(status: number, message: string, param: string | null = null): ErrorReply {
    return { status, body: this.errorBody(status, message, param) };
  }

  // Python class names as `type` and the integer status as `code`; flat before v0.10.1 (PR #22099).
  private errorBody(status: number, message: string, param: string | null = null): unknown {
    const type =
      {
        400: 'BadRequestError',
        404: 'NotFoundError',
        429: 'TooManyRequestsError',
        503: 'ServiceUnavailableError',
      }[status] ?? 'InternalServerError';
    const [major = 0, minor = 0, patch = 0] = this.state.version
      .split('.')
      .map((n) => Number.parseInt(n, 10));
    const old = major === 0 && (minor < 10 || (minor === 10 && patch < 1));
    return old
      ? { object: 'error', message, type, param, code: status }
      : { error: { message, type, param, code: status } };
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
