// `swarmctl models`: every model the swarm offers and where it is loaded.
import { modelsJson } from '../json.js';
import { renderModels } from '../render.js';
import { type DaemonCommand, ExitCodes, printJson } from '../types.js';

/** Print the models table (or ModelsJson). */
export const modelsCommand: DaemonCommand = async (client, opts, io) => {
  const data = modelsJson(await client.listModels());
  if (opts.json) printJson(io, data);
  else io.out(renderModels(data));
  return ExitCodes.OK;
};
