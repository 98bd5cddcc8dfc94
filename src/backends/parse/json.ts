// Defensive readers for JSON from model servers: shapes drift between versions, so every field is
// optional until proven otherwise and a wrong type reads as absent rather than crashing a probe.
import { BackendError, ErrorCodes } from '../../errors.js';

/** A plain JSON object. */
export type JsonObject = Record<string, unknown>;

/** True for a JSON object (not null, not an array). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `value`, or an empty one when it is anything else. */
export function objectOf(value: unknown): JsonObject {
  return isObject(value) ? value : {};
}

/** A non-empty string, else null. */
export function stringOf(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** A finite number, else null. */
export function numberOf(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A positive integer (context lengths, slot counts), else null. */
export function positiveIntOf(value: unknown): number | null {
  const n = numberOf(value);
  return n !== null && Number.isInteger(n) && n > 0 ? n : null;
}

/** The objects of an array; `null`/absent reads as empty (servers send `"data": null` for none). */
export function objectsOf(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** True when `value` is an array or null: what a list field may hold on any server version. */
export function isListOrNull(value: unknown): boolean {
  return value === null || Array.isArray(value);
}

/** The error for a body that parsed but is not the shape the route promises. */
export function badShape(source: string, expected: string, body: unknown): BackendError {
  const seen = JSON.stringify(body) ?? String(body);
  return new BackendError(
    ErrorCodes.BACKEND_BAD_RESPONSE,
    `${source} did not answer ${expected}; got ${seen.slice(0, 120)}`,
  );
}

/** Parse JSON where a non-JSON body is an answer in itself (fingerprints, status pages): null then. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
