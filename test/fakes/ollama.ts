// Fake Ollama speaking BACKENDS.md §1: GET /, /api/version, /api/tags, /api/ps, POST /api/show,
// GET /v1/models. `shape: 'legacy'` mimics servers before v0.9.7 (no context_length in /api/ps)
// together with the null lists of an empty install (`"models": null`, `"data": null`).
// Generation routes (/api/chat, /v1/chat/completions) belong in routes() when tests need them.
import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type FakeRequest, FakeServer, type Routes, sendJson, sendText } from './fake-server.js';

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
    super({ version: '0.33.0', shape: 'current', models: [], loaded: [], ...state });
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
      'GET /v1/models': (_req, res) => sendJson(res, 200, this.openAiModels()),
    };
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
