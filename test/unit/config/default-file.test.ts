import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultConfigYaml } from '../../../src/config/default-file.js';
import { envNameFor, OPTION_TYPES } from '../../../src/config/options.js';
import { useConfigHome } from './config-home.js';

const configHome = useConfigHome('swarmd-default-file-');

function loadFile(text: string) {
  const { configPath, ...config } = configHome.loadFile(text);
  expect(configPath).toBe(join(configHome.home, 'config.yaml'));
  return config;
}

/** The file with every commented-out option (`# key: value` and its block) switched on. */
function uncommentOptions(text: string): string {
  return text.replace(/^(\s*)# (?=[a-z][A-Za-z0-9]*:|\s)/gm, '$1');
}

function valueAt(root: unknown, path: string): unknown {
  let node = root;
  for (const part of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

describe('defaultConfigYaml', () => {
  it('starts with version: 1 and is valid YAML', () => {
    const text = defaultConfigYaml();
    expect(text.startsWith('version: 1')).toBe(true);
    expect(parse(text)).toMatchObject({ version: 1 });
  });

  it('loads to exactly the config used when there is no file', () => {
    const fromFile = loadFile(defaultConfigYaml());
    const { configPath, ...withoutFile } = configHome.load();
    expect(configPath).toBeNull();
    expect(fromFile).toEqual(withoutFile);
  });

  it('names every option and its environment variable', () => {
    const text = defaultConfigYaml();
    const everything = parse(uncommentOptions(text));
    for (const path of Object.keys(OPTION_TYPES)) {
      expect(text, path).toContain(envNameFor(path));
      expect(valueAt(everything, path), path).toBeDefined();
    }
  });

  it('gives commented-out options example values that load', () => {
    const config = loadFile(uncommentOptions(defaultConfigYaml()));
    expect(config.node.name).toBe('my-box');
    expect(config.backends.servers).toHaveLength(1);
  });

  it('comments every option on the line above it', () => {
    const lines = defaultConfigYaml().split('\n');
    for (const path of Object.keys(OPTION_TYPES)) {
      const key = path.split('.').pop()!;
      const at = lines.findIndex((line) => line.endsWith(`Env: ${envNameFor(path)}`));
      expect(at, path).toBeGreaterThan(0);
      expect(lines[at + 1], path).toMatch(new RegExp(`^\\s*(# )?${key}:`));
    }
  });
});
