// Fake llama.cpp llama-server speaking BACKENDS.md §4 (single-model mode): GET /health (and
// /v1/health), /props, /v1/models (and /models), /slots, and POST /v1/chat/completions,
// /v1/completions, /v1/embeddings (§4.6-4.7). While `loading`, every route answers 503.
// `shape: 'legacy'` uses the ≤mid-2024 health bodies, /v1/models without meta.n_ctx, and the
// b6097-era stream with usage on the finish chunk (never a separate usage chunk). The request's
// `model` is ignored (single-model mode) and echoed back; a prompt longer than the slot's n_ctx
// gets 400 exceed_context_size_error. /slots shows a slot busy per request in flight. With `apiKey`
// set (--api-key) every route but /health wants `Authorization: Bearer <apiKey>` and answers 401
// authentication_error without it (§4.1, §4.7). The current shape follows a real llama-server of
// 2026 (test/real/, test/fakes/NOTES.md).
// /metrics belongs in routes() when tests need it.
import type { ServerResponse } from 'node:http';
import { type FakeRequest, FakeServer, type Routes, sendJson } from './fake-server.js';
import { FAILURE_STATUS, failureMessage, sseData } from './generation/errors.js';
import type { ErrorReply, FailureKind } from './generation/script.js';
import { type Dialect, openAiRoutes, type RefuseContext } from './generation/serve.js';

// format_error_response: error type by status.
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  501: 'not_supported_error',
  503: 'unavailable_error',
};

/** llama-server's `{"error":{"code","message","type"}}` body. */
export function llamaCppError(
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
): ErrorReply {
  return {
    status,
    body: { error: { code: status, message, type: ERROR_TYPES[status] ?? 'server_error', ...extra } },
  };
}

/** llama-server's answer to a prompt longer than the slot context. */
export function llamaCppContextError(promptTokens: number, nCtx: number): ErrorReply {
  return llamaCppError(400, 'the request exceeds the available context size, try increasing it', {
    type: 'exceed_context_size_error',
    n_prompt_tokens: promptTokens,
    n_ctx: nCtx,
  });
}

/** What llama-server writes when a stream fails: an error data event. */
export const LLAMACPP_STREAM_ERROR = sseData({
  error: { code: 500, message: 'Failed to decode the batch', type: 'server_error' },
});

/** What the fake answers from. */
export interface FakeLlamaCppState {
  shape: 'current' | 'legacy';
  /** Still loading the model: 503 everywhere. */
  loading: boolean;
  /** The -m path or --alias. */
  modelId: string;
  /** Per-slot context (default_generation_settings.n_ctx). */
  nCtx: number;
  nCtxTrain: number;
  /** --parallel. */
  totalSlots: number;
  build: string;
  /**
   * Router mode (§4.8): the models it manages and their status; null is single-model mode.
   * /models, /v1/models, POST /models/unload and the generation routes follow it: an unknown
   * model is refused, an unloaded one is loaded by its first request (as the real router does).
   */
  router: Array<{ id: string; status: 'loaded' | 'unloaded' | 'loading' | 'sleeping' }> | null;
  /** --api-key: every route but /health then wants `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
}

/** A fake llama-server. */
export class FakeLlamaCpp extends FakeServer<FakeLlamaCppState> {
  constructor(state: Partial<FakeLlamaCppState> = {}) {
    super({
      shape: 'current',
      loading: false,
      modelId: '../models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf',
      nCtx: 8192,
      nCtxTrain: 131072,
      totalSlots: 4,
      build: 'b6100-abcdef12',
      router: null,
      ...state,
    });
  }

  protected override intercept(req: FakeRequest, res: ServerResponse): boolean {
    const isHealth = req.path === '/health' || req.path === '/v1/health';
    const key = this.state.apiKey;
    if (key !== undefined && !isHealth && req.headers.authorization !== `Bearer ${key}`) {
      const { status, body } = llamaCppError(401, 'Invalid API Key');
      sendJson(res, status, body);
      return true;
    }
    if (!this.state.loading) return false;
    if (isHealth && this.state.shape === 'legacy') sendJson(res, 503, { status: 'loading model' });
    else sendJson(res, 503, { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } });
    return true;
  }

