// Pieces the fakes' dialects share when they render failures: the status each scripted failure
// has on most servers, a neutral message, the OpenAI error envelope, and SSE framing.

import type { ErrorReply, FailureKind } from './script.js';
import type { RefuseContext } from './serve.js';

/** The status most servers answer each failure with (dialects override where theirs differ). */
export const FAILURE_STATUS: Readonly<Record<FailureKind, number>> = {
  'model-not-found': 404,
  'context-length': 400,
  overloaded: 503,
  quota: 429,
  'server-error': 500,
  'bad-request': 400,
  unauthorized: 401,
};

/** A plausible message for a failure (only humans read it; tests assert codes). */
export function failureMessage(kind: FailureKind, ctx: RefuseContext): string {
  switch (kind) {
    case 'model-not-found':
      return `The model \`${ctx.model}\` does not exist.`;
    case 'context-length':
      return `This model's maximum context length is 4096 tokens. However, your messages resulted in ${ctx.promptTokens + 4096} tokens.`;
    case 'overloaded':
      return 'The server is overloaded, please try again later.';
    case 'quota':
      return 'You exceeded your current quota, please check your plan and billing details.';
    case 'server-error':
      return 'The server had an error while processing your request.';
    case 'bad-request':
      return "Invalid value for 'temperature': expected a number.";
    case 'unauthorized':
      return 'Incorrect API key provided.';
  }
}

/** OpenAI's `{error:{message,type,param,code}}`, type from the status unless given. */
export function openAiError(
  status: number,
  message: string,
  extra: { type?: string; code?: string | number | null; param?: string | null } = {},
  headers?: Record<string, string>,
): ErrorReply {
  const type =
    extra.type ??
    (status === 401
      ? 'invalid_request_error'
      : status === 429
        ? 'requests'
        : status >= 500
          ? 'server_error'
          : 'invalid_request_error');
  return {
    status,
    body: { error: { message, type, param: extra.param ?? null, code: extra.code ?? null } },
    ...(headers ? { headers } : {}),
  };
}

/** One SSE data event. */
export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** True when a model name is served: every name when the list is empty (tests that do not care). */
export function serves(names: readonly string[], model: string): boolean {
  return names.length === 0 || names.includes(model);
}
