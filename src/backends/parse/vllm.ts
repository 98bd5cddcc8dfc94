// Pure readers for vLLM (BACKENDS.md §3): /version and the /v1/models cards with max_model_len.
import { objectOf, positiveIntOf, stringOf } from './json.js';
import { parseModelList } from './openai.js';

/** One served model card. */
export interface VllmCard {
  id: string;
  /** Effective context (after --max-model-len); for a LoRA adapter, its base model's. */
  contextLength: number | null;
}

/** The version string of /version, or null when the body has none. */
export function parseVllmVersion(body: unknown): string | null {
  return stringOf(objectOf(body).version);
}

/** The served models; LoRA cards (parent set, no max_model_len) inherit their base model's length. */
export function parseVllmModels(body: unknown, source: string): VllmCard[] {
  const cards = parseModelList(body, source);
  const byId = new Map(cards.map((c) => [stringOf(c.id)!, positiveIntOf(c.max_model_len)]));
  return cards.map((c) => {
    const id = stringOf(c.id)!;
    const parent = stringOf(c.parent);
    return { id, contextLength: byId.get(id) ?? (parent !== null ? (byId.get(parent) ?? null) : null) };
  });
}
