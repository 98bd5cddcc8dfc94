// Synchronous requests go into the task journal too: a row queued before the request is
// dispatched, its end queued after (the journal writes them within a few ms, as one row when the
// request ended by then). A crash leaves a written row open and the next start marks it
// interrupted, so the journal tells what a restart cut off. A journal that cannot be written
// does not fail the request (the client is still connected and gets its answer); it is logged
// once.
import type { Dispatcher, InferenceOutcome, InferenceRequest, RunHooks } from '../inference/types.js';
import type { Logger } from '../util/logger.js';
import type { TaskJournal } from './journal.js';

/** A Dispatcher that journals each request around `inner`. */
export function journaledDispatcher(inner: Dispatcher, journal: TaskJournal, logger: Logger): Dispatcher {
  let warned = false;
  const guard = (write: () => void) => {
    try {
      write();
    } catch (err) {
      if (!warned) logger.error({ err }, 'task journal write failed; requests are served but not journaled');
      warned = true;
    }
  };
  return {
    async dispatch(request: InferenceRequest, hooks: RunHooks): Promise<InferenceOutcome> {
      // No owner: a synchronous request is answered on its connection, never fetched or listed.
      guard(() => journal.accept({ ...request, async: false, owner: null }));
      let attempts = 0;
      try {
        const outcome = await inner.dispatch(request, {
          ...hooks,
          onStart: (served) => {
            attempts = served.attempts;
            hooks.onStart?.(served);
          },
        });
        guard(() =>
          journal.end(request.id, { state: 'completed', attempts: outcome.servedBy.attempts }, false),
        );
        return outcome;
      } catch (err) {
        const state = hooks.signal.aborted ? 'cancelled' : 'failed';
        guard(() => journal.end(request.id, { state, attempts }, false));
        throw err;
      }
    },
  };
}
