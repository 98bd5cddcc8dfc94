// `swarmctl apply <id>`: write a passing job's change into the repository's working tree, only
// when it applies cleanly and no file it touches changed since the job started.
import type { JobReport } from '../../jobs/types.js';
import { type DaemonCommand, ExitCodes, printJson } from '../types.js';
import { readJson } from './job-output.js';

export const applyCommand: DaemonCommand = async (client, opts, io) => {
  const report = readJson<JobReport>((await client.applyJob(opts.args[0] ?? '')).json, 'job report');
  if (opts.json) printJson(io, report);
  else io.out(`applied job ${report.id} to ${report.repo}: ${report.result?.files.join(', ') ?? ''}`);
  return ExitCodes.OK;
};
