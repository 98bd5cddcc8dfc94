// `swarmctl pause`, `resume` and `drain`: take this box out of the swarm's work for a while
// (gaming, maintenance) or for good, and bring it back.
import { ErrorCodes, SwarmError } from '../../errors.js';
import { formatDuration, parseDuration } from '../../util/duration.js';
import { type ActivityJson, activityReportJson } from '../json.js';
import { type CommandOptions, type DaemonCommand, ExitCodes, printJson } from '../types.js';

/** The longest --grace accepted (a drain must finish before systemd's stop timeout anyway). */
const MAX_GRACE_MS = 3_600_000;

/** --grace as ms; null when not given. Throws ARGS_INVALID naming the value and the forms accepted. */
export function graceOption(opts: CommandOptions): number | null {
  const raw = opts.options.grace;
  if (raw === undefined || raw === false) return null;
  const ms = typeof raw === 'string' ? parseDuration(raw) : null;
  if (ms === null || ms > MAX_GRACE_MS) {
    throw new SwarmError(
      ErrorCodes.ARGS_INVALID,
      `--grace ${JSON.stringify(raw)} is not a duration up to 1h; write it like 0s, 500ms, 30s or 2m`,
    );
  }
  return ms;
}

/** Stop taking work; print what still runs (and, with --unload, what each backend freed). */
export const pauseCommand: DaemonCommand = async (client, opts, io) => {
  const grace = graceOption(opts);
  const unload = opts.options.unload === true;
  const wait = opts.options.wait === true;
  const reply = activityReportJson(
    await client.pause({ graceMs: grace ?? 0, defaultGrace: grace === null, wait, unload }),
  );
  if (opts.json) printJson(io, reply);
  else io.out(renderActivity('paused', reply, { waited: wait || unload, grace }));
  return unload && reply.unload.some((entry) => entry.outcome === 'failed') ? ExitCodes.FAILED : ExitCodes.OK;
};

/** End a manual pause. */
export const resumeCommand: DaemonCommand = async (client, opts, io) => {
  const reply = activityReportJson(await client.resume());
  if (opts.json) printJson(io, reply);
  else io.out(renderActivity('resumed', reply, { waited: false, grace: null }));
  return ExitCodes.OK;
};

/** Pause, wait until drained, then the daemon stops. */
export const drainCommand: DaemonCommand = async (client, opts, io) => {
  const grace = graceOption(opts);
  const reply = activityReportJson(await client.drain({ graceMs: grace ?? 0, defaultGrace: grace === null }));
  if (opts.json) printJson(io, reply);
  else io.out(renderActivity('drained', reply, { waited: true, grace }));
  return ExitCodes.OK;
};

/** The human lines for a pause/resume/drain reply. Pure. */
export function renderActivity(
  verb: 'paused' | 'resumed' | 'drained',
  reply: ActivityJson,
  how: { waited: boolean; grace: number | null },
): string {
  const lines: string[] = [];
  const state = reply.reason ? `${reply.activity} (${reply.reason})` : reply.activity;
  if (verb === 'resumed') {
    lines.push(
      reply.activity === 'active'
        ? 'resumed: this node takes work again'
        : `still ${state}: an automatic pause ends by itself once the box is idle for gaming.autoPause.quietPeriod`,
    );
  } else if (verb === 'drained') {
    lines.push(`drained: ${describeDrain(reply)}; swarmd is stopping and leaves the swarm`);
  } else {
    lines.push(`${state}: peers no longer send work to this node`);
    const grace = how.grace === null ? 'shutdown.drainGrace' : formatDuration(how.grace);
    if (how.waited) lines.push(describeDrain(reply));
    else if (reply.inflight > 0)
      lines.push(
        `${reply.inflight} request(s) still running may finish within ${grace}; then they are handed back (swarmctl pause --wait waits)`,
      );
    else lines.push('nothing was running');
  }
  for (const entry of reply.unload) {
    const what =
      entry.outcome === 'unloaded'
        ? entry.models.length > 0
          ? `unloaded ${entry.models.join(', ')}`
          : 'nothing was loaded'
        : entry.outcome === 'unsupported'
          ? `cannot unload: ${entry.detail ?? 'not supported'}`
          : `unload failed: ${entry.detail ?? 'unknown error'}`;
    lines.push(`  ${entry.backend}: ${what}`);
  }
  return lines.join('\n');
}

function describeDrain(reply: ActivityJson): string {
  const handed = reply.handedBack > 0 ? `; ${reply.handedBack} handed back to other nodes` : '';
  return reply.drained
    ? `nothing of this node's work runs any more${handed}`
    : `${reply.inflight} request(s) still running${handed}`;
}
