import { describe, expect, it } from 'vitest';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import type { Tier } from '../../../src/inference/types.js';
import {
  aliasPrivacy,
  modelCatalogue,
  type ResolveConfig,
  resolveModelName,
  servableNames,
  swarmChoosesModel,
} from '../../../src/scheduling/resolve.js';
import { thrown } from '../../helpers/expect-error.js';
import { backend, model, view } from './views.js';

const catalogue = {
  local: [
    'llama3.2:3b',
    'nomic-embed-text:latest',
    'qwen2.5-coder:32b',
    'qwen3:32b',
    'qwen3:8b',
    'mistral:latest',
  ],
  cloud: ['gpt-4o-mini'],
};
const config = (over: Partial<ResolveConfig> = {}): ResolveConfig => ({
  aliases: {
    coder: { models: ['qwen2.5-coder:32b', 'qwen3:8b'], privacy: 'local' },
    'gpt-4o': { models: ['qwen3:32b'] },
  },
  tiers: { fast: ['qwen3:8b', 'llama3.2:3b'], deep: ['qwen3:32b'], reviewer: [], cloud: [] },
  fallback: ['fast', 'deep', 'cloud'],
  ...over,
});
const tiersOf = (chain: { tier: Tier | null }[]) => chain.map((step) => step.tier);

describe('resolveModelName', () => {
  it('resolves a concrete model to itself alone: no other model stands in for it', () => {
    const result = resolveModelName('qwen3:8b', catalogue, config());
    expect(result.kind).toBe('model');
    expect(result.chain).toEqual([{ tier: 'fast', models: ['qwen3:8b'], ordered: true }]);
    expect(resolveModelName('llama3.2:3b', catalogue, config()).chain).toEqual([
      { tier: 'fast', models: ['llama3.2:3b'], ordered: true },
    ]);
    expect(tiersOf(resolveModelName('mistral:latest', catalogue, config()).chain)).toEqual([null]);
  });

  it('lets config opt a model name into stand-ins with an alias of that name, fallback included', () => {
    const aliases = { 'llama3.2:3b': { models: ['llama3.2:3b', 'qwen3:8b'] } };
    const result = resolveModelName('llama3.2:3b', catalogue, config({ aliases }));
    expect(result.kind).toBe('alias');
    expect(tiersOf(result.chain)).toEqual([null, 'fast', 'deep', 'cloud']);
  });

  it('tries the whole fallback after an alias', () => {
    const result = resolveModelName('gpt-4o', catalogue, config());
    expect(tiersOf(result.chain)).toEqual([null, 'fast', 'deep', 'cloud']);
  });

  it("finds Ollama's implicit :latest tag", () => {
    expect(resolveModelName('mistral', catalogue, config()).chain[0]!.models).toEqual(['mistral:latest']);
  });

  it('resolves a cloud provider model id', () => {
    expect(resolveModelName('gpt-4o-mini', catalogue, config()).chain[0]!.models).toEqual(['gpt-4o-mini']);
  });

  it('resolves an alias to its models in preference order, with its privacy', () => {
    const result = resolveModelName('coder', catalogue, config());
    expect(result).toMatchObject({ kind: 'alias', privacy: 'local' });
    expect(result.chain[0]).toEqual({ tier: null, models: ['qwen2.5-coder:32b', 'qwen3:8b'], ordered: true });
    expect(aliasPrivacy('coder', config())).toBe('local');
    expect(aliasPrivacy('qwen3:8b', config())).toBeNull();
    expect(aliasPrivacy('toString', config())).toBeNull();
  });

  it('lets an alias shadow a model of the same name', () => {
    const result = resolveModelName('gpt-4o', { ...catalogue, cloud: ['gpt-4o'] }, config());
    expect(result.kind).toBe('alias');
    expect(result.chain[0]!.models).toEqual(['qwen3:32b']);
  });

  it('resolves a tier to its configured models and the tiers after it', () => {
    const result = resolveModelName('fast', catalogue, config());
    expect(result.kind).toBe('tier');
    expect(result.chain.map((s) => [s.tier, s.models])).toEqual([
      ['fast', ['qwen3:8b', 'llama3.2:3b']],
      ['deep', ['qwen3:32b']],
      ['cloud', ['gpt-4o-mini']],
    ]);
  });

  it('lets an unconfigured tier stand for every generative model, equally preferred', () => {
    const result = resolveModelName('reviewer', catalogue, config());
    expect(result.chain[0]).toEqual({
      tier: 'reviewer',
      models: ['llama3.2:3b', 'qwen2.5-coder:32b', 'qwen3:32b', 'qwen3:8b', 'mistral:latest'],
      ordered: false,
    });
    // reviewer is not in the fallback list: the whole list follows.
    expect(tiersOf(result.chain)).toEqual(['reviewer', 'fast', 'deep', 'cloud']);
  });

  it('resolves auto to the tiers it is given, then the rest of the fallback', () => {
    expect(tiersOf(resolveModelName('auto', catalogue, config(), ['fast', 'deep']).chain)).toEqual([
      'fast',
      'deep',
      'cloud',
    ]);
    expect(tiersOf(resolveModelName('auto', catalogue, config(), ['deep']).chain)).toEqual(['deep', 'cloud']);
    expect(resolveModelName('auto', catalogue, config()).kind).toBe('auto');
  });

  it('follows the configured fallback order', () => {
    const chain = resolveModelName('fast', catalogue, config({ fallback: ['fast', 'deep'] })).chain;
    expect(tiersOf(chain)).toEqual(['fast', 'deep']);
  });

  it('answers MODEL_NOT_FOUND for an unknown name, listing names that exist', () => {
    const err = thrown(() => resolveModelName('gpt-5-ultra', catalogue, config()), SwarmError);
    expect(err.code).toBe(ErrorCodes.MODEL_NOT_FOUND);
    expect(err.message).toContain('gpt-5-ultra');
    expect(err.message).toContain('coder');
    expect(err.message).toContain('qwen3:8b');
  });
});

