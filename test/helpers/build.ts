// The built binaries (dist/) that tests of real processes run, rebuilt when the sources are
// newer: a stale dist/ would test yesterday's daemon and pass or fail for the wrong reason.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './wait.js';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built swarmd entry point. */
export const SWARMD = join(ROOT, 'dist/src/bin/swarmd.js');
/** The built swarmctl entry point. */
export const SWARMCTL = join(ROOT, 'dist/src/bin/swarmctl.js');

const LOCK = join(ROOT, 'dist', '.build-lock');
/** A lock older than this was left by a test process that died mid-build. */
const LOCK_STALE_MS = 5 * 60_000;
const LOCK_WAIT_MS = 10 * 60_000;

let building: Promise<void> | undefined;

/**
 * Run `npm run build` when any file under src/ or proto/ is newer than the built output (or
 * some output is missing). Once per test process (callers share one promise); test processes
 * running at the same time take turns on a lock, and whoever comes second finds dist/ fresh.
 */
export function ensureBuilt(): Promise<void> {
  building ??= buildIfStale();
  return building;
}

async function buildIfStale(): Promise<void> {
  if (!(await stale())) return;
  await withLock(async () => {
    if (!(await stale())) return;
    const output = await npmRunBuild();
    // tsc emits even when some file has a type error; what matters is that dist/ is current.
    if (await stale()) throw new Error(`npm run build left dist/ older than src/:\n${output}`);
  });
}

/** True when an output is missing or older than the newest file under src/ or proto/. */
async function stale(): Promise<boolean> {
  const sources = [...(await filesUnder('src')), ...(await filesUnder('proto'))];
  let newestSource = 0;
  let oldestOutput = Number.POSITIVE_INFINITY;
  for (const file of sources) {
    newestSource = Math.max(newestSource, (await stat(join(ROOT, file))).mtimeMs);
    if (!file.endsWith('.ts')) continue;
    const output = join(ROOT, 'dist', file.replace(/\.ts$/, '.js'));
    if (!existsSync(output)) return true;
    oldestOutput = Math.min(oldestOutput, (await stat(output)).mtimeMs);
  }
  return newestSource > oldestOutput;
}

/** Every file under `dir` (relative to the root). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(ROOT.length));
}

function npmRunBuild(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', (err) => reject(new Error(`npm run build could not start: ${err.message}`)));
    child.once('close', () => resolve(output));
  });
}

/** Run `work` holding dist/.build-lock (a directory: mkdir is atomic across processes). */
async function withLock(work: () => Promise<void>): Promise<void> {
  await mkdir(join(ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const since = await stat(LOCK).then(
        (info) => Date.now() - info.mtimeMs,
        () => 0,
      );
      if (since > LOCK_STALE_MS) await rmdir(LOCK).catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`${LOCK} still held after ${LOCK_WAIT_MS} ms`);
      await sleep(200);
    }
  }
  try {
    await work();
  } finally {
    await rmdir(LOCK).catch(() => undefined);
  }
}
