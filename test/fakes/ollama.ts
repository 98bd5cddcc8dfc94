// Fake Ollama speaking BACKENDS.md §1: GET /, /api/version, /api/tags, /api/ps, POST /api/show,
// POST /api/generate to load or unload (keep_alive 0),
// GET /v1/models, and the OpenAI routes POST /v1/chat/completions, /v1/completions,
// /v1/embeddings (§1.8-1.9). `shape: 'legacy'` is an old server throughout: no context_length in
// /api/ps (before v0.9.7), the null lists of an empty install (`"models": null`, `"data": null`),
// and the ≤v0.32.5 stream (role on every chunk, finish_reason on the last content chunk, a
// `created` per chunk). Unknown models get 404 (any model passes while none are installed);
// more than `maxQueue` requests at once get 503 "server busy".
import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type FakeRequest, FakeServer, type Routes, sendJson, sendText } from './fake-server.js';
import { FAILURE_STATUS, failureMessage, openAiError, sseData } from './generation/errors.js';
import type { FailureKind } from './generation/script.js';
import { type Dialect, openAiRoutes, type RefuseContext } from './generation/serve.js';

/** An installed model. */
export interface FakeOllamaModel {
  name: string;
  /** general.architecture; default 'llama'. */
  arch?: string;
  /** Trained context length reported by /api/show; default 8192. */
  contextLength?: number;
  /** Bytes on disk; default 4 GB. */
  size?: number;
}

/** A model resident in memory. */
export interface FakeOllamaLoaded {
  name: string;
  /** num_ctx it was loaded with; default 4096. */
  contextLength?: number;
  /** Bytes in VRAM; default the model's size. */
  sizeVram?: number;
}

/** What the fake answers from. */
export interface FakeOllamaState {
  version: string;
  shape: 'current' | 'legacy';
  models: FakeOllamaModel[];
  loaded: FakeOllamaLoaded[];
  /** OLLAMA_MAX_QUEUE: requests beyond it at once get 503 (default 512). */
  maxQueue: number;
}

// Ollama writes timestamps with nanoseconds and the local offset.
const MODIFIED_AT = '2025-05-04T17:37:44.706015396-07:00';
const EXPIRES_AT = '2026-09-01T14:38:31.83753-07:00';

/** A fake Ollama server. */
export class FakeOllama extends FakeServer<FakeOllamaState> {
  // Digests are content hashes in real life; salting per instance keeps fakes from sharing the
  // adapter's process-wide /api/show cache across tests.
  private readonly salt = randomUUID();

  constructor(state: Partial<FakeOllamaState> = {}) {
    super({ version: '0.33.0', shape: 'current', models: [], loaded: [], maxQueue: 512, ...state });
  }

  /** The digest this fake reports for a model name. */
  digestOf(name: string): string {
    return createHash('sha256').update(`${this.salt}:${name}`).digest('hex');
  }

  protected routes(): Routes {
    return {
      'GET /': (_req, res) => sendText(res, 200, 'Ollama is running'),
      'GET /api/version': (_req, res) => sendJson(res, 200, { version: this.state.version }),
      'GET /api/tags': (_req, res) => sendJson(res, 200, this.tags()),
      'GET /api/ps': (_req, res) => sendJson(res, 200, this.ps()),
      'POST /api/show': (req, res) => this.show(req, res),
      'POST /api/generate': (req, res) => this.generateNative(req, res),
      'GET /v1/models': (_req, res) => sendJson(res, 200, this.openAiModels()),
      ...openAiRoutes(this, () => this.dialect()),
    };
  }

  private dialect(): Dialect {
    return {
      style: this.state.shape === 'legacy' ? 'ollama-legacy' : 'ollama',
      fingerprint: 'fp_ollama',
      refuse: (ctx) => {
        if (!this.installed(ctx.model)) return this.failure('model-not-found', ctx);
        if (ctx.inflight > this.state.maxQueue) return this.failure('overloaded', ctx);
        return null;
      },
      failure: (kind, ctx) => this.failure(kind, ctx),
      // The /v1 writer turns the native `{"error":…}` line into an empty chunk, then the body just
      // ends: no finish_reason, no [DONE] (middleware/openai.go ChatWriter).
      midStreamError: (plan) =>
        sseData({
          id: plan.id,
          object: plan.route === 'chat' ? 'chat.completion.chunk' : 'text_completion',
          created: plan.created,
          model: plan.model,
          system_fingerprint: 'fp_ollama',
          choices: [
            plan.route === 'chat'
              ? { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }
              : { text: '', index: 0, finish_reason: null },
          ],
        }),
    };
  }

