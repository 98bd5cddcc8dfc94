// The answer bodies and stream chunks each real server sends (BACKENDS.md §1.8, §3.5, §4.6, §6),
// built from one AnswerPlan. Styles differ only where the servers do: where the role goes, where
// finish_reason and usage ride, what `created` does, how reasoning is named.
import { randomBytes, randomInt } from 'node:crypto';
import type { GenerationRoute } from './script.js';

/** A server's chunk/body conventions. */
export type ShapeStyle =
  | 'openai'
  | 'vllm'
  | 'lmstudio'
  | 'ollama'
  | 'ollama-legacy'
  | 'llamacpp'
  | 'llamacpp-legacy';

/** Everything one answer is built from. */
export interface AnswerPlan {
  route: GenerationRoute;
  style: ShapeStyle;
  id: string;
  created: number;
  model: string;
  fingerprint: string | null;
  tokens: string[];
  reasoning: string;
  finishReason: 'stop' | 'length' | 'tool_calls';
  /** Chat tool calls instead of text (finishReason "tool_calls"); empty for a text answer. */
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  promptTokens: number;
  includeUsage: boolean;
}

type Obj = Record<string, unknown>;

/** A response id in the server's style (Ollama's are `chatcmpl-<0..998>`, not unique). */
export function newId(style: ShapeStyle, route: GenerationRoute): string {
  // llama-server names every answer chatcmpl-, text completions too.
  const prefix = route === 'completions' && style !== 'llamacpp' ? 'cmpl-' : 'chatcmpl-';
  if (style === 'ollama' || style === 'ollama-legacy') return `${prefix}${randomInt(999)}`;
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

/** OpenAI usage of a plan (current llama-server adds prompt_tokens_details). */
export function usageOf(plan: AnswerPlan): Obj {
  const completion = plan.tokens.length;
  return {
    prompt_tokens: plan.promptTokens,
    completion_tokens: completion,
    total_tokens: plan.promptTokens + completion,
    ...(plan.style === 'llamacpp' ? { prompt_tokens_details: { cached_tokens: 0 } } : {}),
  };
}

// llama.cpp's per-request timings, on finish (or usage) chunks and whole answers.
function timings(plan: AnswerPlan): Obj {
  return {
    ...(plan.style === 'llamacpp' ? { cache_n: 0 } : {}),
    prompt_n: plan.promptTokens,
    prompt_ms: 12.5,
    prompt_per_token_ms: 0.5,
    prompt_per_second: 2000,
    predicted_n: plan.tokens.length,
    predicted_ms: 40,
    predicted_per_token_ms: 4,
    predicted_per_second: 250,
  };
}

function reasoningKey(style: ShapeStyle): string {
  return style === 'vllm' || style === 'lmstudio' || style.startsWith('llamacpp')
    ? 'reasoning_content'
    : 'reasoning';
}

/** The data events of a streamed answer, in order, without the final `[DONE]`. */
export function streamEvents(plan: AnswerPlan): Obj[] {
  return plan.route === 'completions' ? completionEvents(plan) : chatEvents(plan);
}

function chatEvents(plan: AnswerPlan): Obj[] {
  const { style } = plan;
  const legacyOllama = style === 'ollama-legacy';
  const openaiLike = style === 'openai' || style === 'lmstudio';
  const head = (i: number): Obj => ({
    id: plan.id,
    object: 'chat.completion.chunk',
    // ≤v0.32.5 Ollama stamps each chunk with its own time.
    created: legacyOllama ? plan.created + i : plan.created,
    model: plan.model,
    ...(plan.fingerprint !== null ? { system_fingerprint: plan.fingerprint } : {}),
    ...(openaiLike && plan.includeUsage ? { usage: null } : {}),
  });
  const choice = (delta: Obj, finish: string | null = null): Obj => ({
    index: 0,
    delta,
    ...(openaiLike ? { logprobs: null } : {}),
    finish_reason: finish,
  });
  const deltas: Obj[] = [];
  const reasoning = plan.reasoning ? { [reasoningKey(style)]: plan.reasoning } : null;
  if (style === 'ollama') {
    // ≥v0.32.6: the role rides on the first content (or reasoning) chunk.
    if (reasoning) deltas.push({ role: 'assistant', content: '', ...reasoning });
    plan.tokens.forEach((t, i) => {
      deltas.push(i === 0 && !reasoning ? { role: 'assistant', content: t } : { content: t });
    });
    if (deltas.length === 0) deltas.push({ role: 'assistant', content: '' });
  } else if (legacyOllama) {
    if (reasoning) deltas.push({ role: 'assistant', content: '', ...reasoning });
    for (const t of plan.tokens) deltas.push({ role: 'assistant', content: t });
    if (deltas.length === 0) deltas.push({ role: 'assistant', content: '' });
  } else {
    const role: Obj = style.startsWith('llamacpp')
      ? { role: 'assistant', content: null }
      : style === 'openai'
        ? { role: 'assistant', content: '', refusal: null }
        : { role: 'assistant', content: '' };
    deltas.push(role);
    if (reasoning) deltas.push(reasoning);
    for (const t of plan.tokens) deltas.push({ content: t });
  }
  // Tool calls stream as OpenAI's do: id, type and name first, then the arguments.
  plan.toolCalls.forEach((call, index) => {
    deltas.push({
      tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
    });
    deltas.push({ tool_calls: [{ index, function: { arguments: call.arguments } }] });
  });

  const events: Obj[] = deltas.map((d, i) => ({ ...head(i), choices: [choice(d)] }));
  const n = events.length;
  const usage = usageOf(plan);
  if (legacyOllama) {
    // ≤v0.32.5: finish_reason on the last content chunk, no separate finish chunk.
    const last = events[n - 1]!;
    last.choices = [choice(deltas[n - 1]!, plan.finishReason)];
  } else {
    const finish: Obj = { ...head(n), choices: [choice({}, plan.finishReason)] };
    // Current llama-server puts timings on the usage chunk when there is one, else on the finish chunk.
    if (style === 'llamacpp-legacy' || (style === 'llamacpp' && !plan.includeUsage)) {
      finish.timings = timings(plan);
    }
    // Builds of b6097's era put usage on the finish chunk whether asked or not.
    if (style === 'llamacpp-legacy') finish.usage = usage;
    events.push(finish);
  }
  if (plan.includeUsage && style !== 'llamacpp-legacy') {
    const usageChunk: Obj = { ...head(events.length), choices: [], usage };
    if (style === 'llamacpp') usageChunk.timings = timings(plan);
    events.push(usageChunk);
  }
  return events;
}

function completionEvents(plan: AnswerPlan): Obj[] {
  const ollama = plan.style.startsWith('ollama');
  const head = (): Obj => ({
    id: plan.id,
    object: 'text_completion',
    created: plan.created,
    model: plan.model,
    ...(plan.fingerprint !== null ? { system_fingerprint: plan.fingerprint } : {}),
    // Ollama's CompleteWriter puts zero usage on every chunk when include_usage is set.
    ...(ollama && plan.includeUsage
      ? { usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } }
      : {}),
  });
  const choice = (text: string, finish: string | null = null): Obj => ({
    text,
    index: 0,
    logprobs: null,
    finish_reason: finish,
  });
  const events: Obj[] = plan.tokens.map((t) => ({ ...head(), choices: [choice(t)] }));
  const finish: Obj = { ...head(), choices: [choice('', plan.finishReason)] };
  // llama-server (old and current) puts usage on the finish chunk of a text completion, asked or
  // not, and never sends a separate usage chunk; current builds add timings there too.
  const llamacpp = plan.style.startsWith('llamacpp');
  if (llamacpp) finish.usage = usageOf(plan);
  if (plan.style === 'llamacpp') finish.timings = timings(plan);
  events.push(finish);
  if (plan.includeUsage && !llamacpp) {
    events.push({ ...head(), choices: [], usage: usageOf(plan) });
  }
  return events;
}

