// `swarmctl jobs`: this node's recent coding jobs, newest first.
import type { JobSummary } from '../../jobs/types.js';
import { type DaemonCommand, ExitCodes, printJson } from '../types.js';
import { jobsTable, readJson } from './job-output.js';

export const jobsCommand: DaemonCommand = async (client, opts, io) => {
  const { jobs } = readJson<{ jobs: JobSummary[] }>((await client.listJobs()).json, 'job list');
  if (opts.json) printJson(io, { jobs });
  else io.out(jobsTable(jobs, Date.now()));
  return ExitCodes.OK;
};
