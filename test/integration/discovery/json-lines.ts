// Collects the JSON lines a child process prints and waits for the ones a test expects.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One parsed line; fixtures always print an `event` and a wall-clock `t`. */
export type Line = Record<string, unknown> & { event: string; t: number };

/** The JSON lines of one child's stdout, plus its stderr text for failure messages. */
export class JsonLines {
  readonly lines: Line[] = [];
  stderr = '';
  private waiters: { match: (line: Line) => boolean; resolve: (line: Line) => void }[] = [];

  constructor(
    readonly name: string,
    child: ChildProcessWithoutNullStreams,
  ) {
    createInterface({ input: child.stdout }).on('line', (text) => {
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        return;
      }
      this.lines.push(line);
      for (const waiter of [...this.waiters]) {
        if (waiter.match(line)) {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          waiter.resolve(line);
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
  }

  /** The first line (already printed or still to come) that matches, within timeoutMs. */
  waitFor(match: (line: Line) => boolean, timeoutMs: number, what: string): Promise<Line> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `${this.name}: no ${what} within ${timeoutMs} ms; lines: ${JSON.stringify(this.lines)}; ` +
              `stderr: ${this.stderr.slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      const done = (line: Line): void => {
        clearTimeout(timer);
        resolve(line);
      };
      this.waiters.push({ match, resolve: done });
    });
  }
}
