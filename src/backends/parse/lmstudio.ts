// Pure readers for LM Studio's native model lists (BACKENDS.md §5): /api/v0/models (0.3.6+) and
// /api/v1/models (0.4+). LM Studio answers unknown routes with 200 and an error body, so a list
// is recognised by its shape, and anything else reads as "this API is not served".
import { isObject, objectOf, objectsOf, positiveIntOf, stringOf } from './json.js';

/** One model as LM Studio lists it. */
export interface LmStudioModel {
  id: string;
  loaded: boolean;
  /** Context of the loaded instance when known, else the model's maximum. */
  contextLength: number | null;
}

/** /api/v0/models, or null when the body is not that list (older server, error payload). */
export function parseLmStudioV0(body: unknown): LmStudioModel[] | null {
  if (!isObject(body) || !Array.isArray(body.data)) return null;
  const models: LmStudioModel[] = [];
  for (const m of objectsOf(body.data)) {
    const id = stringOf(m.id);
    if (id === null) continue;
    models.push({ id, loaded: m.state === 'loaded', contextLength: positiveIntOf(m.max_context_length) });
  }
  return models;
}

/** /api/v1/models, or null when the body is not that list. */
export function parseLmStudioV1(body: unknown): LmStudioModel[] | null {
  if (!isObject(body) || !Array.isArray(body.models)) return null;
  const models: LmStudioModel[] = [];
  for (const m of objectsOf(body.models)) {
    // `key` is what clients send as `model`; instances of a loaded model carry their own config.
    const id = stringOf(m.key);
    if (id === null) continue;
    const instances = objectsOf(m.loaded_instances);
    const loadedCtx =
      instances.length > 0 ? positiveIntOf(objectOf(instances[0]!.config).context_length) : null;
    models.push({
      id,
      loaded: instances.length > 0,
      contextLength: loadedCtx ?? positiveIntOf(m.max_context_length),
    });
  }
  return models;
}