  protected routes(): Routes {
    const health = (_req: FakeRequest, res: ServerResponse) =>
      sendJson(
        res,
        200,
        this.state.shape === 'legacy'
          ? { status: 'ok', slots_idle: this.state.totalSlots, slots_processing: 0 }
          : { status: 'ok' },
      );
    const models = (_req: FakeRequest, res: ServerResponse) =>
      sendJson(res, 200, this.state.router ? this.routerModels(this.state.router) : this.models());
    return {
      'POST /models/unload': (req, res) => this.routerUnload(req, res),
      'GET /health': health,
      'GET /v1/health': health,
      'GET /props': (req, res) => {
        if (!this.routerProps(req, res)) sendJson(res, 200, this.props());
      },
      'GET /v1/models': models,
      'GET /models': models,
      'GET /slots': (_req, res) => sendJson(res, 200, this.slots()),
      ...openAiRoutes(this, () => this.dialect()),
    };
  }

  // As the real router lists them (models_dir source): every status carries the child's args
  // and the preset it was made from, loaded or not.
  private routerModels(router: NonNullable<FakeLlamaCppState['router']>) {
    return {
      data: router.map((model) => ({
        id: model.id,
        aliases: [],
        tags: [],
        object: 'model',
        owned_by: 'llamacpp',
        created: 1756000000,
        status: {
          value: model.status,
          args: ['llama-server', '--alias', model.id, '--model', `/models/${model.id}.gguf`],
          preset: `[${model.id}]\nmodel = /models/${model.id}.gguf\n\n`,
        },
        architecture: { input_modalities: ['text'], output_modalities: ['text'] },
        source: 'models_dir',
        can_remove: false,
      })),
      object: 'list',
    };
  }

  // Router mode: /props is the router's own; ?model= asks that model's server (nCtx and
  // totalSlots are each model's), which only a loaded model has. False in single-model mode.
  private routerProps(req: FakeRequest, res: ServerResponse): boolean {
    const router = this.state.router;
    if (!router) return false;
    const id = new URLSearchParams(req.query).get('model');
    if (id === null) {
      sendJson(res, 200, {
        role: 'router',
        max_instances: 4,
        models_autoload: true,
        model_alias: 'llama-server',
        model_path: 'none',
        default_generation_settings: { params: null, n_ctx: 0 },
        ui_settings: {},
        build_info: this.state.build,
        cors_proxy_enabled: false,
      });
    } else if (router.find((m) => m.id === id)?.status === 'loaded') {
      sendJson(res, 200, { ...this.props(), model_alias: id, model_path: `/models/${id}.gguf` });
    } else {
      const known = router.some((m) => m.id === id);
      sendJson(res, 400, llamaCppError(400, known ? 'model is not loaded' : `model '${id}' not found`).body);
    }
    return true;
  }

  // The router refuses a model it does not have and loads (autoload) one it has on first use.
  private routerRefusal(model: string): ErrorReply | null {
    const router = this.state.router;
    if (!router) return null;
    const entry = router.find((m) => m.id === model);
    if (!entry) return llamaCppError(400, `model '${model}' not found`);
    if (entry.status !== 'loaded') {
      this.setState({ router: router.map((m) => (m === entry ? { ...m, status: 'loaded' } : m)) });
    }
    return null;
  }

  // §4.8: unknown or not-loaded models are 400 invalid_request_error ("model is not found", "model
  // is not running" as the real router words them); a single-model server has no such route.
  private routerUnload(req: FakeRequest, res: ServerResponse): void {
    const router = this.state.router;
    if (!router) {
      sendJson(res, 404, { error: { code: 404, message: 'File Not Found', type: 'not_found_error' } });
      return;
    }
    const id = (req.json() as { model?: unknown } | undefined)?.model;
    const model = router.find((entry) => entry.id === id);
    if (model?.status !== 'loaded') {
      const message = model ? 'model is not running' : 'model is not found';
      sendJson(res, 400, { error: { code: 400, message, type: 'invalid_request_error' } });
      return;
    }
    this.setState({
      router: router.map((entry) => (entry === model ? { ...entry, status: 'unloaded' } : entry)),
    });
    sendJson(res, 200, { success: true });
  }

