// Shared by config/ tests: a throw-away HOME for each test, and loadConfig reading from it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { loadConfig, type SwarmConfig } from '../../../src/config/load.js';

/** One test's HOME and the ways to load config from it. */
export interface ConfigHome {
  /** The current test's HOME (a fresh temp dir). */
  readonly home: string;
  /** loadConfig with HOME here, plus `env` and `argv`. */
  load(env?: Record<string, string>, argv?: string[]): SwarmConfig;
  /** Write `text` as a config file here and load it with `--config` (then `argv`). */
  loadFile(text: string, env?: Record<string, string>, argv?: string[]): SwarmConfig;
}

/** Make a HOME (named `prefix…`) before each test of the file and remove it after. */
export function useConfigHome(prefix: string): ConfigHome {
  let home = '';
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => {
    rmSync(home, { recursive: true, force: true });
  });
  const load = (env: Record<string, string> = {}, argv: string[] = []) =>
    loadConfig({ env: { HOME: home, ...env }, argv });
  return {
    get home() {
      return home;
    },
    load,
    loadFile(text, env = {}, argv = []) {
      const path = join(home, 'config.yaml');
      writeFileSync(path, text);
      return load(env, ['--config', path, ...argv]);
    },
  };
}
