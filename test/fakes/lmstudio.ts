// Fake LM Studio speaking BACKENDS.md §5: GET /v1/models, /api/v0/models (0.3.6+) and
// /api/v1/models (0.4+), each native API switchable through `apis`, and the OpenAI routes
// POST /v1/chat/completions, /v1/completions, /v1/embeddings. Like the real server it answers
// unknown routes with 200 and an error body. An unknown model gets 0.3.x's 404 model_not_found,
// or 0.4.x's 400 "Invalid model identifier" when the v1 API is served (any model passes while
// none are downloaded).
import type { ServerResponse } from 'node:http';
import { type FakeRequest, FakeServer, type Routes, sendJson } from './fake-server.js';
import { FAILURE_STATUS, failureMessage, openAiError, serves, sseData } from './generation/errors.js';
import type { ErrorReply, FailureKind } from './generation/script.js';
import { type Dialect, openAiRoutes, type RefuseContext } from './generation/serve.js';

/** A downloaded model. */
export interface FakeLmStudioModel {
  id: string;
  type?: 'llm' | 'vlm' | 'embeddings';
  arch?: string;
  maxContextLength?: number;
  /** Loaded now, with this context (default 4096). */
  loaded?: boolean;
  loadedContextLength?: number;
}

/** What the fake answers from. */
export interface FakeLmStudioState {
  /** Native model APIs served: ['v0'] is 0.3.x, ['v0','v1'] is 0.4.x, ['v1'] a 0.4 without the deprecated v0. */
  apis: Array<'v0' | 'v1'>;
  /** Just-in-time loading: /v1/models lists every downloaded model, else only loaded ones. */
  jit: boolean;
  models: FakeLmStudioModel[];
}

/** A fake LM Studio server. */
export class FakeLmStudio extends FakeServer<FakeLmStudioState> {
  constructor(state: Partial<FakeLmStudioState> = {}) {
    super({ apis: ['v0', 'v1'], jit: true, models: [], ...state });
  }

  protected routes(): Routes {
    const routes: Routes = {
      'GET /v1/models': (_req, res) => sendJson(res, 200, this.openAiModels()),
      ...openAiRoutes(this, () => this.dialect()),
    };
    if (this.state.apis.includes('v0'))
      routes['GET /api/v0/models'] = (_req, res) => sendJson(res, 200, this.v0());
    if (this.state.apis.includes('v1')) {
      routes['GET /api/v1/models'] = (_req, res) => sendJson(res, 200, this.v1());
      // §5.3: unload one loaded instance.
      routes['POST /api/v1/models/unload'] = (req, res) => {
        const id = (req.json() as { instance_id?: unknown } | undefined)?.instance_id;
        const model = this.state.models.find((m) => m.loaded && m.id === id);
        if (!model) {
          sendJson(res, 404, { error: { message: `No loaded model instance with id "${String(id)}"` } });
          return;
        }
        this.setState({ models: this.state.models.map((m) => (m === model ? { ...m, loaded: false } : m)) });
        sendJson(res, 200, { instance_id: id });
      };
    }
    return routes;
  }

  protected notFound(req: FakeRequest, res: ServerResponse): void {
    // The real server logs "Returning 200 anyway" (bug tracker #1879).
    sendJson(res, 200, {
      error: `Unexpected endpoint or method. (${req.method} ${req.path}). Returning 200 anyway`,
    });
  }

  private dialect(): Dialect {
    return {
      style: 'lmstudio',
      fingerprint: null,
      refuse: (ctx) =>
        serves(
          this.state.models.map((m) => m.id),
          ctx.model,
        )
          ? null
          : this.failure('model-not-found', ctx),
      failure: (kind, ctx) => this.failure(kind, ctx),
      midStreamError: () =>
        sseData({ error: { message: 'The model has crashed without additional information.' } }),
    };
  }

  private failure(kind: FailureKind, ctx: RefuseContext): ErrorReply {
    if (kind !== 'model-not-found') return openAiError(FAILURE_STATUS[kind], failureMessage(kind, ctx));
    if (this.state.apis.includes('v1')) {
      return openAiError(
        400,
        `Invalid model identifier "${ctx.model}". Please specify a valid downloaded model (e.g., qwen2.5-7b-instruct).`,
        { param: 'model' },
      );
    }
    return openAiError(404, `Model "${ctx.model}" not found. Please specify a valid model.`, {
      param: 'model',
      code: 'model_not_found',
    });
  }

  private openAiModels() {
    const listed = this.state.models.filter((m) => this.state.jit || m.loaded);
    return {
      data: listed.map((m) => ({ id: m.id, object: 'model', owned_by: 'organization_owner' })),
      object: 'list',
    };
  }

  private v0() {
    return {
      object: 'list',
      data: this.state.models.map((m) => ({
        id: m.id,
        object: 'model',
        type: m.type ?? 'llm',
        publisher: 'lmstudio-community',
        arch: m.arch ?? 'llama',
        compatibility_type: 'gguf',
        quantization: 'Q4_K_M',
        state: m.loaded ? 'loaded' : 'not-loaded',
        max_context_length: m.maxContextLength ?? 131072,
      })),
    };
  }

  private v1() {
    return {
      models: this.state.models.map((m) => {
        const embedding = m.type === 'embeddings';
        return {
          type: embedding ? 'embedding' : 'llm',
          publisher: 'lmstudio-community',
          key: m.id,
          display_name: m.id,
          ...(embedding ? {} : { architecture: m.arch ?? 'llama' }),
          quantization: { name: 'Q4_0', bits_per_weight: 4 },
          size_bytes: 241410208,
          params_string: embedding ? null : '270M',
          loaded_instances: m.loaded
            ? [{ id: m.id, config: { context_length: m.loadedContextLength ?? 4096 } }]
            : [],
          max_context_length: m.maxContextLength ?? 131072,
          format: 'gguf',
          ...(embedding
            ? {}
            : { capabilities: { vision: false, trained_for_tool_use: false }, description: null }),
        };
      }),
    };
  }
}
