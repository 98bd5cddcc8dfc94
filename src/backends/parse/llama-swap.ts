// Pure readers for llama-swap (BACKENDS.md §2): /v1/models cards and /running processes, old and
// new shapes. Only /running tells `starting` from `ready`; /v1/models says "loaded" for both.
import { badShape, isObject, objectOf, objectsOf, positiveIntOf, stringOf } from './json.js';
import { parseModelList } from './openai.js';

/** One /v1/models card. */
export interface SwapModel {
  id: string;
  contextLength: number | null;
  /** `status.value === "loaded"` (≥v236, includes starting); null on older versions. */
  listedLoaded: boolean | null;
}

/** One /running process; `state` is `starting`, `ready` or `stopping` (v170 lists only `ready`). */
export interface SwapProcess {
  model: string;
  state: string;
}

/** The models a llama-swap lists. */
export function parseSwapModels(body: unknown, source: string): SwapModel[] {
  return parseModelList(body, source).map((card) => {
    const status = stringOf(objectOf(card.status).value);
    return {
      id: stringOf(card.id)!,
      contextLength: positiveIntOf(card.context_length) ?? positiveIntOf(objectOf(card.meta).n_ctx),
      listedLoaded: status === null ? null : status === 'loaded',
    };
  });
}

/** The processes of /running (v170: model and state only; ≥v200: with cmd, proxy, ttl...). */
export function parseSwapRunning(body: unknown, source: string): SwapProcess[] {
  if (!isObject(body) || !(body.running === null || Array.isArray(body.running))) {
    throw badShape(source, '{"running": [...]}', body);
  }
  const processes: SwapProcess[] = [];
  for (const p of objectsOf(body.running)) {
    const model = stringOf(p.model);
    if (model !== null) processes.push({ model, state: stringOf(p.state) ?? 'ready' });
  }
  return processes;
}

/** Models that can answer now: `ready` only, since `starting` is still loading. */
export function readyModels(processes: SwapProcess[]): Set<string> {
  return new Set(processes.filter((p) => p.state === 'ready').map((p) => p.model));
}
