// Pure server-kind classification from a handful of GET answers (BACKENDS.md §0). Kept apart
// from the requests so each rule is tested without sockets. The order matters: the most
// specific fingerprints first, and llama-swap before llama-server since both live on :8080.
import type { BackendKind } from '../types.js';
import { isObject, stringOf, tryParseJson } from './json.js';
import { parseLlamaCppHealth } from './llamacpp.js';
import { parseLmStudioV0 } from './lmstudio.js';
import { isModelList, ownersOf, parseModelList } from './openai.js';

/** The paths detection asks, in no particular order. */
export const FINGERPRINT_PATHS = [
  '/',
  '/health',
  '/running',
  '/version',
  '/v1/models',
  '/api/v0/models',
] as const;

/** Path of a fingerprint request. */
export type FingerprintPath = (typeof FINGERPRINT_PATHS)[number];

/** One answer: status and raw body. */
export interface FingerprintAnswer {
  status: number;
  text: string;
}

/** What each path answered; missing (or null) when it gave no HTTP answer at all. */
export type Fingerprints = Partial<Record<FingerprintPath, FingerprintAnswer | null>>;

/** The server kind these answers point to, or null when none fits. */
export function classifyFingerprints(answers: Fingerprints): BackendKind | null {
  const ok = (path: FingerprintPath) => (answers[path]?.status === 200 ? answers[path] : null);
  const json = (path: FingerprintPath) => {
    const answer = ok(path);
    return answer ? tryParseJson(answer.text) : null;
  };
  const list = json('/v1/models');
  const owners = isModelList(list) ? ownersOf(parseModelList(list, '/v1/models')) : new Set<string>();

  if (ok('/')?.text.trim() === 'Ollama is running') return 'ollama';

  // llama-swap: /health is plain "OK" (llama-server's is JSON); /running is llama-swap's own route.
  const running = json('/running');
  if (ok('/health')?.text.trim() === 'OK' || (isObject(running) && Array.isArray(running.running))) {
    return 'llama-swap';
  }
  if (owners.has('llama-swap')) return 'llama-swap';

  // llama-server: JSON health, 503 while loading (when every other route is 503 as well).
  const health = answers['/health'];
  if (health && health.text.trim() !== '') {
    const body = tryParseJson(health.text);
    const ready = health.status === 200 && isObject(body) && body.status === 'ok';
    if (ready || (health.status === 503 && parseLlamaCppHealth(503, body) === 'loading')) return 'llamacpp';
  }
  if (owners.has('llamacpp')) return 'llamacpp';

  // vLLM: /version JSON and an empty-bodied /health (200 serving, 503 engine dead).
  if (owners.has('vllm')) return 'vllm';
  const version = json('/version');
  if (isObject(version) && stringOf(version.version) !== null && health && health.text === '') return 'vllm';

  // LM Studio: its own owner name, or its native list (unknown routes are 200 too, so check the shape).
  if (owners.has('organization_owner') || parseLmStudioV0(json('/api/v0/models')) !== null) return 'lmstudio';

  return isModelList(list) ? 'openai' : null;
}
