import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envNameFor } from '../../../src/config/options.js';
import { DEFAULT_SANDBOX_READ_ONLY } from '../../../src/config/schema.js';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { thrown } from '../../helpers/expect-error.js';
import { useConfigHome } from './config-home.js';

const configHome = useConfigHome('swarmd-load-');
const { load } = configHome;
/** The SwarmError loading throws; fails the test when nothing or something else is thrown. */
const loadError = (env: Record<string, string> = {}, argv: string[] = []) =>
  thrown(() => load(env, argv), SwarmError);

/** Write the config file where loadConfig looks by default ($HOME/.config/swarmd/config.yaml). */
function writeDefaultFile(text: string): string {
  const dir = join(configHome.home, '.config', 'swarmd');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'config.yaml');
  writeFileSync(path, text);
  return path;
}

describe('loadConfig defaults', () => {
  it('fills every default when there is no file, environment or flag', () => {
    const config = load();
    expect(config.version).toBe(1);
    expect(config.configPath).toBeNull();
    expect(config.node.name).toBe(hostname());
    expect(config.node.dataDir).toBe(join(configHome.home, '.local', 'state', 'swarmd'));
    expect(config.control.socket).toBe(join(configHome.home, '.local', 'state', 'swarmd', 'control.sock'));
    expect(config.peer).toMatchObject({ host: '0.0.0.0', port: 8766, advertise: [] });
    expect(config.gateway).toEqual({ host: '127.0.0.1', port: 8765, apiKeys: [] });
    expect(config.discovery.mdns.enabled).toBe(true);
    expect(config.discovery.peers).toEqual([]);
    expect(config.membership).toMatchObject({ heartbeatInterval: 1000, suspectAfter: 1500, deadAfter: 3000 });
    expect(config.backends.servers).toEqual([]);
    expect(config.log.level).toBe('info');
  });

  it('honours XDG_STATE_HOME for the data dir and puts the socket in it', () => {
    const state = join(configHome.home, 'state');
    const config = load({ XDG_STATE_HOME: state });
    expect(config.node.dataDir).toBe(join(state, 'swarmd'));
    expect(config.control.socket).toBe(join(state, 'swarmd', 'control.sock'));
  });

  it('moves the socket along with a configured data dir', () => {
    const config = load({ SWARMD_NODE__DATA_DIR: '/srv/swarmd' });
    expect(config.node.dataDir).toBe('/srv/swarmd');
    expect(config.control.socket).toBe('/srv/swarmd/control.sock');
  });

  it('returns a deeply frozen config', () => {
    const config = load();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.gateway)).toBe(true);
    expect(Object.isFrozen(config.discovery.mdns)).toBe(true);
    expect(Object.isFrozen(config.discovery.peers)).toBe(true);
    expect(() => {
      (config.gateway as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});

describe('config sources', () => {
  it('reads the file at $HOME/.config/swarmd/config.yaml and reports its path', () => {
    const path = writeDefaultFile('gateway:\n  port: 9001\n');
    const config = load();
    expect(config.gateway.port).toBe(9001);
    expect(config.configPath).toBe(path);
  });

  it('honours XDG_CONFIG_HOME and SWARMD_CONFIG', () => {
    const xdg = join(configHome.home, 'xdg');
    mkdirSync(join(xdg, 'swarmd'), { recursive: true });
    writeFileSync(join(xdg, 'swarmd', 'config.yaml'), 'gateway:\n  port: 9011\n');
    expect(load({ XDG_CONFIG_HOME: xdg }).gateway.port).toBe(9011);

    const other = join(configHome.home, 'other.yaml');
    writeFileSync(other, 'gateway:\n  port: 9012\n');
    expect(load({ SWARMD_CONFIG: other }).gateway.port).toBe(9012);
    expect(load({ SWARMD_CONFIG: other }).configPath).toBe(other);
  });

  it('applies file, then environment, then flags', () => {
    writeDefaultFile('gateway:\n  port: 9001\nlog:\n  level: warn\n');
    expect(load().gateway.port).toBe(9001);
    expect(load({ SWARMD_GATEWAY__PORT: '9002' }).gateway.port).toBe(9002);
    const all = load({ SWARMD_GATEWAY__PORT: '9002' }, ['--gateway.port', '9003']);
    expect(all.gateway.port).toBe(9003);
    // Options a later source does not name keep the earlier value.
    expect(all.log.level).toBe('warn');
  });

  it('reads --config from the flags before anything else', () => {
    const path = join(configHome.home, 'elsewhere.yaml');
    writeFileSync(path, 'peer:\n  port: 7000\n');
    expect(load({}, ['--config', path]).peer.port).toBe(7000);
    expect(load({}, [`--config=${path}`]).peer.port).toBe(7000);
  });

  it('treats a section whose options are all commented out as unset', () => {
    writeDefaultFile('node:\n  # name: my-box\ncontrol:\ngateway:\n  port: 9005\n');
    const config = load();
    expect(config.node.name).toBe(hostname());
    expect(config.gateway.port).toBe(9005);
  });
});

describe('environment variables', () => {
  it('names options SWARMD_ + upper snake case with __ between levels', () => {
    expect(envNameFor('gateway.port')).toBe('SWARMD_GATEWAY__PORT');
    expect(envNameFor('membership.suspectAfter')).toBe('SWARMD_MEMBERSHIP__SUSPECT_AFTER');
    expect(envNameFor('discovery.mdns.includeVirtualInterfaces')).toBe(
      'SWARMD_DISCOVERY__MDNS__INCLUDE_VIRTUAL_INTERFACES',
    );
  });

  it('sets nested options', () => {
    const config = load({
      SWARMD_GATEWAY__PORT: '9100',
      SWARMD_MEMBERSHIP__SUSPECT_AFTER: '2s',
      SWARMD_DISCOVERY__MDNS__INCLUDE_VIRTUAL_INTERFACES: 'yes',
      SWARMD_NODE__NAME: 'gpu-box',
    });
    expect(config.gateway.port).toBe(9100);
    expect(config.membership.suspectAfter).toBe(2000);
    expect(config.discovery.mdns.includeVirtualInterfaces).toBe(true);
    expect(config.node.name).toBe('gpu-box');
  });

  it('splits lists on commas', () => {
    const config = load({
      SWARMD_DISCOVERY__PEERS: '10.0.0.1:8766, 10.0.0.2:8766,',
      SWARMD_BACKENDS__SERVERS: 'http://127.0.0.1:11434,http://10.0.0.3:8000',
    });
    expect(config.discovery.peers).toEqual(['10.0.0.1:8766', '10.0.0.2:8766']);
    expect(config.backends.servers.map((s) => [s.url, s.kind])).toEqual([
      ['http://127.0.0.1:11434', 'auto'],
      ['http://10.0.0.3:8000', 'auto'],
    ]);
  });

  it('ignores empty variables', () => {
    expect(load({ SWARMD_GATEWAY__PORT: '' }).gateway.port).toBe(8765);
  });
});

describe('flags', () => {
  it('collects repeated --peer flags into one list', () => {
    const config = load({ SWARMD_DISCOVERY__PEERS: '10.9.9.9:1' }, [
      '--peer',
      '10.0.0.1:8766',
      '--peer=10.0.0.2:8766',
      '--peer',
      '[fe80::1]:8766',
    ]);
    expect(config.discovery.peers).toEqual(['10.0.0.1:8766', '10.0.0.2:8766', '[fe80::1]:8766']);
  });

  it('turns mDNS off with --no-mdns and other bools with --no-<option>', () => {
    const config = load({}, ['--no-mdns', '--no-backends.autoDetect']);
    expect(config.discovery.mdns.enabled).toBe(false);
    expect(config.backends.autoDetect).toBe(false);
  });

  it('takes a bare bool flag as true and short aliases', () => {
    const config = load({}, [
      '--discovery.mdns.includeVirtualInterfaces',
      '--name',
      'laptop',
      '--data-dir',
      '/tmp/x',
      '--port=7001',
      '--log-level',
      'debug',
    ]);
    expect(config.discovery.mdns.includeVirtualInterfaces).toBe(true);
    expect(config.node.name).toBe('laptop');
    expect(config.node.dataDir).toBe('/tmp/x');
    expect(config.peer.port).toBe(7001);
    expect(config.log.level).toBe('debug');
  });
});

describe('durations', () => {
  it('reads 500ms, 30s and 2m from the file, environment and flags', () => {
    writeDefaultFile('membership:\n  heartbeatInterval: 500ms\n');
    const config = load({ SWARMD_MEMBERSHIP__SUSPECT_AFTER: '30s' }, ['--membership.deadAfter', '2m']);
    expect(config.membership.heartbeatInterval).toBe(500);
    expect(config.membership.suspectAfter).toBe(30_000);
    expect(config.membership.deadAfter).toBe(120_000);
  });

  it('reads a bare number in the file as milliseconds', () => {
    writeDefaultFile('backends:\n  probeTimeout: 750\n');
    expect(load().backends.probeTimeout).toBe(750);
  });
});

describe('bad values', () => {
  it('rejects a port out of range, naming the option', () => {
    const err = loadError({}, ['--gateway.port', '70000']);
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain('gateway.port');

    writeDefaultFile('peer:\n  port: 70000\n');
    const fromFile = loadError();
    expect(fromFile.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(fromFile.message).toContain('peer.port');
  });

  it('rejects a port that is not a number', () => {
    const err = loadError({ SWARMD_GATEWAY__PORT: 'eighty' });
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain('gateway.port');
  });

  it('rejects a duration it cannot read', () => {
    const err = loadError({ SWARMD_MEMBERSHIP__DEAD_AFTER: '5 parsecs' });
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain('membership.deadAfter');
  });

  it('rejects an unknown key in the file (a typo)', () => {
    writeDefaultFile('gateway:\n  prot: 9000\n');
    const nested = loadError();
    expect(nested.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(nested.message).toContain('gateway.prot');

    writeDefaultFile('gatway:\n  port: 9000\n');
    const top = loadError();
    expect(top.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(top.message).toContain('gatway');
  });

  it('rejects an unknown flag and a stray argument', () => {
    const err = loadError({}, ['--gateway-prot', '9000']);
    expect(err.code).toBe(ErrorCodes.ARGS_INVALID);
    expect(err.message).toContain('--gateway-prot');
    expect(loadError({}, ['serve']).code).toBe(ErrorCodes.ARGS_INVALID);
    expect(loadError({}, ['--gateway.port']).code).toBe(ErrorCodes.ARGS_INVALID);
  });

  it('rejects a file that is not valid YAML', () => {
    const path = writeDefaultFile('gateway:\n  port: [9000\n');
    const err = loadError();
    expect(err.code).toBe(ErrorCodes.CONFIG_PARSE);
    expect(err.message).toContain(path);
  });

  it('rejects a file that is not a mapping', () => {
    writeDefaultFile('- just\n- a list\n');
    expect(loadError().code).toBe(ErrorCodes.CONFIG_PARSE);
  });

  it('rejects a file written by a newer release', () => {
    writeDefaultFile('version: 2\n');
    const err = loadError();
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain('version');
  });

  it('rejects deadAfter not longer than suspectAfter', () => {
    const equal = loadError({ SWARMD_MEMBERSHIP__SUSPECT_AFTER: '2s', SWARMD_MEMBERSHIP__DEAD_AFTER: '2s' });
    expect(equal.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(equal.message).toContain('membership.deadAfter');

    writeDefaultFile('membership:\n  deadAfter: 1s\n');
    const shorter = loadError();
    expect(shorter.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(shorter.message).toContain('membership.deadAfter');
  });

  it('rejects a bool that is neither true nor false', () => {
    const fromEnv = loadError({ SWARMD_DISCOVERY__MDNS__ENABLED: 'maybe' });
    expect(fromEnv.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(fromEnv.message).toContain('discovery.mdns.enabled');

    const fromFlag = loadError({}, ['--backends.autoDetect', 'maybe']);
    expect(fromFlag.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(fromFlag.message).toContain('backends.autoDetect');

    writeDefaultFile('discovery:\n  mdns:\n    enabled: maybe\n');
    const fromFile = loadError();
    expect(fromFile.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(fromFile.message).toContain('discovery.mdns.enabled');
  });

  it('rejects a peer that is not host:port', () => {
    const err = loadError({}, ['--peer', 'no-port-here']);
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain('discovery.peers');
  });

  it('fails when an explicitly named config file is missing', () => {
    const missing = join(configHome.home, 'nope.yaml');
    const fromFlag = loadError({}, ['--config', missing]);
    expect(fromFlag.code).toBe(ErrorCodes.CONFIG_UNREADABLE);
    expect(fromFlag.message).toContain(missing);
    expect(loadError({ SWARMD_CONFIG: missing }).code).toBe(ErrorCodes.CONFIG_UNREADABLE);
  });
});

describe('gateway exposure', () => {
  it('refuses to listen beyond loopback without an API key, naming gateway.host', () => {
    const error = loadError({ SWARMD_GATEWAY__HOST: '0.0.0.0' });
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(error.message).toContain('gateway.host');
    expect(error.message).toContain('gateway.apiKeys');
  });

  it('allows the LAN with a key, and loopback addresses without one', () => {
    const key = 'sk-local-0123456789abcdef';
    expect(load({ SWARMD_GATEWAY__HOST: '0.0.0.0', SWARMD_GATEWAY__API_KEYS: key }).gateway.apiKeys).toEqual([
      { key, privacy: null },
    ]);
    expect(load({ SWARMD_GATEWAY__HOST: '127.0.0.2' }).gateway.host).toBe('127.0.0.2');
    expect(load({}, ['--gateway.host', '::1']).gateway.host).toBe('::1');
  });

  it('gives a key a privacy level when written as {key, privacy}', () => {
    writeDefaultFile(
      'version: 1\ngateway:\n  apiKeys:\n    - sk-plain-0123456789abcdef\n    - { key: sk-local-0123456789abcdef, privacy: local }\n',
    );
    expect(load().gateway.apiKeys).toEqual([
      { key: 'sk-plain-0123456789abcdef', privacy: null },
      { key: 'sk-local-0123456789abcdef', privacy: 'local' },
    ]);
    writeDefaultFile(
      'version: 1\ngateway:\n  apiKeys:\n    - { key: sk-local-0123456789abcdef, privacy: everywhere }\n',
    );
    expect(loadError().message).toContain('gateway.apiKeys');
  });

  it('refuses keys too short to be secret', () => {
    const error = loadError({ SWARMD_GATEWAY__API_KEYS: 'short' });
    expect(error.message).toContain('gateway.apiKeys');
  });
});

describe('jobs.sandbox', () => {
  it('defaults to auto with the toolchain caches read-only', () => {
    expect(load().jobs.sandbox).toEqual({ mode: 'auto', readOnly: [...DEFAULT_SANDBOX_READ_ONLY] });
    expect(DEFAULT_SANDBOX_READ_ONLY).toContain('~/.cargo');
  });

  it('still takes the word it was (jobs.sandbox: off) from the file, a flag and the environment', () => {
    writeDefaultFile('jobs:\n  sandbox: off\n');
    expect(load().jobs.sandbox.mode).toBe('off');
    // A readOnly from elsewhere adds to the word's mode instead of replacing it.
    expect(load({ SWARMD_JOBS__SANDBOX__READ_ONLY: '/opt/sdk' }).jobs.sandbox).toEqual({
      mode: 'off',
      readOnly: ['/opt/sdk'],
    });
    rmSync(join(configHome.home, '.config'), { recursive: true });
    expect(load({}, ['--jobs.sandbox', 'off']).jobs.sandbox.mode).toBe('off');
    expect(load({ SWARMD_JOBS__SANDBOX: 'off' }).jobs.sandbox.mode).toBe('off');
    expect(load({ SWARMD_JOBS__SANDBOX__MODE: 'off' }).jobs.sandbox.mode).toBe('off');
  });

  it('takes the mapping {mode, readOnly}', () => {
    writeDefaultFile('jobs:\n  sandbox:\n    readOnly: [~/.cargo, /opt/toolchains]\n');
    expect(load().jobs.sandbox).toEqual({ mode: 'auto', readOnly: ['~/.cargo', '/opt/toolchains'] });
  });

  it('refuses another word, and a read-only path that is relative, saying what is allowed', () => {
    writeDefaultFile('jobs:\n  sandbox: unshare\n');
    const word = loadError();
    expect(word.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(word.message).toContain('jobs.sandbox.mode: got "unshare"');
    expect(word.message).toContain('expected auto');
    writeDefaultFile('jobs:\n  sandbox: { readOnly: [.cargo] }\n');
    expect(loadError().message).toContain('jobs.sandbox.readOnly.0: got a list');
    expect(loadError().message).toContain('expected an absolute path or one starting with ~/');
  });
});
