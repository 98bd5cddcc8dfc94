// Per-model concurrency on this node: how many requests each (backend, model) runs now,
// against its cap. The one place that admits work to a local backend, whoever asked
// (this node's gateway or a peer's RequestTask), so a backend never runs over its cap.

/** A held slot; call release() exactly once when the work ends. */
export interface Slot {
  release(): void;
}

/** Slot counts per backend and model. */
export class Slots {
  private readonly inflight = new Map<string, number>();
  private total = 0;
  private readonly listeners = new Set<() => void>();

  /** Take a slot if fewer than `cap` are in use; null when full. */
  tryAcquire(backendId: string, model: string, cap: number): Slot | null {
    const key = `${backendId}|${model}`;
    const used = this.inflight.get(key) ?? 0;
    if (used >= cap) return null;
    this.inflight.set(key, used + 1);
    this.total++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const now = (this.inflight.get(key) ?? 1) - 1;
        if (now === 0) this.inflight.delete(key);
        else this.inflight.set(key, now);
        this.total--;
        for (const listener of this.listeners) listener();
      },
    };
  }

  /** Requests running on one backend model now. */
  count(backendId: string, model: string): number {
    return this.inflight.get(`${backendId}|${model}`) ?? 0;
  }

  /** Requests running on this node now. */
  totalInflight(): number {
    return this.total;
  }

  /** Called whenever a slot frees (queued work may go now). */
  onRelease(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
