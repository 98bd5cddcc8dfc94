// The error a test expects: what a call throws or a promise rejects with, so the test can
// assert on its code. A call that succeeds, or fails with another kind of error, fails the test.
import { expect } from 'vitest';

/** A class of errors (SwarmError, TaskError, OpenAI.APIError, ...). */
// biome-ignore lint/suspicious/noExplicitAny: any constructor, whatever its parameters
type ErrorClass<E> = abstract new (...args: any[]) => E;

/** What `run` throws; with `type`, checked to be one. Fails the test when `run` returns. */
export function thrown(run: () => unknown): unknown;
export function thrown<E>(run: () => unknown, type: ErrorClass<E>): E;
export function thrown<E>(run: () => unknown, type?: ErrorClass<E>): unknown {
  let result: unknown;
  try {
    result = run();
  } catch (err) {
    if (type) expect(err).toBeInstanceOf(type);
    return err;
  }
  throw new Error(`expected a throw, but it returned ${shown(result)}`);
}

/** What `promise` rejects with; with `type`, checked to be one. Fails the test when it resolves. */
export async function rejected(promise: PromiseLike<unknown>): Promise<unknown>;
export async function rejected<E>(promise: PromiseLike<unknown>, type: ErrorClass<E>): Promise<E>;
export async function rejected<E>(promise: PromiseLike<unknown>, type?: ErrorClass<E>): Promise<unknown> {
  let result: unknown;
  try {
    result = await promise;
  } catch (err) {
    if (type) expect(err).toBeInstanceOf(type);
    return err;
  }
  throw new Error(`expected a rejection, but it resolved with ${shown(result)}`);
}

function shown(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 500) ?? String(value);
  } catch {
    return String(value);
  }
}
