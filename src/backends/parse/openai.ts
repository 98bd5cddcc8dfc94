// Pure readers for the OpenAI model list (BACKENDS.md §6.4), which every server here also serves
// at /v1/models with its own extra fields.
import {
  badShape,
  isListOrNull,
  isObject,
  type JsonObject,
  objectsOf,
  positiveIntOf,
  stringOf,
} from './json.js';

/** The entries of a /v1/models body; `"data": null` (no models) reads as none. */
export function parseModelList(body: unknown, source: string): JsonObject[] {
  if (!isObject(body) || !('data' in body) || !isListOrNull(body.data)) {
    throw badShape(source, 'an OpenAI model list ({"data": [...]})', body);
  }
  return objectsOf(body.data).filter((m) => stringOf(m.id) !== null);
}

/** True when body is an OpenAI model list; for fingerprinting, where a wrong shape is not an error. */
export function isModelList(body: unknown): boolean {
  return isObject(body) && 'data' in body && isListOrNull(body.data);
}

/** The `owned_by` values of a model list, which several servers fill with their own name. */
export function ownersOf(entries: JsonObject[]): Set<string> {
  return new Set(entries.map((m) => stringOf(m.owned_by)).filter((o): o is string => o !== null));
}

/** Context length a generic server may add to a card under one of the names seen in the wild. */
export function cardContextLength(card: JsonObject): number | null {
  // context_length: llama-swap/OpenRouter; max_model_len: vLLM-style servers; context_window: Groq.
  return (
    positiveIntOf(card.context_length) ??
    positiveIntOf(card.max_model_len) ??
    positiveIntOf(card.context_window)
  );
}
