// Checks the few fields the gateway itself relies on in an OpenAI request body (zod,
// schemas built once). Everything else passes through untouched to the backend.
import { z } from 'zod';
import type { InferenceKind, JsonObject } from '../inference/types.js';
import { RequestError } from './request-error.js';

const model = z.string().min(1, 'must be a non-empty string');
const streamFields = {
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
};
const nonEmptyList = z.array(z.unknown()).min(1, 'must not be empty');
/** Bounds checked before dispatch, so a backend never sees them: n in 1–128, max tokens ≥ 1. */
export const MAX_CHOICES = 128;
const generationBounds = {
  n: z
    .number()
    .int('must be a whole number')
    .min(1, `must be between 1 and ${MAX_CHOICES}`)
    .max(MAX_CHOICES, `must be between 1 and ${MAX_CHOICES}`)
    .nullish(),
  // Large values pass: backends clamp them to the context.
  max_tokens: z.number().int('must be a whole number').min(1, 'must be at least 1').nullish(),
  max_completion_tokens: z.number().int('must be a whole number').min(1, 'must be at least 1').nullish(),
};

const SCHEMAS: Record<InferenceKind, z.ZodType> = {
  chat: z.looseObject({
    model,
    messages: z.array(z.looseObject({ role: z.string() })).min(1, 'must contain at least one message'),
    ...streamFields,
    ...generationBounds,
  }),
  completions: z.looseObject({
    model,
    prompt: z.union([z.string(), nonEmptyList]),
    ...streamFields,
    ...generationBounds,
  }),
  embeddings: z.looseObject({
    model,
    input: z.union([z.string().min(1, 'must not be empty'), nonEmptyList]),
  }),
};

/** What the gateway reads from a valid body. */
export interface RequestFacts {
  model: string;
  stream: boolean;
  /** `stream_options.include_usage`: the client wants the final usage chunk. */
  includeUsage: boolean;
  /** `metadata.action` when it is a string. */
  metadataAction: string | null;
}

/** Validate a body for a route; throws a RequestError (400) naming the `param` at fault. */
export function validateRequest(kind: InferenceKind, body: JsonObject): RequestFacts {
  const result = SCHEMAS[kind].safeParse(body);
  if (!result.success) throw toRequestError(body, result.error.issues[0]);
  const metadata = body['metadata'];
  const action =
    metadata && typeof metadata === 'object' ? (metadata as Record<string, unknown>)['action'] : undefined;
  const streamOptions = body['stream_options'] as { include_usage?: boolean | null } | null | undefined;
  const stream = kind !== 'embeddings' && body['stream'] === true;
  return {
    model: body['model'] as string,
    stream,
    includeUsage: stream && streamOptions?.include_usage === true,
    metadataAction: typeof action === 'string' && action !== '' ? action : null,
  };
}

function toRequestError(body: JsonObject, issue: z.core.$ZodIssue | undefined): RequestError {
  if (!issue) return new RequestError('The request body is not valid.');
  const param = paramName(issue.path);
  if (valueAt(body, issue.path) === undefined) {
    return new RequestError(`Missing required parameter: '${param}'.`, {
      param,
      openaiCode: 'missing_required_parameter',
    });
  }
  const typeIssue = issue.code === 'invalid_type' || issue.code === 'invalid_union';
  return new RequestError(`Invalid value for '${param}': ${issue.message}.`, {
    param,
    openaiCode: typeIssue ? 'invalid_type' : 'invalid_value',
  });
}

function paramName(path: readonly PropertyKey[]): string {
  let name = '';
  for (const part of path) {
    if (typeof part === 'number') name += `[${part}]`;
    else name += name === '' ? String(part) : `.${String(part)}`;
  }
  return name;
}

function valueAt(body: JsonObject, path: readonly PropertyKey[]): unknown {
  let value: unknown = body;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}
