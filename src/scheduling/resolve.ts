// What the `model` a client sends stands for: an ordered chain of steps, each a tier (or
// none) and the concrete models to try in it, with the configured fallback tiers appended.
// Pure.
//
// Names are read in this order: `auto`; a tier (fast, deep, reviewer, cloud); an alias from
// `routing.aliases` (so an alias may shadow a real model, e.g. `gpt-4o` → a local model for
// apps that hard-code it); a concrete model id as some backend or cloud provider reports it;
// finally `<name>:latest` when only that exists (Ollama's implicit tag).
//
// A tier with no models configured stands for every model the swarm has (every cloud model
// for `cloud`), embedding and reranking models excepted; they are then equally preferred and
// the score alone orders them. Fallback: the tiers of `routing.fallback` that come after the
// last tier of the chain, or all of them when the chain's tier is not in that list or it has
// none (an alias). A concrete model id has no fallback: that model serves it, on any node that
// has it, or its own error is the answer. Config opts a model name into stand-ins with an alias
// of the same name (an alias shadows a model).
import { ErrorCodes, SwarmError } from '../errors.js';
import { type Privacy, TIERS, type Tier } from '../inference/types.js';
import type { WirePeerView } from '../rpc/wire.js';

/** One step of a chain: the models to try, all from one tier (or none for a model or alias). */
export interface ChainStep {
  tier: Tier | null;
  models: string[];
  /** True when `models` is a preference order; false when any is as good as another. */
  ordered: boolean;
}

/** What a model name resolved to. */
export interface Resolution {
  kind: 'model' | 'alias' | 'tier' | 'auto';
  chain: ChainStep[];
  /** The alias's own privacy, when it sets one. */
  privacy?: Privacy;
}

/** Every model id the swarm can serve now: on some node's backend, and from cloud providers. */
export interface ModelCatalogue {
  local: readonly string[];
  cloud: readonly string[];
}

/** The part of `routing` config resolution reads. */
export interface ResolveConfig {
  aliases: Readonly<Record<string, { models: readonly string[]; privacy?: Privacy | undefined }>>;
  tiers: Readonly<Record<Tier, readonly string[]>>;
  fallback: readonly Tier[];
}

// Models that answer embeddings or rerank requests only: never picked by an unconfigured tier.
const NOT_GENERATIVE = /embed|rerank/i;

/**
 * The catalogue from peer views (every compatible node still known, dead and left ones too, so a
 * request for their models is told why they cannot serve or waits for them; healthy backends)
 * and cloud providers.
 */
export function modelCatalogue(
  views: readonly WirePeerView[],
  providers: readonly { models: readonly string[] }[],
): ModelCatalogue {
  const local = new Set<string>();
  for (const view of views) {
    if (!view.node || !view.compatible) continue;
    for (const backend of view.node.backends) {
      if (backend.healthy) for (const model of backend.models) local.add(model.id);
    }
  }
  const cloud = new Set<string>();
  for (const provider of providers) for (const model of provider.models) cloud.add(model);
  return { local: [...local].sort(), cloud: [...cloud].sort() };
}

/** The aliases and tiers that some model of the catalogue can serve now (what /v1/models lists). */
export function servableNames(
  catalogue: ModelCatalogue,
  config: ResolveConfig,
): { aliases: string[]; tiers: Tier[] } {
  const present = new Set([...catalogue.local, ...catalogue.cloud]);
  const any = (models: readonly string[]) => models.some((model) => present.has(model));
  return {
    aliases: Object.keys(config.aliases).filter((alias) => any(config.aliases[alias]!.models)),
    tiers: TIERS.filter((tier) => any(tierStep(tier, catalogue, config).models)),
  };
}

/** The privacy an alias sets for requests naming it; null for any other name. */
export function aliasPrivacy(name: string, config: Pick<ResolveConfig, 'aliases'>): Privacy | null {
  return Object.hasOwn(config.aliases, name) ? (config.aliases[name]!.privacy ?? null) : null;
}

