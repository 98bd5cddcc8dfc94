// The README's shell blocks, run as a reader would: find a block by the text before it, run it
// with bash at the repository root, and keep everything it printed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRepoFile, repoPath } from '../unit/docs/markdown.js';
import { freePrefix, requireTestLan } from './testlan.js';

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

/** Where a README block runs: its own namespace prefix and LAN (never ns1..), and its own TMPDIR. */
export interface ReadmeRun {
  /** The namespace prefix the block's `ns` names are replaced with. */
  prefix: string;
  env: NodeJS.ProcessEnv;
  /** Remove the test LAN of `hosts` hosts (and what runs in it) and the temp dir. */
  cleanup(hosts: number): Promise<void>;
}

/** Set up a place for a README block that builds a test LAN; throws when no test LAN can be built. */
export function readmeRun(tmpPrefix: string): ReadmeRun {
  requireTestLan();
  const prefix = freePrefix();
  const tmp = mkdtempSync(join(tmpdir(), tmpPrefix));
  const env = {
    ...process.env,
    TMPDIR: tmp,
    PREFIX: prefix,
    BRNS: `${prefix}-br`,
    NET: `10.203.${200 + Math.floor(Math.random() * 50)}`,
  };
  return {
    prefix,
    env,
    async cleanup(hosts) {
      // down.sh ends what runs in the namespaces (by PID) and removes them.
      await runBash(`scripts/testlan/down.sh ${hosts} >/dev/null`, env);
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
