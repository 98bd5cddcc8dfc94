// Fake generic OpenAI-compatible server (BACKENDS.md §6): GET /v1/models only, optionally behind
// an API key (401 with the OpenAI error object otherwise). `nullWhenEmpty` sends `"data": null`.
// /v1/chat/completions belongs in routes() when tests need it.
import type { ServerResponse } from 'node:http';
import { type FakeRequest, FakeServer, type Routes, sendJson } from './fake-server.js';

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
}

/** A fake OpenAI-compatible server. */
export class FakeOpenAi extends FakeServer<FakeOpenAiState> {
  constructor(state: Partial<FakeOpenAiState> = {}) {
    super({ models: [], nullWhenEmpty: false, ...state });
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
}
