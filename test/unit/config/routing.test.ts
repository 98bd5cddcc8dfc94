import { describe, expect, it } from 'vitest';
import { convertOption } from '../../../src/config/options.js';
import { DEFAULT_ACTIONS } from '../../../src/config/schema.js';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import { thrown } from '../../helpers/expect-error.js';
import { useConfigHome } from './config-home.js';

const configHome = useConfigHome('swarmd-routing-config-');
const { loadFile } = configHome;
const loadError = (text: string, env: Record<string, string> = {}, argv: string[] = []) =>
  thrown(() => loadFile(text, env, argv), SwarmError);

describe('routing config', () => {
  it('defaults to lan privacy, empty tiers, fast → deep → cloud, 3 attempts, 30 s cooldown and every check on', () => {
    const { routing } = configHome.load();
    expect(routing).toMatchObject({
      defaultPrivacy: 'lan',
      aliases: {},
      tiers: { fast: [], deep: [], reviewer: [], cloud: [] },
      fallback: ['fast', 'deep', 'cloud'],
      maxAttempts: 3,
      cooldownAfter: 3,
      cooldown: 30_000,
      cooldownMax: 300_000,
      qualityGate: { enabled: true, json: true, empty: true, truncated: true, refusal: true },
    });
    expect(routing.actions).toEqual(DEFAULT_ACTIONS);
    expect(routing.keywords.complex).toContain('refactor');
    expect(routing.keywords.simple).toContain('summarize');
  });

  it('reads an alias with its models in order and its privacy', () => {
    const config = loadFile(
      'routing:\n  aliases:\n    coder:\n      models: [qwen2.5-coder:32b, qwen2.5-coder:7b]\n      privacy: local\n',
    );
    expect(config.routing.aliases).toEqual({
      coder: { models: ['qwen2.5-coder:32b', 'qwen2.5-coder:7b'], privacy: 'local' },
    });
  });

  it('refuses a bad tier name with CONFIG_INVALID naming the option', () => {
    const inFallback = loadError('routing:\n  fallback: [fast, medium]\n');
    expect(inFallback.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(inFallback.message).toContain('routing.fallback.1');
    expect(inFallback.message).toContain('expected a tier');
    const inTiers = loadError('routing:\n  tiers:\n    medium: [qwen3:8b]\n');
    expect(inTiers.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(inTiers.message).toContain('routing.tiers.medium');
  });

  it('refuses an alias named like a tier or auto, an alias with no model, and a bad privacy', () => {
    expect(loadError('routing:\n  aliases:\n    fast:\n      models: [a]\n').message).toContain(
      'routing.aliases.fast',
    );
    expect(loadError('routing:\n  aliases:\n    x:\n      models: []\n').message).toContain(
      'routing.aliases.x.models',
    );
    const privacy = loadError('routing:\n  defaultPrivacy: public\n');
    expect(privacy.message).toContain('routing.defaultPrivacy');
    expect(privacy.message).toContain('local, lan or cloud');
  });

  it('refuses a repeated fallback tier and a cooldown cap below the cooldown', () => {
    expect(loadError('routing:\n  fallback: [fast, fast]\n').message).toContain('routing.fallback');
    expect(loadError('routing:\n  cooldown: 1m\n  cooldownMax: 30s\n').message).toContain(
      'routing.cooldownMax',
    );
  });

  it('takes aliases as JSON and actions as key=value pairs from the environment and flags', () => {
    const config = loadFile('', {
      SWARMD_ROUTING__ALIASES: '{"coder":{"models":["qwen3:8b"]}}',
      SWARMD_ROUTING__ACTIONS: 'edit=complex, chat=simple',
      SWARMD_ROUTING__TIERS__FAST: 'qwen3:8b,llama3.2:3b',
    });
    expect(config.routing.aliases).toEqual({ coder: { models: ['qwen3:8b'] } });
    expect(config.routing.actions).toEqual({ edit: 'complex', chat: 'simple' });
    expect(config.routing.tiers.fast).toEqual(['qwen3:8b', 'llama3.2:3b']);
    const flagged = loadFile('', {}, [
      '--routing.fallback',
      'deep',
      '--routing.qualityGate.refusal',
      'false',
    ]);
    expect(flagged.routing.fallback).toEqual(['deep']);
    expect(flagged.routing.qualityGate.refusal).toBe(false);
  });

  it('says what is wrong with malformed JSON or pairs', () => {
    expect(() => convertOption('json', '{nope')).toThrow(/expected JSON/);
    expect(() => convertOption('map', 'edit')).toThrow(/key=value/);
    expect(loadError('', { SWARMD_ROUTING__ACTIONS: 'edit=hard' }).message).toContain('routing.actions.edit');
  });
});

describe('cloud config', () => {
  it('has no provider and no reference by default: fully offline', () => {
    expect(configHome.load().cloud).toEqual({ providers: [], reference: null });
  });

  it('fills base URL and key variable of a provider known by name', () => {
    const config = loadFile(
      'cloud:\n  providers:\n    - name: groq\n      models: [llama-3.3-70b-versatile]\n      prices:\n        llama-3.3-70b-versatile: { inputPerMTok: 0.59, outputPerMTok: 0.79 }\n',
    );
    expect(config.cloud.providers).toEqual([
      {
        name: 'groq',
        baseUrl: 'https://api.groq.com/openai/v1',
        apiKeyEnv: 'GROQ_API_KEY',
        models: ['llama-3.3-70b-versatile'],
        prices: { 'llama-3.3-70b-versatile': { inputPerMTok: 0.59, outputPerMTok: 0.79 } },
      },
    ]);
  });

  it('takes any OpenAI-compatible provider with its own base URL, trailing slash dropped', () => {
    const config = loadFile(
      'cloud:\n  providers:\n    - name: together\n      baseUrl: https://api.together.xyz/v1/\n      apiKeyEnv: TOGETHER_API_KEY\n      models: [m]\n',
    );
    expect(config.cloud.providers[0]).toMatchObject({ baseUrl: 'https://api.together.xyz/v1', prices: {} });
  });

  it('asks for a base URL for a provider it does not know, naming the option', () => {
    const err = loadError('cloud:\n  providers:\n    - name: acme\n      models: [m]\n');
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain('cloud.providers.0.baseUrl');
  });

  it('refuses two providers with one name, and a key written in place of its variable name', () => {
    const twice = loadError(
      'cloud:\n  providers:\n    - { name: openai, models: [a] }\n    - { name: openai, models: [b] }\n',
    );
    expect(twice.message).toContain('cloud.providers.1.name');
    const key = loadError(
      'cloud:\n  providers:\n    - { name: openai, apiKeyEnv: "sk-abc-123", models: [a] }\n',
    );
    expect(key.message).toContain('cloud.providers.0.apiKeyEnv');
  });

  it('reads the reference model from the file or from the environment', () => {
    const fromFile = loadFile(
      'cloud:\n  reference: { model: gpt-4o, inputPerMTok: 2.5, outputPerMTok: 10 }\n',
    );
    expect(fromFile.cloud.reference).toEqual({ model: 'gpt-4o', inputPerMTok: 2.5, outputPerMTok: 10 });
    const fromEnv = loadFile('', {
      SWARMD_CLOUD__REFERENCE__MODEL: 'gpt-4o',
      SWARMD_CLOUD__REFERENCE__INPUT_PER_MTOK: '2.5',
      SWARMD_CLOUD__REFERENCE__OUTPUT_PER_MTOK: '10',
    });
    expect(fromEnv.cloud.reference).toEqual(fromFile.cloud.reference);
    const providers = loadFile('', {
      SWARMD_CLOUD__PROVIDERS: '[{"name":"openai","models":["gpt-4o-mini"]}]',
    });
    expect(providers.cloud.providers[0]).toMatchObject({ name: 'openai', apiKeyEnv: 'OPENAI_API_KEY' });
  });
});
