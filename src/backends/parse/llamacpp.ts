// Pure readers for llama.cpp's llama-server (BACKENDS.md §4): /health (old and new bodies),
// /props (per-slot n_ctx, total_slots) and /v1/models (single-model and router mode).
import { isObject, objectOf, positiveIntOf, stringOf } from './json.js';
import { parseModelList } from './openai.js';

/** What /health says: ready, still loading its model, or something else (wrong, or not llama-server). */
export type LlamaCppHealth = 'ok' | 'loading' | 'failed';

/** The parts of /props a probe needs. */
export interface LlamaCppProps {
  /** Per-slot context: what one request can use. */
  nCtx: number | null;
  /** Parallel slots (--parallel): requests served at once. */
  totalSlots: number | null;
  /** Build tag such as b6100-abcdef12, shown as the version. */
  build: string | null;
}

/** One /v1/models entry. */
export interface LlamaCppModel {
  id: string;
  /** meta.n_ctx (per-slot, newer builds); null when meta is absent or null (loading). */
  contextLength: number | null;
  /** Router mode's status.value === "loaded"; null in single-model mode, where the model is loaded. */
  routerLoaded: boolean | null;
}

/** Classify a /health answer by status and JSON body (body null when not JSON). */
export function parseLlamaCppHealth(status: number, body: unknown): LlamaCppHealth {
  const b = objectOf(body);
  const legacyStatus = stringOf(b.status);
  // Anything but JSON {"status":"ok"} on 200 is another server on the port (llama-swap's text "OK").
  if (status === 200) return legacyStatus === 'ok' ? 'ok' : 'failed';
  if (status === 503) {
    // Old builds with ?fail_on_no_slot: the server is up, only busy. We never send it, but be exact.
    if (legacyStatus === 'no slot available') return 'ok';
    // New: {"error":{"type":"unavailable_error","message":"Loading model"}}; old: {"status":"loading model"}.
    if (isObject(b.error) || legacyStatus !== null) return 'loading';
  }
  return 'failed';
}

/** Read /props; fields missing on old builds read as null. */
export function parseLlamaCppProps(body: unknown): LlamaCppProps {
  const b = objectOf(body);
  return {
    nCtx: positiveIntOf(objectOf(b.default_generation_settings).n_ctx) ?? positiveIntOf(b.n_ctx),
    totalSlots: positiveIntOf(b.total_slots),
    build: stringOf(b.build_info),
  };
}

/** Read /v1/models (or router mode's /models). */
export function parseLlamaCppModels(body: unknown, source: string): LlamaCppModel[] {
  return parseModelList(body, source).map((card) => {
    const status = isObject(card.status) ? stringOf(card.status.value) : null;
    return {
      id: stringOf(card.id)!,
      contextLength: positiveIntOf(objectOf(card.meta).n_ctx),
      routerLoaded: status === null ? null : status === 'loaded',
    };
  });
}
