// Tells which kind of model server answers at a base URL, from the cheap fingerprints of
// BACKENDS.md §0, all asked at once so detection costs one round trip.
import { BackendError } from '../errors.js';
import { requestText } from './http.js';
import { classifyFingerprints, FINGERPRINT_PATHS, type Fingerprints } from './parse/fingerprint.js';
import type { BackendKind } from './types.js';

/** Options of a detection. */
export interface DetectOptions {
  /** Deadline of each request. */
  timeoutMs: number;
  signal?: AbortSignal;
  apiKey?: string;
}

/** What a detection found: the kind, or why there is none. */
export interface Detection {
  kind: BackendKind | null;
  /** Something answered HTTP at that address (even if it is no model server). */
  reachable: boolean;
  /** Why no kind was found; null when one was. */
  error: string | null;
}

/** The kind of server at baseUrl, or null when nothing answers or nothing known does. */
export async function detectBackendKind(baseUrl: string, opts: DetectOptions): Promise<BackendKind | null> {
  return (await detectBackend(baseUrl, opts)).kind;
}

/** Detect the server kind at baseUrl (no /v1), saying why when there is none. */
export async function detectBackend(baseUrl: string, opts: DetectOptions): Promise<Detection> {
  const answers: Fingerprints = {};
  let firstError: string | null = null;
  await Promise.all(
    FINGERPRINT_PATHS.map(async (path) => {
      try {
        const res = await requestText(`${baseUrl}${path}`, opts);
        answers[path] = { status: res.status, text: res.text };
      } catch (err) {
        if (!(err instanceof BackendError)) throw err;
        answers[path] = null;
        firstError ??= err.message;
      }
    }),
  );
  const reachable = Object.values(answers).some((a) => a != null);
  if (!reachable) return { kind: null, reachable, error: firstError ?? `${baseUrl} did not answer` };
  const kind = classifyFingerprints(answers);
  // 'openai' is the fallback for "lists models, nothing more specific answered". When a route
  // gave no answer at all (a timeout on a busy box), the specific fingerprint may be the one
  // missing: an Ollama whose `/` timed out must not be taken for a plain OpenAI server.
  const missing = FINGERPRINT_PATHS.find((path) => answers[path] == null);
  if (kind === 'openai' && missing !== undefined) {
    return {
      kind: null,
      reachable,
      error: `${baseUrl}${missing} did not answer (${firstError ?? 'no answer'}) while other routes did; detecting again at the next probe`,
    };
  }
  const error =
    kind === null
      ? `${baseUrl} answers HTTP but is not a known model server and lists no models at /v1/models; ` +
        'set its kind in backends.servers'
      : null;
  return { kind, reachable, error };
}
