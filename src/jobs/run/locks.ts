// One job owns a file at a time, across every job on this node. A proposal whose files another
// job owns is refused back to the model; plan subtasks sharing a file are never started together.
import { resolve } from 'node:path';

/** File ownership, keyed by absolute path. */
export class FileLocks {
  private readonly owners = new Map<string, string>();

  /** Take every file for `owner`, or none: returns the first file another owner holds, or null on success. */
  tryAcquire(owner: string, repo: string, paths: readonly string[]): string | null {
    const keys = paths.map((path) => resolve(repo, path));
    for (const [index, key] of keys.entries()) {
      const holder = this.owners.get(key);
      if (holder !== undefined && holder !== owner) return `${paths[index]} (held by job ${holder})`;
    }
    for (const key of keys) this.owners.set(key, owner);
    return null;
  }

  /** Release every file `owner` holds (owner or any owner starting with `owner/`). */
  releaseAll(owner: string): void {
    for (const [key, holder] of this.owners) {
      if (holder === owner || holder.startsWith(`${owner}/`)) this.owners.delete(key);
    }
  }

  /** Who holds a file, or null. */
  holder(repo: string, path: string): string | null {
    return this.owners.get(resolve(repo, path)) ?? null;
  }
}
