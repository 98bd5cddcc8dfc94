// A peer's load as its last heartbeat told it is up to a heartbeat old; what this node sent it
// since is known here for sure. Counting each peer model as running at least this node's own
// attempts on it spreads a burst by free slots instead of piling it onto one peer to be refused.
import type { WirePeerView } from '../rpc/wire.js';

/** This node's attempts running on one model of one peer's backend. */
export type OwnAttempts = (nodeId: string, backendId: string, model: string) => number;

/**
 * Raise every peer model's `inflight` to at least this node's own attempts on it. Changes the
 * views in place (membership hands out fresh copies) and returns them.
 */
export function withOwnLoad(views: WirePeerView[], own: OwnAttempts): WirePeerView[] {
  for (const view of views) {
    if (view.self || !view.node) continue;
    for (const backend of view.node.backends)
      for (const model of backend.models) {
        const mine = own(view.node.id, backend.id, model.id);
        if (mine > model.inflight) model.inflight = mine;
      }
  }
  return views;
}
