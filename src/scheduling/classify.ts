// How hard a request is, for model `auto`, and the tiers each level goes to. Pure.
//
// An action type configured in `routing.actions` decides outright. Otherwise points add up
// (CLASSIFY_RULES): a long prompt, many messages, tools, a JSON schema and code blocks each
// add; a complex keyword in the last user message adds a lot, a simple keyword takes away.
// 3 points or more is complex, 1 or 2 moderate, less simple.
import type { Complexity, Tier } from '../inference/types.js';
import { requestText } from './secrets.js';
import { estimateTokens } from './tokens.js';

/** The part of `routing` config classification reads. */
export interface ClassifyConfig {
  actions: Readonly<Record<string, Complexity>>;
  keywords: { simple: readonly string[]; complex: readonly string[] };
}

/** What classification looks at: the OpenAI body and the action type, if any. */
export interface ClassifyInput {
  body: Record<string, unknown>;
  action: string | null | undefined;
}

/** The verdict and the rules that led to it (for logs and `x-swarm-complexity-reasons`). */
export interface Classification {
  complexity: Complexity;
  reasons: string[];
}

/** The thresholds and points classification uses, documented as data. */
export const CLASSIFY_RULES = {
  /** Estimated prompt tokens from which a request is at least moderate (+1). */
  moderateTokens: 1_500,
  /** Estimated prompt tokens from which a request is complex (+3). */
  complexTokens: 8_000,
  /** Messages from which a conversation adds a point. */
  manyMessages: 12,
  /** Points for tools, a json_schema response format, one or more code blocks; three or more blocks add one more. */
  structurePoint: 1,
  /** Points for a complex keyword (+) and a simple keyword (-). */
  complexKeyword: 3,
  simpleKeyword: -2,
  /** Points from which a request is moderate / complex. */
  moderateFrom: 1,
  complexFrom: 3,
} as const;

/** Judge a request simple, moderate or complex. */
export function classify(request: ClassifyInput, config: ClassifyConfig): Classification {
  const action = request.action?.trim().toLowerCase();
  if (action) {
    const fixed = config.actions[action];
    if (fixed) return { complexity: fixed, reasons: [`action ${action}`] };
  }
  const body = request.body;
  const R = CLASSIFY_RULES;
  const reasons: string[] = [];
  let points = 0;

  const text = requestText(body);
  const tokens = estimateTokens(text);
  if (tokens >= R.complexTokens) {
    points += 3;
    reasons.push(`long prompt (~${tokens} tokens)`);
  } else if (tokens >= R.moderateTokens) {
    points += 1;
    reasons.push(`medium prompt (~${tokens} tokens)`);
  }
  const messages = Array.isArray(body['messages']) ? body['messages'] : [];
  if (messages.length >= R.manyMessages) {
    points += R.structurePoint;
    reasons.push(`${messages.length} messages`);
  }
  if ((Array.isArray(body['tools']) && body['tools'].length > 0) || Array.isArray(body['functions'])) {
    points += R.structurePoint;
    reasons.push('tools');
  }
  const format = body['response_format'];
  if (isObject(format) && format['type'] === 'json_schema') {
    points += R.structurePoint;
    reasons.push('json schema');
  }
  const blocks = Math.floor(countFences(text) / 2);
  if (blocks > 0) {
    points += R.structurePoint + (blocks >= 3 ? 1 : 0);
    reasons.push(`${blocks} code block${blocks === 1 ? '' : 's'}`);
  }
  const ask = lastUserText(body);
  const complexWord = firstKeyword(ask, config.keywords.complex);
  const simpleWord = firstKeyword(ask, config.keywords.simple);
  if (complexWord !== null) {
    points += R.complexKeyword;
    reasons.push(`keyword "${complexWord}"`);
  }
  if (simpleWord !== null) {
    points += R.simpleKeyword;
    reasons.push(`keyword "${simpleWord}"`);
  }
  const complexity: Complexity =
    points >= R.complexFrom ? 'complex' : points >= R.moderateFrom ? 'moderate' : 'simple';
  if (reasons.length === 0) reasons.push('short plain request');
  return { complexity, reasons };
}

/** The tiers a complexity goes to, in order: simple → fast, deep; moderate → deep; complex → deep, cloud (if allowed). */
export function tierFor(complexity: Complexity, cloudAllowed: boolean): Tier[] {
  switch (complexity) {
    case 'simple':
      return ['fast', 'deep'];
    case 'moderate':
      return ['deep'];
    case 'complex':
      return cloudAllowed ? ['deep', 'cloud'] : ['deep'];
  }
}

function countFences(text: string): number {
  let count = 0;
  for (let at = text.indexOf('```'); at !== -1; at = text.indexOf('```', at + 3)) count++;
  return count;
}

/** The text of the last user message (chat) or the prompt (completions): the actual ask. */
function lastUserText(body: Record<string, unknown>): string {
  const messages = body['messages'];
  if (Array.isArray(messages)) {
    for (let i = messages.length - 1; i >= 0; i--) {
      const message: unknown = messages[i];
      if (isObject(message) && message['role'] === 'user') return requestText({ messages: [message] });
    }
    return '';
  }
  return requestText({ prompt: body['prompt'] });
}

/** The first keyword found as a whole word (common endings -s, -ed, -ing... allowed), or null. */
function firstKeyword(text: string, keywords: readonly string[]): string | null {
  const words = keywords.map((word) => word.trim()).filter((word) => word.length > 0);
  if (words.length === 0 || text === '') return null;
  const alternatives = words.map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const regex = new RegExp(
    `(?<![\\p{L}\\p{N}_])(${alternatives})(?:s|es|d|ed|ing|ging|ion|ions|ation|ations)?(?![\\p{L}\\p{N}_])`,
    'iu',
  );
  const match = regex.exec(text);
  if (!match) return null;
  const found = match[1]!.toLowerCase();
  return words.find((word) => word.toLowerCase() === found) ?? found;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
