// The job methods of a fake ControlClient for tests that do not use them: each one fails.
import type { ControlClient } from '../../src/cli/control-client.js';

type JobMethods = 'runJob' | 'watchJob' | 'listJobs' | 'getJob' | 'cancelJob' | 'applyJob';

const unused = (): never => {
  throw new Error('job methods are not used by this test');
};

/** Spread into a fake ControlClient. */
export const noJobs: Pick<ControlClient, JobMethods> = {
  runJob: unused,
  watchJob: unused,
  listJobs: unused,
  getJob: unused,
  cancelJob: unused,
  applyJob: unused,
};
