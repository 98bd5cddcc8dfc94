// The quality gate: checks a reply of a model swarmd chose (auto, tier, alias) before it is
// returned; a failed check escalates the request to the next candidate (the dispatcher returns
// the first reply, marked, when every one fails). Pure. Checks, in order:
//
//   empty      no text and no tool call
//   truncated  finish_reason "length" (the token limit cut it off)
//   invalid_json  response_format json_object / json_schema asked for JSON and the text does
//                 not parse (json_object: not an object)
//   refusal    the model set `refusal`, or a reply shorter than REFUSAL_MAX_CHARS opens (first
//              REFUSAL_WINDOW characters) with one of REFUSAL_PHRASES
//
// Embeddings replies are not checked. Each check can be switched off in routing.qualityGate.
import type { JsonObject } from '../inference/types.js';

/** Which checks run (config routing.qualityGate). */
export interface QualityGateConfig {
  enabled: boolean;
  json: boolean;
  empty: boolean;
  truncated: boolean;
  refusal: boolean;
}

/** Why a reply was turned down. */
export type QualityFailure = 'empty' | 'truncated' | 'invalid_json' | 'refusal';

/** The gate's verdict. */
export type QualityVerdict = { ok: true } | { ok: false; reason: QualityFailure };

/** Text collected from a streamed reply, and whether it made tool calls. */
export interface CollectedReply {
  text: string;
  toolCalls: boolean;
  /** The model's structured-output refusal, when it sent one. */
  refusal?: string | null;
}

/** Openings that mark a refusal (matched case-insensitively, curly apostrophes too). */
export const REFUSAL_PHRASES: readonly string[] = [
  "i can't help with",
  'i cannot help with',
  "i can't assist with",
  'i cannot assist',
  "i can't provide",
  'i cannot provide',
  "i'm not able to help",
  'i am not able to help',
  "i'm unable to help",
  'i am unable to help',
  "i won't be able to help",
  "i'm sorry, but i can't",
  "i'm sorry, but i cannot",
  'i am sorry, but i cannot',
  'sorry, i cannot',
  "sorry, i can't",
  'as an ai language model',
];

/** A refusal phrase counts only within this many leading characters. */
export const REFUSAL_WINDOW = 200;
/** Replies at least this long are answers, whatever their opening says. */
export const REFUSAL_MAX_CHARS = 600;

const PASS: QualityVerdict = { ok: true };

/** Check a reply: a full OpenAI body, a collected stream, or plain text. */
export function checkReply(
  requestBody: JsonObject,
  reply: JsonObject | CollectedReply | string,
  finishReason: string | null,
  gate: QualityGateConfig,
): QualityVerdict {
  if (!gate.enabled) return PASS;
  const content = replyContent(reply);
  if (content === null) return PASS;
  const finish = finishReason ?? content.finishReason;
  const text = content.text;
  if (gate.empty && text.trim() === '' && !content.toolCalls && !content.refusal) {
    return { ok: false, reason: 'empty' };
  }
  if (gate.truncated && finish === 'length') return { ok: false, reason: 'truncated' };
  const wanted = jsonWanted(requestBody);
  if (gate.json && wanted !== null && !content.toolCalls && !content.refusal && !isJson(text, wanted)) {
    return { ok: false, reason: 'invalid_json' };
  }
  if (gate.refusal && (content.refusal || looksLikeRefusal(text))) return { ok: false, reason: 'refusal' };
  return PASS;
}

/** True when a text opens with a refusal phrase and is short enough to be only that. */
export function looksLikeRefusal(text: string): boolean {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length >= REFUSAL_MAX_CHARS) return false;
  const opening = trimmed
    .slice(0, REFUSAL_WINDOW)
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'");
  return REFUSAL_PHRASES.some((phrase) => opening.includes(phrase));
}

interface Content {
  text: string;
  toolCalls: boolean;
  refusal: boolean;
  finishReason: string | null;
}

function replyContent(input: JsonObject | CollectedReply | string): Content | null {
  if (typeof input === 'string') return { text: input, toolCalls: false, refusal: false, finishReason: null };
  const reply = input as Record<string, unknown>;
  if (!Array.isArray(reply['choices'])) {
    if (typeof reply['text'] === 'string' && typeof reply['toolCalls'] === 'boolean') {
      const collected = input as CollectedReply;
      return {
        text: collected.text,
        toolCalls: collected.toolCalls,
        refusal: typeof collected.refusal === 'string' && collected.refusal !== '',
        finishReason: null,
      };
    }
    // Embeddings (`data`) and other shapes carry no text to judge.
    return null;
  }
  const choice = (reply['choices'] as unknown[])[0];
  if (!isObject(choice)) return { text: '', toolCalls: false, refusal: false, finishReason: null };
  const finishReason = typeof choice['finish_reason'] === 'string' ? choice['finish_reason'] : null;
  if (typeof choice['text'] === 'string') {
    return { text: choice['text'], toolCalls: false, refusal: false, finishReason };
  }
  const message = isObject(choice['message']) ? choice['message'] : {};
  const toolCalls =
    (Array.isArray(message['tool_calls']) && message['tool_calls'].length > 0) ||
    isObject(message['function_call']);
  const refusal = typeof message['refusal'] === 'string' && message['refusal'] !== '';
  return { text: messageText(message['content']), toolCalls, refusal, finishReason };
}

function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (isObject(part) && typeof part['text'] === 'string' ? part['text'] : ''))
    .join('');
}

function jsonWanted(body: JsonObject): 'object' | 'any' | null {
  const format = body['response_format'];
  if (!isObject(format)) return null;
  if (format['type'] === 'json_object') return 'object';
  if (format['type'] === 'json_schema') return 'any';
  return null;
}

function isJson(text: string, wanted: 'object' | 'any'): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return wanted === 'any' || isObject(value);
  } catch {
    return false;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