  private dialect(): Dialect {
    return {
      style: this.state.shape === 'legacy' ? 'llamacpp-legacy' : 'llamacpp',
      fingerprint: this.state.build,
      refuse: (ctx) =>
        this.routerRefusal(ctx.model) ??
        (ctx.promptTokens > this.state.nCtx ? llamaCppContextError(ctx.promptTokens, this.state.nCtx) : null),
      failure: (kind, ctx) => this.failure(kind, ctx),
      midStreamError: () => LLAMACPP_STREAM_ERROR,
    };
  }

  private failure(kind: FailureKind, ctx: RefuseContext): ErrorReply {
    if (kind === 'context-length') return llamaCppContextError(ctx.promptTokens, this.state.nCtx);
    if (kind === 'overloaded') return llamaCppError(503, 'Loading model');
    if (kind === 'unauthorized') return llamaCppError(401, 'Invalid API Key');
    return llamaCppError(FAILURE_STATUS[kind], failureMessage(kind, ctx));
  }

  protected notFound(_req: FakeRequest, res: ServerResponse): void {
    sendJson(res, 404, { error: { code: 404, message: 'File Not Found', type: 'not_found_error' } });
  }

  private props() {
    const { nCtx, totalSlots, modelId, build } = this.state;
    return {
      default_generation_settings: {
        id: 0,
        id_task: -1,
        n_ctx: nCtx,
        speculative: false,
        is_processing: false,
        params: { n_predict: -1, temperature: 0.8, top_k: 40, top_p: 0.95 },
        prompt: '',
        next_token: { has_next_token: true, has_new_line: false, n_remain: -1, n_decoded: 0 },
      },
      total_slots: totalSlots,
      model_path: modelId,
      chat_template: '{{ messages }}',
      modalities: { vision: false },
      build_info: build,
    };
  }

  private models() {
    const { modelId, nCtx, nCtxTrain, shape } = this.state;
    const meta = {
      vocab_type: 2,
      n_vocab: 128256,
      n_ctx_train: nCtxTrain,
      n_embd: 4096,
      n_params: 8030261312,
      size: 4912898304,
      ...(shape === 'current' ? { n_ctx: nCtx } : {}),
    };
    const card = { id: modelId, object: 'model', created: 1735142223, owned_by: 'llamacpp', meta };
    if (shape === 'legacy') return { object: 'list', data: [card] };
    // Current builds (seen on the real server): an Ollama-style `models` list first, aliases and tags.
    return {
      models: [
        {
          name: modelId,
          model: modelId,
          modified_at: '',
          size: '',
          digest: '',
          type: 'model',
          description: '',
          tags: [''],
          capabilities: ['completion'],
          parameters: '',
          details: {
            parent_model: '',
            format: 'gguf',
            family: '',
            families: [''],
            parameter_size: '',
            quantization_level: '',
          },
        },
      ],
      object: 'list',
      data: [{ ...card, aliases: [modelId], tags: [] }],
    };
  }

  // As the real server shows them: a slot never used has four fields; a busy one (one per request
  // in flight) also its task and progress, next_token being a list.
  private slots() {
    return Array.from({ length: this.state.totalSlots }, (_, id) => {
      const slot = { id, n_ctx: this.state.nCtx, speculative: false, is_processing: id < this.inflight };
      if (!slot.is_processing) return slot;
      return {
        ...slot,
        id_task: id,
        params: { n_predict: -1, stream: true },
        next_token: [{ has_next_token: true, has_new_line: false, n_remain: -1, n_decoded: 0 }],
      };
    });
  }
}
