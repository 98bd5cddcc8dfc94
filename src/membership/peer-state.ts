// The pure state machine of one peer's liveness, as this node sees it. No I/O, no timers:
// callers pass the monotonic time in, so every transition is unit-tested without sockets.

export type Liveness = 'alive' | 'suspect' | 'dead' | 'left';

/** Failure-detector timings, in ms (from config `membership`). */
export interface LivenessTimings {
  suspectAfterMs: number;
  deadAfterMs: number;
}

/** What this node tracks about one peer's liveness. */
export interface LivenessState {
  liveness: Liveness;
  /** Incarnation of the peer process we believe in (its start time, ms epoch). */
  incarnation: number;
  /** Monotonic ms of the last proof of life (an inbound heartbeat or an answered outbound one). */
  lastHeardMono: number;
  /** Wall ms of the last liveness change, shown to people as `stateSince`. */
  stateSinceWall: number;
}

/** Result of hearing from a peer: the new state and what kind of event it was. */
export interface HeardResult {
  state: LivenessState;
  /** 'stale': a message from an older incarnation than the one we know (ignored). */
  event: 'alive' | 'revived' | 'restarted' | 'stale' | 'ignored-left';
}

/** A newly met peer, alive now. */
export function initialLiveness(incarnation: number, nowMono: number, nowWall: number): LivenessState {
  return { liveness: 'alive', incarnation, lastHeardMono: nowMono, stateSinceWall: nowWall };
}

/**
 * The peer proved it is alive with the given incarnation. A higher incarnation is a
 * restart (alive at once, whatever we thought); a lower one is a stale message from a
 * previous life, ignored. A peer that left stays left until a new incarnation shows up.
 */
export function onHeard(
  state: LivenessState,
  incarnation: number,
  nowMono: number,
  nowWall: number,
): HeardResult {
  if (incarnation < state.incarnation) return { state, event: 'stale' };
  if (incarnation > state.incarnation) {
    return { state: initialLiveness(incarnation, nowMono, nowWall), event: 'restarted' };
  }
  if (state.liveness === 'left') return { state, event: 'ignored-left' };
  if (state.liveness === 'alive') return { state: { ...state, lastHeardMono: nowMono }, event: 'alive' };
  return {
    state: { ...state, liveness: 'alive', lastHeardMono: nowMono, stateSinceWall: nowWall },
    event: 'revived',
  };
}

/** The peer said it is leaving (clean shutdown). Ignored when it is from an older incarnation. */
export function onLeft(state: LivenessState, incarnation: number, nowWall: number): LivenessState {
  if (incarnation < state.incarnation || state.liveness === 'left') return state;
  return { ...state, incarnation, liveness: 'left', stateSinceWall: nowWall };
}

/**
 * Apply the failure detector: silence longer than suspectAfter makes a peer suspect,
 * longer than deadAfter dead. `slack` stretches both deadlines: a node that notices its
 * own event loop was starved grants peers extra time (Lifeguard's idea) instead of
 * blaming them for messages it has not processed yet.
 */
export function applySilence(
  state: LivenessState,
  timings: LivenessTimings,
  nowMono: number,
  nowWall: number,
  slackMs = 0,
): LivenessState {
  if (state.liveness === 'left' || state.liveness === 'dead') return state;
  const silence = nowMono - state.lastHeardMono;
  if (silence > timings.deadAfterMs + slackMs) return { ...state, liveness: 'dead', stateSinceWall: nowWall };
  if (silence > timings.suspectAfterMs + slackMs && state.liveness === 'alive') {
    return { ...state, liveness: 'suspect', stateSinceWall: nowWall };
  }
  return state;
}

/** True when a dead or left peer has been gone long enough to drop from the table. */
export function shouldForget(state: LivenessState, forgetAfterMs: number, nowMono: number): boolean {
  return (
    (state.liveness === 'dead' || state.liveness === 'left') && nowMono - state.lastHeardMono > forgetAfterMs
  );
}
