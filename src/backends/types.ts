// What a model server on this box offers. Shared by backends/, rpc/ and cli/.

export const BACKEND_KINDS = ['ollama', 'llama-swap', 'vllm', 'llamacpp', 'lmstudio', 'openai'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** One model as a backend reports it. */
export interface ModelInfo {
  /** The id clients send in `model`, exactly as the server lists it. */
  id: string;
  /** Resident in memory now (Ollama /api/ps, llama-swap /running, LM Studio state...). */
  loaded: boolean;
  /** Context length the server reports (loaded num_ctx, max_model_len, n_ctx); null when unknown. */
  contextLength: number | null;
  /** Requests this model may run at once on this backend (config, else server, else default). */
  maxConcurrency: number;
  /** Bytes of VRAM the loaded model takes, when the server says. */
  sizeVramBytes: number | null;
}

/** The last probe of one backend. */
export interface BackendStatus {
  /** `kind@host:port`, unique on this node. */
  id: string;
  kind: BackendKind;
  /** Base URL without a trailing slash and without /v1. */
  url: string;
  healthy: boolean;
  version: string | null;
  /** Why the last probe failed or the server is not ready; null when healthy. */
  error: string | null;
  models: ModelInfo[];
  /** ms epoch of the last probe. */
  probedAt: number;
}

/**
 * A backend of this node as the code that calls it holds it: its last probe and the API key its
 * `apiKeyEnv` named, resolved once by the monitor. The key is a non-enumerable property, so
 * logging, JSON or a spread of this object never carries it; `status` is what may be shown.
 */
export interface LocalBackend {
  readonly status: BackendStatus;
  /** Sent as `Authorization: Bearer`; undefined when the server needs none (or its variable is unset). */
  readonly apiKey: string | undefined;
}