/**
 * True when the name leaves the choice of model to swarmd (`auto`, a tier, an alias, or no
 * name): only then may the quality gate judge replies. A concrete id gets its model's reply as is.
 */
export function swarmChoosesModel(name: unknown, config: Pick<ResolveConfig, 'aliases'>): boolean {
  if (typeof name !== 'string' || name === '' || name === 'auto') return true;
  return (TIERS as readonly string[]).includes(name) || Object.hasOwn(config.aliases, name);
}

/**
 * Resolve a model name to its chain. `autoTiers` is the tier list for `auto` (from
 * classify + tierFor). Throws SwarmError MODEL_NOT_FOUND for a name nothing stands for.
 */
export function resolveModelName(
  name: string,
  catalogue: ModelCatalogue,
  config: ResolveConfig,
  autoTiers: readonly Tier[] = ['deep'],
): Resolution {
  if (name === 'auto') {
    const steps = autoTiers.map((tier) => tierStep(tier, catalogue, config));
    return { kind: 'auto', chain: withFallback(steps, config, catalogue) };
  }
  if ((TIERS as readonly string[]).includes(name)) {
    const steps = [tierStep(name as Tier, catalogue, config)];
    return { kind: 'tier', chain: withFallback(steps, config, catalogue) };
  }
  if (Object.hasOwn(config.aliases, name)) {
    const alias = config.aliases[name]!;
    const steps: ChainStep[] = [{ tier: null, models: [...alias.models], ordered: true }];
    return {
      kind: 'alias',
      chain: withFallback(steps, config, catalogue),
      ...(alias.privacy !== undefined && { privacy: alias.privacy }),
    };
  }
  const concrete = concreteId(name, catalogue);
  if (concrete !== null) {
    const tier = TIERS.find((t) => config.tiers[t].includes(concrete)) ?? null;
    return { kind: 'model', chain: [{ tier, models: [concrete], ordered: true }] };
  }
  throw new SwarmError(ErrorCodes.MODEL_NOT_FOUND, notFoundMessage(name, catalogue, config));
}

function concreteId(name: string, catalogue: ModelCatalogue): string | null {
  if (catalogue.local.includes(name) || catalogue.cloud.includes(name)) return name;
  if (!name.includes(':') && catalogue.local.includes(`${name}:latest`)) return `${name}:latest`;
  return null;
}

function tierStep(tier: Tier, catalogue: ModelCatalogue, config: ResolveConfig): ChainStep {
  const configured = config.tiers[tier];
  if (configured.length > 0) return { tier, models: [...configured], ordered: true };
  const every = tier === 'cloud' ? catalogue.cloud : catalogue.local;
  return { tier, models: every.filter((model) => !NOT_GENERATIVE.test(model)), ordered: false };
}

function withFallback(steps: ChainStep[], config: ResolveConfig, catalogue: ModelCatalogue): ChainStep[] {
  const present = new Set(steps.map((step) => step.tier).filter((tier) => tier !== null));
  const last = steps.at(-1)?.tier ?? null;
  const at = last === null ? -1 : config.fallback.indexOf(last);
  const rest = config.fallback.slice(at + 1).filter((tier) => !present.has(tier));
  return [...steps, ...rest.map((tier) => tierStep(tier, catalogue, config))];
}

function notFoundMessage(name: string, catalogue: ModelCatalogue, config: ResolveConfig): string {
  const models = [...catalogue.local, ...catalogue.cloud];
  const names = ['auto', ...TIERS, ...Object.keys(config.aliases), ...models.slice(0, 8)];
  const more = models.length > 8 ? `, and ${models.length - 8} more (GET /v1/models lists them all)` : '';
  return `model ${JSON.stringify(name.slice(0, 200))} is neither a model any node of the swarm offers nor an alias or tier; try one of: ${names.join(', ')}${more}`;
}
