// OpenAI's `usage` object, shared by the gateway's replies and async task results.
import type { JsonObject, Usage } from './types.js';

const ZERO_USAGE = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

/** Usage in OpenAI's wire shape. */
export function wireUsage(usage: Usage): JsonObject {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
  };
}

/** A non-streaming reply always carries `usage`: the backend's own, else ours, else zeros. */
export function bodyWithUsage(body: JsonObject, usage: Usage | null): JsonObject {
  const own = body['usage'];
  if (own !== null && typeof own === 'object') return body;
  return { ...body, usage: usage ? wireUsage(usage) : ZERO_USAGE };
}
