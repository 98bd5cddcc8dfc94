// `swarmctl cancel <id>`: stop a running job (its running step is stopped, its workspaces removed).
import type { JobReport } from '../../jobs/types.js';
import { type DaemonCommand, ExitCodes, printJson } from '../types.js';
import { readJson } from './job-output.js';

export const cancelCommand: DaemonCommand = async (client, opts, io) => {
  const report = readJson<JobReport>((await client.cancelJob(opts.args[0] ?? '')).json, 'job report');
  if (opts.json) printJson(io, report);
  else io.out(`job ${report.id} ${report.state}: ${report.message}`);
  return ExitCodes.OK;
};
