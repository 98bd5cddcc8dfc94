// Fake generic OpenAI-compatible server (BACKENDS.md §6): GET /v1/models, optionally behind an
// API key (401 with the OpenAI error object otherwise), and POST /v1/chat/completions,
// /v1/completions, /v1/embeddings in the canonical shapes. `nullWhenEmpty` sends `"data": null`.
// `flavour` mimics a cloud provider's quirks (§7): 'openrouter' sends `: OPENROUTER PROCESSING`
// comments, `{error:{code:<int>}}` bodies (402 when out of credit) and mid-stream errors as a
// chunk with `error` and finish_reason "error"; 'gemini' wraps error bodies in an array.
// Unknown models get 404 model_not_found (any model passes while the list is empty).
import type { ServerResponse } from 'node:http';
import { type FakeRequest, FakeServer, type Routes, sendJson } from './fake-server.js';
import { FAILURE_STATUS, failureMessage, openAiError, serves, sseData } from './generation/errors.js';
import type { ErrorReply, FailureKind } from './generation/script.js';
import { type Dialect, openAiRoutes, type RefuseContext } from './generation/serve.js';
import type { AnswerPlan } from './generation/shapes.js';

/** A listed model. */
export interface FakeOpenAiModel {
  id: string;
  ownedBy?: string;
  /** Sent as context_length when set (as OpenRouter-like servers do). */
  contextLength?: number;
}

/** What the fake answers from. */
export interface FakeOpenAiState {
  models: FakeOpenAiModel[];
  nullWhenEmpty: boolean;
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  /** Which provider's quirks to mimic. */
  flavour: 'openai' | 'openrouter' | 'gemini';
}

// Gemini's status names for the HTTP statuses its errors carry.
const GEMINI_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** A fake OpenAI-compatible server. */
export class FakeOpenAi extends FakeServer<FakeOpenAiState> {
  constructor(state: Partial<FakeOpenAiState> = {}) {
    super({ models: [], nullWhenEmpty: false, flavour: 'openai', ...state });
  }

  protected override intercept(req: FakeRequest, res: ServerResponse): boolean {
    const key = this.state.apiKey;
    if (key === undefined || req.headers.authorization === `Bearer ${key}`) return false;
    sendJson(res, 401, {
      error: {
        message: 'Incorrect API key provided.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
    return true;
  }

  protected routes(): Routes {
    return {
      'GET /v1/models': (_req, res) => {
        const { models, nullWhenEmpty } = this.state;
        const data =
          models.length === 0 && nullWhenEmpty
            ? null
            : models.map((m) => ({
                id: m.id,
                object: 'model',
                created: 1715367049,
                owned_by: m.ownedBy ?? 'system',
                ...(m.contextLength ? { context_length: m.contextLength } : {}),
              }));
        sendJson(res, 200, { object: 'list', data });
      },
      ...openAiRoutes(this, () => this.dialect()),
    };
  }

  protected notFound(req: FakeRequest, res: ServerResponse): void {
    sendJson(res, 404, {
      error: {
        message: `Unknown route ${req.method} ${req.path}`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
  }

  private dialect(): Dialect {
    const openrouter = this.state.flavour === 'openrouter';
    return {
      style: 'openai',
      fingerprint: this.state.flavour === 'openai' ? 'fp_44709d6fcb' : null,
      refuse: (ctx) =>
        serves(
          this.state.models.map((m) => m.id),
          ctx.model,
        )
          ? null
          : this.failure('model-not-found', ctx),
      failure: (kind, ctx) => this.failure(kind, ctx),
      midStreamError: (plan) => (openrouter ? openRouterStreamError(plan) : sseData(this.streamError())),
      preamble: () => (openrouter ? ': OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\n' : ''),
    };
  }

  private streamError(): unknown {
    return {
      error: {
        message: 'The server had an error while processing your request.',
        type: 'server_error',
        param: null,
        code: null,
      },
    };
  }

  private failure(kind: FailureKind, ctx: RefuseContext): ErrorReply {
    const message = failureMessage(kind, ctx);
    if (this.state.flavour === 'openrouter') {
      const status = kind === 'quota' ? 402 : kind === 'model-not-found' ? 400 : FAILURE_STATUS[kind];
      const text = kind === 'model-not-found' ? `${ctx.model} is not a valid model ID` : message;
      return {
        status,
        body: { error: { code: status, message: text } },
        ...(status === 429 ? { headers: { 'retry-after': '3' } } : {}),
      };
    }
    if (this.state.flavour === 'gemini') {
      const status = kind === 'overloaded' ? 503 : FAILURE_STATUS[kind];
      const text =
        kind === 'context-length'
          ? 'The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).'
          : kind === 'model-not-found'
            ? `models/${ctx.model} is not found for API version v1beta`
            : message;
      return {
        status,
        body: [{ error: { code: status, message: text, status: GEMINI_STATUS[status] ?? 'UNKNOWN' } }],
      };
    }
    switch (kind) {
      case 'model-not-found':
        return openAiError(
          404,
          `The model \`${ctx.model}\` does not exist or you do not have access to it.`,
          { code: 'model_not_found' },
        );
      case 'context-length':
        return openAiError(400, message, { code: 'context_length_exceeded', param: 'messages' });
      case 'overloaded':
        return openAiError(
          429,
          'Rate limit reached for requests',
          { code: 'rate_limit_exceeded' },
          {
            'retry-after-ms': '1500',
            'retry-after': '2',
          },
        );
      case 'quota':
        return openAiError(429, message, { type: 'insufficient_quota', code: 'insufficient_quota' });
      case 'unauthorized':
        return openAiError(401, message, { code: 'invalid_api_key' });
      default:
        return openAiError(FAILURE_STATUS[kind], message);
    }
  }
}

// OpenRouter's mid-generation failure: a chunk carrying `error` whose choice finishes with "error".
function openRouterStreamError(plan: AnswerPlan): string {
  return sseData({
    id: plan.id,
    object: 'chat.completion.chunk',
    created: plan.created,
    model: plan.model,
    provider: 'openai',
    error: { code: 'server_error', message: 'Provider disconnected unexpectedly' },
    choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }],
  });
}
