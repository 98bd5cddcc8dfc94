// The README's shell blocks, run as a reader would: find a block by the text before it, run it
// with bash at the repository root, and keep everything it printed.
import { spawn } from 'node:child_process';
import { readRepoFile, repoPath } from '../unit/docs/markdown.js';

/** The first ```sh block after `marker` in the README; throws when there is none. */
export function readmeShellBlock(marker: string): string {
  const readme = readRepoFile('README.md');
  const at = readme.indexOf(marker);
  if (at === -1) throw new Error(`README has no ${JSON.stringify(marker)}`);
  const open = readme.indexOf('```sh\n', at);
  if (open === -1) throw new Error(`README has no sh block after ${JSON.stringify(marker)}`);
  const close = readme.indexOf('\n```', open + 6);
  return readme.slice(open + 6, close);
}

/** Run a bash script (`bash -u`) at the repository root; its exit code and stdout + stderr. */
export function runBash(
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-u', '-c', script], { cwd: repoPath(''), env, stdio: 'pipe' });
    let out = '';
    const keep = (chunk: Buffer) => {
      out += chunk.toString();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out }));
  });
}