/** A non-streamed answer in the server's shape. */
export function wholeAnswer(plan: AnswerPlan): Obj {
  const { style } = plan;
  const text = plan.tokens.join('');
  const usage = usageOf(plan);
  const fingerprint = plan.fingerprint !== null ? { system_fingerprint: plan.fingerprint } : {};
  if (plan.route === 'completions') {
    return {
      id: plan.id,
      object: 'text_completion',
      created: plan.created,
      model: plan.model,
      ...fingerprint,
      choices: [{ text, index: 0, logprobs: null, finish_reason: plan.finishReason }],
      usage,
    };
  }
  const reasoning = plan.reasoning ? { [reasoningKey(style)]: plan.reasoning } : {};
  const toolCalls =
    plan.toolCalls.length > 0
      ? {
          content: null,
          tool_calls: plan.toolCalls.map((call) => ({
            id: call.id,
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          })),
        }
      : {};
  const message: Obj =
    style === 'openai'
      ? { role: 'assistant', content: text, refusal: null, annotations: [], ...reasoning }
      : style === 'vllm'
        ? { role: 'assistant', content: text, reasoning_content: plan.reasoning || null, tool_calls: [] }
        : { role: 'assistant', content: text, ...reasoning };
  Object.assign(message, toolCalls);
  const choice: Obj = { index: 0, message, finish_reason: plan.finishReason };
  if (style === 'openai' || style === 'vllm' || style === 'lmstudio') choice.logprobs = null;
  if (style === 'vllm') choice.stop_reason = null;
  const body: Obj = {
    id: plan.id,
    object: 'chat.completion',
    created: plan.created,
    model: plan.model,
    ...fingerprint,
    choices: [choice],
    usage,
  };
  if (style.startsWith('llamacpp')) body.timings = timings(plan);
  if (style === 'vllm') Object.assign(body, { prompt_logprobs: null, kv_transfer_params: null });
  if (style === 'openai') body.service_tier = 'default';
  return body;
}

/**
 * An embeddings answer: one small deterministic vector per input. `encoding_format: "base64"`
 * (what the `openai` client asks for by default) gets each vector as base64 of little-endian
 * float32s, as llama-server, vLLM and OpenAI answer it.
 */
export function embeddingAnswer(model: string, input: unknown, encodingFormat?: unknown): Obj {
  const inputs = Array.isArray(input) ? input : [input];
  const data = inputs.map((item, index) => {
    const seed = JSON.stringify(item ?? '');
    const vector = Array.from({ length: 8 }, (_, i) => ((seed.charCodeAt(i % seed.length) % 17) - 8) / 8);
    const embedding =
      encodingFormat === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  const tokens = inputs.reduce<number>(
    (n, v) => n + (typeof v === 'string' ? (v.match(/\S+/g) ?? []).length : 1),
    0,
  );
  return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
