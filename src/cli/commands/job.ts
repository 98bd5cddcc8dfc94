// `swarmctl job <id>`: a job's full report — what was tried, by which model on which node,
// what failed last, and the passing change or the best candidate diff. With --watch, follow a
// running job's progress first.
import type { JobEvent, JobReport } from '../../jobs/types.js';
import { type DaemonCommand, ExitCodes, printJson } from '../types.js';
import { eventLine, readJson, reportText } from './job-output.js';

export const jobCommand: DaemonCommand = async (client, opts, io) => {
  const id = opts.args[0] ?? '';
  if (opts.options['watch'] === true) {
    for await (const text of client.watchJob(id)) {
      const event = readJson<JobEvent>(text, 'job event');
      if (!opts.json) io.out(eventLine(event));
    }
  }
  const report = readJson<JobReport>((await client.getJob(id)).json, 'job report');
  if (opts.json) printJson(io, report);
  else io.out(reportText(report));
  return ExitCodes.OK;
};