  // openai.NewError: the type follows the status; code and param are always null.
  private failure(kind: FailureKind, ctx: RefuseContext) {
    const status = kind === 'quota' ? 429 : FAILURE_STATUS[kind];
    const message =
      kind === 'model-not-found'
        ? `model "${ctx.model}" not found, try pulling it first`
        : kind === 'overloaded'
          ? 'server busy, please try again.  maximum pending requests exceeded'
          : kind === 'context-length'
            ? 'the input length exceeds the context length'
            : failureMessage(kind, ctx);
    const type = status === 400 ? 'invalid_request_error' : status === 404 ? 'not_found_error' : 'api_error';
    return openAiError(status, message, { type });
  }

  private installed(model: string): boolean {
    const names = this.state.models.map((m) => m.name);
    return names.length === 0 || names.includes(model) || names.includes(`${model}:latest`);
  }

  protected notFound(_req: FakeRequest, res: ServerResponse): void {
    // Go's default mux answer.
    sendText(res, 404, '404 page not found');
  }

  private details(m: FakeOllamaModel) {
    const family = m.arch ?? 'llama';
    return {
      parent_model: '',
      format: 'gguf',
      family,
      families: this.state.shape === 'legacy' ? null : [family],
      parameter_size: '8.0B',
      quantization_level: 'Q4_K_M',
    };
  }

  private tags() {
    const { models, shape } = this.state;
    if (models.length === 0 && shape === 'legacy') return { models: null };
    return {
      models: models.map((m) => ({
        name: m.name,
        model: m.name,
        modified_at: MODIFIED_AT,
        size: m.size ?? 4_000_000_000,
        digest: this.digestOf(m.name),
        details: this.details(m),
        ...(shape === 'current' ? { capabilities: ['completion', 'tools'] } : {}),
      })),
    };
  }

  private ps() {
    const models = this.state.loaded.flatMap((l) => {
      const m = this.state.models.find((x) => x.name === l.name) ?? { name: l.name };
      const size = m.size ?? 4_000_000_000;
      return [
        {
          name: l.name,
          model: l.name,
          size,
          size_vram: l.sizeVram ?? size,
          digest: this.digestOf(l.name),
          details: this.details(m),
          expires_at: EXPIRES_AT,
          ...(this.state.shape === 'current' ? { context_length: l.contextLength ?? 4096 } : {}),
        },
      ];
    });
    return { models };
  }

  // §1.6/1.7: with no prompt, `keep_alive: 0` unloads at once (done_reason "unload") and anything
  // else loads (done_reason "load"). Prompted native generation is not served by this fake.
  private generateNative(req: FakeRequest, res: ServerResponse): void {
    const body = req.json() as { model?: unknown; prompt?: unknown; keep_alive?: unknown } | undefined;
    const model = typeof body?.model === 'string' ? body.model : '';
    if (!model) {
      sendJson(res, 400, { error: 'model is required' });
      return;
    }
    if (!this.installed(model)) {
      sendJson(res, 404, { error: `model '${model}' not found` });
      return;
    }
    if (typeof body?.prompt === 'string' && body.prompt.length > 0) {
      sendJson(res, 501, { error: 'the fake Ollama serves /api/generate only to load and unload' });
      return;
    }
    const unload = body?.keep_alive === 0 || body?.keep_alive === '0s' || body?.keep_alive === '0';
    const loaded = this.state.loaded.filter((entry) => entry.name !== model);
    this.setState({ loaded: unload ? loaded : [...loaded, { name: model }] });
    sendJson(res, 200, {
      model,
      created_at: MODIFIED_AT,
      response: '',
      done: true,
      done_reason: unload ? 'unload' : 'load',
    });
  }

  private show(req: FakeRequest, res: ServerResponse): void {
    const body = req.json() as { model?: string; name?: string } | undefined;
    const name = body?.model ?? body?.name;
    const m = name ? this.state.models.find((x) => x.name === name) : undefined;
    if (!name || !m) {
      sendJson(res, name ? 404 : 400, { error: name ? `model '${name}' not found` : 'model is required' });
      return;
    }
    const arch = m.arch ?? 'llama';
    sendJson(res, 200, {
      modelfile: `FROM ${name}`,
      parameters: 'stop "<|eot_id|>"',
      template: '{{ .Prompt }}',
      details: this.details(m),
      model_info: {
        'general.architecture': arch,
        'general.parameter_count': 8_030_261_248,
        [`${arch}.context_length`]: m.contextLength ?? 8192,
        [`${arch}.embedding_length`]: 4096,
        [`${arch}.block_count`]: 32,
        'tokenizer.ggml.tokens': [],
      },
      capabilities: ['completion', 'tools'],
      modified_at: MODIFIED_AT,
    });
  }

  private openAiModels() {
    const { models, shape } = this.state;
    // A nil Go slice serialises as null: what Ollama sends with nothing installed.
    if (models.length === 0 && shape === 'legacy') return { object: 'list', data: null };
    return {
      object: 'list',
      data: models.map((m) => ({
        id: m.name,
        object: 'model',
        created: 1714862264,
        owned_by: m.name.includes('/') ? m.name.split('/')[0] : 'library',
      })),
    };
  }
}
