// `swarmctl doctor`: the daemon's self-checks; exit 1 when one fails.
import { doctorJson } from '../json.js';
import { renderDoctor } from '../render.js';
import { type DaemonCommand, ExitCodes, printJson } from '../types.js';

/** Print the doctor report (or DoctorJson); exit code 1 when any check failed. */
export const doctorCommand: DaemonCommand = async (client, opts, io) => {
  const data = doctorJson(await client.doctor());
  if (opts.json) printJson(io, data);
  else io.out(renderDoctor(data));
  return data.ok ? ExitCodes.OK : ExitCodes.FAILED;
};