describe('modelCatalogue', () => {
  it('lists models of healthy backends on every known compatible node, dead and left ones too, and cloud models', () => {
    const views = [
      view('a', [backend([model('qwen3:8b')])], { self: true }),
      view('b', [backend([model('qwen3:32b')])], { view: { state: 'suspect' } }),
      view('c', [backend([model('dead-only')])], { view: { state: 'dead' } }),
      view('d', [backend([model('sick-only')], { healthy: false })]),
      view('e', [backend([model('left-only')])], { view: { state: 'left' } }),
      view('f', [backend([model('old-only')])], { view: { compatible: false } }),
    ];
    expect(modelCatalogue(views, [{ models: ['gpt-4o-mini'] }])).toEqual({
      local: ['dead-only', 'left-only', 'qwen3:32b', 'qwen3:8b'],
      cloud: ['gpt-4o-mini'],
    });
  });
});

describe('swarmChoosesModel', () => {
  it('is true for auto, tiers, aliases and no name; false for a concrete model id', () => {
    for (const name of ['auto', 'fast', 'deep', 'cloud', 'coder', 'gpt-4o', '', undefined]) {
      expect(swarmChoosesModel(name, config()), String(name)).toBe(true);
    }
    for (const name of ['llama3.2:3b', 'qwen3:8b', 'mistral', 'gpt-4o-mini']) {
      expect(swarmChoosesModel(name, config()), name).toBe(false);
    }
  });
});

describe('servableNames', () => {
  it('lists only aliases and tiers some present model can serve', () => {
    const aliases = { coder: { models: ['qwen3:8b'] }, gone: { models: ['nowhere:1b'] } };
    const tiers = { fast: ['qwen3:8b'], deep: ['nowhere:70b'], reviewer: [], cloud: [] };
    const local = { local: ['qwen3:8b'], cloud: [] };
    expect(servableNames(local, config({ aliases, tiers }))).toEqual({
      aliases: ['coder'],
      tiers: ['fast', 'reviewer'],
    });
    // A cloud provider's models make `cloud` servable; nothing at all makes nothing servable.
    expect(servableNames({ ...local, cloud: ['gpt-4o-mini'] }, config({ aliases, tiers })).tiers).toContain(
      'cloud',
    );
    expect(servableNames({ local: [], cloud: [] }, config({ aliases, tiers }))).toEqual({
      aliases: [],
      tiers: [],
    });
  });
});
