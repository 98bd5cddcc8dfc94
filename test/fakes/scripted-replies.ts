// A `respond` script for the fakes: the next chosen reply for each model, in call order, so a
// test decides what every attempt of a coding job gets. What each call was asked is in the
// fake's `generations` log (messages as received).
import type { GenerationRecord } from './generation/script.js';

/** Replies by model id, taken in order; a model with none left answers a line saying so. */
export function repliesByModel(queues: Record<string, string[]>): (record: GenerationRecord) => string {
  const left = Object.fromEntries(Object.entries(queues).map(([model, replies]) => [model, [...replies]]));
  return (record) => left[record.model ?? '']?.shift() ?? `no scripted reply left for ${record.model}`;
}

/** The user message (last one) of a recorded chat request. */
export function lastUserText(record: GenerationRecord): string {
  const messages = (record.messages ?? []) as { role?: string; content?: unknown }[];
  const user = messages.filter((m) => m.role === 'user').at(-1);
  return typeof user?.content === 'string' ? user.content : '';
}
