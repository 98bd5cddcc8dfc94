// Fake llama.cpp llama-server speaking BACKENDS.md §4 (single-model mode): GET /health (and
// /v1/health), /props, /v1/models (and /models), /slots. While `loading`, every route answers 503.
// `shape: 'legacy'` uses the ≤mid-2024 health bodies and /v1/models without meta.n_ctx.
// /v1/chat/completions and /metrics belong in routes() when tests need them.
import type { ServerResponse } from 'node:http';
import { type FakeRequest, FakeServer, type Routes, sendJson } from './fake-server.js';

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
      ...state,
    });
  }

  protected override intercept(req: FakeRequest, res: ServerResponse): boolean {
    if (!this.state.loading) return false;
    const isHealth = req.path === '/health' || req.path === '/v1/health';
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
    const models = (_req: FakeRequest, res: ServerResponse) => sendJson(res, 200, this.models());
    return {
      'GET /health': health,
      'GET /v1/health': health,
      'GET /props': (_req, res) => sendJson(res, 200, this.props()),
      'GET /v1/models': models,
      'GET /models': models,
      'GET /slots': (_req, res) => sendJson(res, 200, this.slots()),
    };
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
    return {
      object: 'list',
      data: [{ id: modelId, object: 'model', created: 1735142223, owned_by: 'llamacpp', meta }],
    };
  }

  private slots() {
    return Array.from({ length: this.state.totalSlots }, (_, id) => ({
      id,
      id_task: -1,
      n_ctx: this.state.nCtx,
      speculative: false,
      is_processing: false,
      params: {},
      next_token: { has_next_token: true, has_new_line: false, n_remain: -1, n_decoded: 0 },
    }));
  }
}
