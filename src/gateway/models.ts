// `GET /v1/models` and `GET /v1/models/{id}` in OpenAI's list shape, each entry with a
// `swarm` field saying what the name is (model, alias, tier, auto) and where it lives.
import type { JsonObject } from '../inference/types.js';
import type { ModelListEntry } from './types.js';

/** One OpenAI model object with its `swarm` extension. */
export function modelObject(entry: ModelListEntry, defaultCreated: number): JsonObject {
  const swarm: JsonObject = { kind: entry.kind };
  if (entry.nodes !== undefined) swarm['nodes'] = entry.nodes;
  if (entry.loaded !== undefined) swarm['loaded'] = entry.loaded;
  if (entry.contextLength !== undefined) swarm['contextLength'] = entry.contextLength;
  return {
    id: entry.id,
    object: 'model',
    created: entry.created ?? defaultCreated,
    owned_by: entry.ownedBy ?? 'swarmd',
    swarm,
  };
}

/** The `{object: 'list', data: [...]}` body for a catalogue. */
export function modelList(entries: readonly ModelListEntry[], defaultCreated: number): JsonObject {
  return { object: 'list', data: entries.map((entry) => modelObject(entry, defaultCreated)) };
}
