// The swarm-wide model catalogue built from peer views. Pure.
import type { WireCatalogueEntry, WirePeerView } from '../rpc/wire.js';

/** Every model any alive node offers, with the nodes that have it (loaded first). */
export function buildCatalogue(views: readonly WirePeerView[]): WireCatalogueEntry[] {
  const byModel = new Map<string, WireCatalogueEntry>();
  for (const view of views) {
    if (!view.node || (view.state !== 'alive' && view.state !== 'suspect') || !view.compatible) continue;
    for (const backend of view.node.backends) {
      if (!backend.healthy) continue;
      for (const model of backend.models) {
        let entry = byModel.get(model.id);
        if (!entry) {
          entry = { model: model.id, holders: [] };
          byModel.set(model.id, entry);
        }
        entry.holders.push({
          nodeId: view.node.id,
          nodeName: view.node.name,
          backend: backend.id,
          loaded: model.loaded,
          contextLength: model.contextLength,
        });
      }
    }
  }
  const entries = [...byModel.values()].sort((a, b) => a.model.localeCompare(b.model));
  for (const entry of entries) {
    entry.holders.sort((a, b) => Number(b.loaded) - Number(a.loaded) || a.nodeName.localeCompare(b.nodeName));
  }
  return entries;
}
