// Token estimates without a tokenizer: about four characters per token for English and
// code, which is what routing needs (is this prompt small, does it fit the context). Pure.
import { requestText } from './secrets.js';

/** Characters per token assumed by every estimate. */
export const CHARS_PER_TOKEN = 4;

/** Estimated tokens of a text (chars / 4, rounded up). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** Estimated prompt tokens of a request body (every string it sends to the model). */
export function promptTokens(body: Record<string, unknown>): number {
  return estimateTokens(requestText(body));
}

/** The completion budget a request asks for (`max_completion_tokens`, else `max_tokens`); 0 when unset. */
export function maxCompletionTokens(body: Record<string, unknown>): number {
  for (const key of ['max_completion_tokens', 'max_tokens']) {
    const value = body[key];
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.floor(value);
  }
  return 0;
}

/** Context a model needs to serve the request: estimated prompt tokens plus the completion budget. */
export function neededContext(body: Record<string, unknown>): number {
  return promptTokens(body) + maxCompletionTokens(body);
}
