// Global setup of the `real` test project: make sure llama.cpp's llama-server is built (once per
// machine, cached outside the checkout by scripts/build-llama-server.sh) before any real-server
// test starts, and hand its directory to the tests. A cold build takes 10-19 CPU-minutes; a
// missing toolchain fails the run with what to install, it never skips the tests.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const SCRIPT = fileURLToPath(new URL('../../scripts/build-llama-server.sh', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    /** The cache directory holding bin/llama-server. */
    llamaServerDir: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  project.provide('llamaServerDir', await buildLlamaServer());
}

// The script prints the directory on stdout; its progress (stderr) goes straight to ours.
function buildLlamaServer(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const dir = out.trim().split('\n').pop() ?? '';
      if (code === 0 && dir !== '') resolve(dir);
      else
        reject(
          new Error(
            `${SCRIPT} failed (${signal ?? `exit ${code}`}): llama-server is not built; see its message above`,
          ),
        );
    });
  });
}
